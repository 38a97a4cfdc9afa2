#include "verify/entry.hpp"

#include "common/json_schema.hpp"
#include "common/merkle.hpp"
#include "schemas/embedded.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>

namespace custody::verify {

namespace {

// Returns the parsed embedded schema `name`; a name that is not embedded (or,
// impossibly, does not parse: schemas_test.cpp parses every one) yields a
// schema that rejects everything. Parsed once per name, then shared.
const JsonSchema& schema_named(const std::string& name) {
  // Each thread remembers the schemas it has used, so that threads decoding
  // entries in parallel (the verifier) do not queue on the lock.
  thread_local std::map<std::string, const JsonSchema*> seen;
  if (auto known = seen.find(name); known != seen.end()) {
    return *known->second;
  }
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<JsonSchema>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto text = schemas::find(name);
    auto parsed = text ? JsonSchema::parse(*text) : Result<JsonSchema>(fail(Errc::not_found, name));
    it = cache
           .emplace(name, std::make_unique<JsonSchema>(parsed ? std::move(*parsed)
                                                              : JsonSchema(Json(false))))
           .first;
  }
  seen.emplace(name, it->second.get());
  return *it->second;
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
  Json& j = *parsed;
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
  e.fields = std::move(j.at("fields")); // j is not used again
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
