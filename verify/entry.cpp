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
  // Each thread remembers the fields schema of every known type (only known
  // ones: a hostile ledger's made-up types must not grow this).
  struct Known {
    const JsonSchema* schema = nullptr;
    std::string what; // "<type> fields"
  };
  thread_local std::map<std::string, Known, std::less<>> known;
  auto it = known.find(type);
  if (it == known.end()) {
    const std::string name = fmt::format("entries/{}.schema.json", type);
    if (!schemas::find(name)) {
      return fail(Errc::invalid_input, fmt::format("unknown entry type '{}'", type));
    }
    it = known.emplace(std::string(type), Known{&schema_named(name), fmt::format("{} fields", type)})
           .first;
  }
  return it->second.schema->check(fields, it->second.what);
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
  // The schema holds, so every member below is there with its type; the
  // strings are moved out (j is not used again).
  auto take = [&j](const char* name) { return std::move(j.at(name).get_ref<std::string&>()); };
  Entry e;
  e.origin = take("origin");
  e.seq = j.at("seq").get<uint64_t>();
  auto prev = hash_from_hex(j.at("prev").get_ref<const std::string&>());
  if (!prev) {
    return fail(Errc::corrupt, "entry prev is not a SHA-256 hex digest");
  }
  e.prev = *prev;
  e.type = take("type");
  e.t_ms = j.at("t_ms").get<int64_t>();
  e.actor = take("actor");
  e.kid = take("kid");
  e.incident = take("incident");
  e.fields = std::move(j.at("fields"));
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

void signed_message_into(std::string_view bytes, std::string& out) {
  out.assign(k_entry_context);
  out.append(bytes);
}

Hash256 entry_leaf_hash(std::string_view bytes) {
  return merkle::leaf_hash(as_bytes(bytes));
}

Hash256 genesis_prev() {
  return Hash256{};
}

} // namespace custody::verify
