#include "verify/entry.hpp"

#include "common/json_schema.hpp"
#include "common/merkle.hpp"
#include "schemas/embedded.hpp"

#include <fmt/format.h>

#include <map>

namespace custody::verify {

namespace {

const JsonSchema& schema_named(const std::string& name) {
  // Built once on first use; the embedded texts are compiled in and valid
  // (schemas_test.cpp parses every one), so a parse failure here is a bug.
  static const std::map<std::string, JsonSchema> k_cache = [] {
    std::map<std::string, JsonSchema> m;
    for (const char* n : {"entry.schema.json", "entries/vault_init.schema.json",
                          "entries/key_register.schema.json", "entries/key_revoke.schema.json",
                          "entries/incident_open.schema.json", "entries/incident_status.schema.json",
                          "entries/incident_update.schema.json", "entries/collect.schema.json",
                          "entries/access.schema.json", "entries/access_result.schema.json"}) {
      auto text = schemas::find(n);
      auto parsed = JsonSchema::parse(text.value_or("false"));
      m.emplace(n, parsed ? std::move(*parsed) : JsonSchema(Json(false)));
    }
    return m;
  }();
  static const JsonSchema k_reject(Json(false));
  auto it = k_cache.find(name);
  return it == k_cache.end() ? k_reject : it->second;
}

Json to_json(const Entry& e) {
  return Json{{"v", k_entry_format},
              {"origin", e.origin},
              {"seq", e.seq},
              {"prev", to_hex(e.prev)},
              {"type", e.type},
              {"t_ms", e.t_ms},
              {"actor", e.actor},
              {"kid", e.kid},
              {"incident", e.incident},
              {"fields", e.fields}};
}

} // namespace

Result<void> check_fields(std::string_view type, const Json& fields) {
  const std::string name = fmt::format("entries/{}.schema.json", type);
  if (!schemas::find(name)) {
    return fail(Errc::invalid_input, fmt::format("unknown entry type '{}'", type));
  }
  return schema_named(name).check(fields, fmt::format("{} fields", type));
}

Result<std::string> encode_entry(const Entry& entry) {
  const Json j = to_json(entry);
  CUSTODY_TRY(schema_named("entry.schema.json").check(j, "entry"));
  CUSTODY_TRY(check_fields(entry.type, entry.fields));
  return cjson::encode(j);
}

Result<Entry> decode_entry(std::string_view bytes) {
  auto parsed = cjson::decode(bytes);
  if (!parsed) {
    return tl::unexpected(parsed.error());
  }
  const Json& j = *parsed;
  if (auto r = schema_named("entry.schema.json").check(j, "entry"); !r) {
    return fail(Errc::corrupt, r.error().message);
  }
  Entry e;
  e.origin = j.at("origin").get<std::string>();
  e.seq = j.at("seq").get<uint64_t>();
  auto prev = hash_from_hex(j.at("prev").get<std::string>());
  if (!prev) {
    return fail(Errc::corrupt, "entry prev is not a SHA-256 hex digest");
  }
  e.prev = *prev;
  e.type = j.at("type").get<std::string>();
  e.t_ms = j.at("t_ms").get<int64_t>();
  e.actor = j.at("actor").get<std::string>();
  e.kid = j.at("kid").get<std::string>();
  e.incident = j.at("incident").get<std::string>();
  e.fields = j.at("fields");
  if (auto r = check_fields(e.type, e.fields); !r) {
    return fail(Errc::corrupt, r.error().message);
  }
  return e;
}

std::string signed_message(std::string_view bytes) {
  std::string msg(k_entry_context);
  msg.append(bytes);
  return msg;
}

Hash256 entry_leaf_hash(std::string_view bytes) {
  return merkle::leaf_hash(as_bytes(bytes));
}

Hash256 genesis_prev() {
  return Hash256{};
}

} // namespace custody::verify
