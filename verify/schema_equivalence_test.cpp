// The JSON Schema validator's indexed fast path (common/json_schema.cpp)
// against the algorithm it replaced, kept here as the reference (the code of
// commit e1c2d70, changed only in its class name and formatting):
// for every schema custody ships and thousands of values derived from valid
// ledger entries by deleting, replacing and adding members, both must return
// exactly the same violations, in the same order, with the same text.
#include "common/digest.hpp"
#include "common/json_schema.hpp"
#include "common/time.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <regex>

#include "schemas/embedded.hpp"

namespace custody::reference {

using nlohmann::json;

// ---- the validator as it was before the index ----
class ReferenceSchema {
public:
  // Wraps schema document `root`; validation starts at `root` itself, or at
  // the JSON pointer `entry` inside it when given (e.g. "/$defs/collect").
  explicit ReferenceSchema(nlohmann::json root, std::string entry = "");
  // Parses `text` as a schema document.
  static Result<ReferenceSchema> parse(std::string_view text,
                                       std::string entry = "");

  // Returns the violations of `value` ("<json pointer>: <what>"), empty when
  // valid.
  [[nodiscard]] std::vector<std::string>
  validate(const nlohmann::json& value) const;
  // As validate(), folded into one Errc::invalid_input error naming `what`.
  [[nodiscard]] Result<void> check(const nlohmann::json& value,
                                   std::string_view what) const;

private:
  void walk(const nlohmann::json& schema,
            const nlohmann::json& value,
            const std::string& path,
            std::vector<std::string>& errors,
            int depth) const;
  const nlohmann::json* resolve(const std::string& ref) const;
  bool regex_search(const std::string& pattern, const std::string& text) const;

  struct RegexCache {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const std::regex>> regexes;
  };

  std::shared_ptr<const nlohmann::json> m_root;
  std::string m_entry;
  std::shared_ptr<RegexCache> m_cache = std::make_shared<RegexCache>();
};

namespace {

bool type_matches(const std::string& type, const json& v) {
  if (type == "object") {
    return v.is_object();
  }
  if (type == "array") {
    return v.is_array();
  }
  if (type == "string") {
    return v.is_string();
  }
  if (type == "integer") {
    return v.is_number_integer();
  }
  if (type == "number") {
    return v.is_number();
  }
  if (type == "boolean") {
    return v.is_boolean();
  }
  if (type == "null") {
    return v.is_null();
  }
  return false;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

std::string short_value(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) {
    s = s.substr(0, 57) + "...";
  }
  return s;
}

// JSON numbers compare by value whatever their storage (int/uint/float).
bool json_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      return a.get<double>() == b.get<double>();
    }
    if (a.is_number_unsigned() || b.is_number_unsigned()) {
      return a.dump() == b.dump();
    }
    return a.get<int64_t>() == b.get<int64_t>();
  }
  return a == b;
}

} // namespace

ReferenceSchema::ReferenceSchema(json root, std::string entry)
    : m_root(std::make_shared<const json>(std::move(root))),
      m_entry(std::move(entry)) {}

Result<ReferenceSchema> ReferenceSchema::parse(std::string_view text,
                                               std::string entry) {
  json root = json::parse(text.begin(), text.end(), nullptr, false);
  if (root.is_discarded()) {
    return fail(Errc::invalid_input, "schema is not valid JSON");
  }
  return ReferenceSchema(std::move(root), std::move(entry));
}

const json* ReferenceSchema::resolve(const std::string& ref) const {
  if (ref.empty() || ref[0] != '#') {
    return nullptr;
  }
  try {
    const json::json_pointer ptr(ref.substr(1));
    if (!m_root->contains(ptr)) {
      return nullptr;
    }
    return &m_root->at(ptr);
  } catch (const json::exception&) {
    return nullptr;
  }
}

bool ReferenceSchema::regex_search(const std::string& pattern,
                                   const std::string& text) const {
  std::shared_ptr<const std::regex> re;
  {
    std::lock_guard lock(m_cache->mutex);
    auto it = m_cache->regexes.find(pattern);
    if (it == m_cache->regexes.end()) {
      try {
        it = m_cache->regexes
                 .emplace(pattern, std::make_shared<const std::regex>(pattern))
                 .first;
      } catch (const std::regex_error&) {
        return false; // an invalid pattern matches nothing
      }
    }
    re = it->second;
  }
  return std::regex_search(text, *re);
}

std::vector<std::string> ReferenceSchema::validate(const json& value) const {
  std::vector<std::string> errors;
  const json* start = m_root.get();
  if (!m_entry.empty()) {
    start = resolve("#" + m_entry);
    if (start == nullptr) {
      errors.push_back(fmt::format("schema has no {}", m_entry));
      return errors;
    }
  }
  walk(*start, value, "", errors, 0);
  return errors;
}

Result<void> ReferenceSchema::check(const json& value,
                                    std::string_view what) const {
  const auto errors = validate(value);
  if (errors.empty()) {
    return {};
  }
  std::string msg =
      fmt::format("{} does not match its schema: {}", what, errors[0]);
  if (errors.size() > 1) {
    msg += fmt::format(" (and {} more)", errors.size() - 1);
  }
  return fail(Errc::invalid_input, std::move(msg));
}

void ReferenceSchema::walk(const json& schema,
                           const json& v,
                           const std::string& path,
                           std::vector<std::string>& errors,
                           int depth) const {
  const std::string where = path.empty() ? "/" : path;
  if (depth > 64) {
    errors.push_back(where + ": schema recursion too deep");
    return;
  }
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) {
      errors.push_back(where + ": no value is allowed here");
    }
    return;
  }
  if (!schema.is_object()) {
    return;
  }
  if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
    const json* target = resolve(it->get<std::string>());
    if (target == nullptr) {
      errors.push_back(where + ": unresolvable $ref " + it->get<std::string>());
    } else {
      walk(*target, v, path, errors, depth + 1);
    }
  }
  if (v.is_null() && schema.value("nullable", false)) {
    return;
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    if (it->is_string()) {
      ok = type_matches(it->get<std::string>(), v);
    } else if (it->is_array()) {
      for (const auto& t : *it) {
        ok = ok || (t.is_string() && type_matches(t.get<std::string>(), v));
      }
    }
    if (!ok) {
      errors.push_back(fmt::format(
          "{}: expected type {}, got {}", where, it->dump(), short_value(v)));
      return;
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    for (const auto& e : *it) {
      found = found || json_equal(e, v);
    }
    if (!found) {
      errors.push_back(fmt::format(
          "{}: {} is not one of {}", where, short_value(v), it->dump()));
    }
  }
  if (auto it = schema.find("const");
      it != schema.end() && !json_equal(*it, v)) {
    errors.push_back(fmt::format("{}: must be {}", where, it->dump()));
  }
  if (v.is_object()) {
    if (auto it = schema.find("required");
        it != schema.end() && it->is_array()) {
      for (const auto& name : *it) {
        if (name.is_string() && !v.contains(name.get<std::string>())) {
          errors.push_back(fmt::format(
              "{}: missing required '{}'", where, name.get<std::string>()));
        }
      }
    }
    if (auto it = schema.find("minProperties");
        it != schema.end() && it->is_number_integer()
        && v.size() < it->get<size_t>()) {
      errors.push_back(fmt::format(
          "{}: fewer than {} properties", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxProperties");
        it != schema.end() && it->is_number_integer()
        && v.size() > it->get<size_t>()) {
      errors.push_back(
          fmt::format("{}: more than {} properties", where, it->get<size_t>()));
    }
    const json* props = nullptr;
    if (auto it = schema.find("properties");
        it != schema.end() && it->is_object()) {
      props = &*it;
    }
    const auto additional = schema.find("additionalProperties");
    for (const auto& [key, member] : v.items()) {
      const std::string child = path + "/" + key;
      if (props != nullptr && props->contains(key)) {
        walk(props->at(key), member, child, errors, depth + 1);
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          errors.push_back(
              fmt::format("{}: unexpected property '{}'", where, key));
        } else if (additional->is_object()) {
          walk(*additional, member, child, errors, depth + 1);
        }
      }
    }
  }
  if (v.is_array()) {
    if (auto it = schema.find("items"); it != schema.end()) {
      size_t i = 0;
      for (const auto& e : v) {
        walk(*it, e, fmt::format("{}/{}", path, i++), errors, depth + 1);
      }
    }
    if (auto it = schema.find("minItems"); it != schema.end()
                                           && it->is_number_integer()
                                           && v.size() < it->get<size_t>()) {
      errors.push_back(
          fmt::format("{}: fewer than {} items", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxItems"); it != schema.end()
                                           && it->is_number_integer()
                                           && v.size() > it->get<size_t>()) {
      errors.push_back(
          fmt::format("{}: more than {} items", where, it->get<size_t>()));
    }
  }
  if (v.is_number()) {
    if (auto it = schema.find("minimum");
        it != schema.end() && it->is_number()) {
      const bool below =
          (v.is_number_integer() && it->is_number_integer())
              ? (v.is_number_unsigned() ? false
                                        : v.get<int64_t>() < it->get<int64_t>())
              : v.get<double>() < it->get<double>();
      if (below) {
        errors.push_back(fmt::format(
            "{}: {} is below the minimum {}", where, v.dump(), it->dump()));
      }
    }
    if (auto it = schema.find("maximum");
        it != schema.end() && it->is_number()) {
      const bool above = (v.is_number_integer() && it->is_number_integer()
                          && !v.is_number_unsigned())
                             ? v.get<int64_t>() > it->get<int64_t>()
                             : v.get<double>() > it->get<double>();
      if (above) {
        errors.push_back(fmt::format(
            "{}: {} is above the maximum {}", where, v.dump(), it->dump()));
      }
    }
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (auto it = schema.find("minLength");
        it != schema.end() && it->is_number_integer()
        && code_points(s) < it->get<size_t>()) {
      errors.push_back(fmt::format(
          "{}: shorter than {} characters", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxLength");
        it != schema.end() && it->is_number_integer()
        && code_points(s) > it->get<size_t>()) {
      errors.push_back(fmt::format(
          "{}: longer than {} characters", where, it->get<size_t>()));
    }
    if (auto it = schema.find("pattern");
        it != schema.end() && it->is_string()
        && !regex_search(it->get<std::string>(), s)) {
      errors.push_back(fmt::format(
          "{}: {} does not match {}", where, short_value(v), it->dump()));
    }
    if (auto it = schema.find("format");
        it != schema.end() && *it == "date-time" && !parse_rfc3339_ns(s)) {
      errors.push_back(fmt::format(
          "{}: {} is not an RFC 3339 date-time", where, short_value(v)));
    }
  }
  if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
    for (const auto& sub : *it) {
      walk(sub, v, path, errors, depth + 1);
    }
  }
  if (auto it = schema.find("anyOf"); it != schema.end() && it->is_array()) {
    bool any = false;
    for (const auto& sub : *it) {
      std::vector<std::string> sub_errors;
      walk(sub, v, path, sub_errors, depth + 1);
      any = any || sub_errors.empty();
    }
    if (!any) {
      errors.push_back(where + ": matches none of anyOf");
    }
  }
  if (auto it = schema.find("oneOf"); it != schema.end() && it->is_array()) {
    int matches = 0;
    for (const auto& sub : *it) {
      std::vector<std::string> sub_errors;
      walk(sub, v, path, sub_errors, depth + 1);
      matches += sub_errors.empty() ? 1 : 0;
    }
    if (matches != 1) {
      errors.push_back(fmt::format(
          "{}: matches {} of oneOf, expected exactly 1", where, matches));
    }
  }
  if (auto it = schema.find("not"); it != schema.end()) {
    std::vector<std::string> sub_errors;
    walk(*it, v, path, sub_errors, depth + 1);
    if (sub_errors.empty()) {
      errors.push_back(where + ": matches a schema it must not match");
    }
  }
}

// ---- end of the reference ----

} // namespace custody::reference

using namespace custody;
using nlohmann::json;

namespace {

std::vector<json> alternatives() {
  return {json(nullptr),
          json(true),
          json(0),
          json(-1),
          json(1.5),
          json(""),
          json("x"),
          json(std::string(300, 'y')),
          json("INC-2026-12-03-1"),
          json(std::string(64, 'a')),
          json::array(),
          json::array({"vercel"}),
          json::object(),
          json({{"k", 1}}),
          json(9223372036854775807LL),
          json(18446744073709551615ULL),
          json("\xc3\xa9t\xc3\xa9"),
          json("2026-12-03T01:02:03Z")};
}

// Returns `v` and values derived from it: every member (recursively) deleted,
// replaced by each alternative, plus an unexpected member added.
void variants(const json& v, std::vector<json>& out, int depth = 0) {
  out.push_back(v);
  if (!v.is_object() || depth > 2) {
    return;
  }
  json extra = v;
  extra["unexpected"] = 1;
  out.push_back(extra);
  for (const auto& [k, member] : v.items()) {
    json removed = v;
    removed.erase(k);
    out.push_back(removed);
    for (const json& alt : alternatives()) {
      json replaced = v;
      replaced[k] = alt;
      out.push_back(replaced);
    }
    if (member.is_object()) {
      std::vector<json> inner;
      variants(member, inner, depth + 1);
      for (json& i : inner) {
        json nested = v;
        nested[k] = std::move(i);
        out.push_back(nested);
      }
    }
  }
}

json samples_for(const std::string& name) {
  const std::string hex = to_hex(sha256("x"));
  const std::string inc = "INC-2026-12-03-1";
  std::map<std::string, json> fields = {
      {"entries/vault_init.schema.json",
       {{"ledger_key",
         "custody.test/"
         "v+0a1b2c3d+AY7f6pALEhNNThCVGUcwRYhn1sD8yzFybvyr8Nhs60U8"},
        {"public_key", "1m5+yvDYiD1zdAF6R/h1TpmaVXxlKDjEZdOUI9Diqjc="},
        {"tool", "custody"},
        {"tool_version", "1"},
        {"host", "h"}}},
      {"entries/key_register.schema.json",
       {{"subject", "bob"},
        {"kid", hex},
        {"public_key", "1m5+yvDYiD1zdAF6R/h1TpmaVXxlKDjEZdOUI9Diqjc="},
        {"comment", ""}}},
      {"entries/key_revoke.schema.json",
       {{"subject", "bob"}, {"kid", hex}, {"reason", "left"}}},
      {"entries/incident_open.schema.json",
       {{"id", inc},
        {"severity", "P1"},
        {"title", "t"},
        {"detected_at_ms", 1},
        {"reporter", "a"},
        {"commander", "a"},
        {"affected_systems", {"hetzner:server/1", "vercel"}},
        {"affected_customers", {"acme"}},
        {"playbook", ""},
        {"description", ""},
        {"root_cause", ""}}},
      {"entries/incident_status.schema.json",
       {{"from", "open"}, {"to", "contained"}, {"at_ms", 5}, {"note", ""}}},
      {"entries/incident_update.schema.json",
       {{"set", {{"title", "x"}, {"affected_systems", {"stripe"}}}},
        {"reason", "r"}}},
      {"entries/collect.schema.json",
       {{"item", inc + "-E1"},
        {"n", 1},
        {"kind", "log_export"},
        {"sha256", hex},
        {"size", 1},
        {"source", "vercel"},
        {"method", "m"},
        {"tool", "custody"},
        {"tool_version", "1"},
        {"collected_ms", 1},
        {"location", "vault"},
        {"original_name", "a"},
        {"notes", ""}}},
      {"entries/access.schema.json",
       {{"item", inc + "-E1"},
        {"action", "export"},
        {"purpose", "p"},
        {"destination", "/d"},
        {"host", "h"}}},
      {"entries/access_result.schema.json",
       {{"access_seq", 5},
        {"item", inc + "-E1"},
        {"outcome", "ok"},
        {"sha256", hex},
        {"size", 1},
        {"detail", ""}}},
      {"entries/verify.schema.json",
       {{"ledger_size", 5},
        {"root", hex},
        {"findings", 0},
        {"warnings", 1},
        {"first_bad_seq", nullptr},
        {"summary", "s"},
        {"rehash", true},
        {"stored_checkpoints", 2},
        {"latest_checkpoint", 5},
        {"external_checkpoints", {5}},
        {"objects", 1},
        {"bytes_hashed", 9},
        {"trust", "pinned"},
        {"tool", "custody"},
        {"tool_version", "1"}}},
  };
  if (name == "entry.schema.json") {
    return {{"v", 1},
            {"origin", "custody.test/v"},
            {"seq", 3},
            {"prev", hex},
            {"type", "collect"},
            {"t_ms", 1},
            {"actor", "alice"},
            {"kid", hex},
            {"incident", inc},
            {"fields", fields["entries/collect.schema.json"]}};
  }
  if (name == "incident.schema.json") {
    return {{"id", inc},
            {"severity", "P1"},
            {"title", "t"},
            {"status", "open"},
            {"detected_at", "2026-12-03T00:00:00.000Z"},
            {"contained_at", nullptr},
            {"history", json::array()},
            {"evidence_count", 0}};
  }
  if (name == "verify-report.schema.json") {
    return {
        {"format", 1},
        {"tool", "custody"},
        {"ok", true},
        {"ledger", {{"entries", 3}, {"root", hex}, {"first_bad_seq", nullptr}}},
        {"findings",
         json::array({{{"severity", "finding"},
                       {"code", "prev"},
                       {"seq", 3},
                       {"item", nullptr},
                       {"subject", "seq 3"},
                       {"message", "m"}}})},
        {"suppressed", {{"prev", 2}}}};
  }
  return fields.at(name);
}

} // namespace

TEST_CASE(
    "JsonSchema's indexed validator returns exactly what the reference "
    "algorithm returns") {
  const std::vector<std::string> names = {"entry.schema.json",
                                          "entries/vault_init.schema.json",
                                          "entries/key_register.schema.json",
                                          "entries/key_revoke.schema.json",
                                          "entries/incident_open.schema.json",
                                          "entries/incident_status.schema.json",
                                          "entries/incident_update.schema.json",
                                          "entries/collect.schema.json",
                                          "entries/access.schema.json",
                                          "entries/access_result.schema.json",
                                          "entries/verify.schema.json",
                                          "incident.schema.json",
                                          "verify-report.schema.json"};
  size_t compared = 0;
  size_t invalid = 0;
  for (const auto& name : names) {
    CAPTURE(name);
    const auto text = schemas::find(name);
    REQUIRE(text);
    const auto fast = JsonSchema::parse(*text);
    const auto ref = reference::ReferenceSchema::parse(*text);
    REQUIRE(fast);
    REQUIRE(ref);
    std::vector<json> values;
    variants(samples_for(name), values);
    for (const json& v : values) {
      const auto a = fast->validate(v);
      const auto b = ref->validate(v);
      if (a != b) {
        FAIL_CHECK("differs for ",
                   v.dump(),
                   ": fast ",
                   (a.empty() ? "valid" : a[0]),
                   ", reference ",
                   (b.empty() ? "valid" : b[0]));
      }
      invalid += b.empty() ? 0U : 1U;
      ++compared;
    }
  }
  MESSAGE(compared, " values compared, ", invalid, " of them invalid");
  CHECK(compared > 2000);
  CHECK(invalid > compared / 2);
}

TEST_CASE(
    "JsonSchema's indexed validator matches the reference on keyword edge "
    "cases") {
  const char* schemas[] = {
      R"({"$ref": "#/$defs/missing"})",
      R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})",
      R"({"type": 7})",
      R"({"type": ["string", 3, "null"]})",
      R"({"pattern": "([unclosed"})",
      R"({"properties": {"a": false}, "additionalProperties": {"type": "integer"}})",
      R"({"anyOf": [{"type": "string"}, {"minimum": 3}], "not": {"const": 4}})",
      R"({"items": {"oneOf": [{"type": "integer"}, {"minimum": 0}]}, "minItems": 1, "maxItems": 2})",
      R"({"minProperties": 2, "maxProperties": 3, "required": ["a", 5]})",
      R"({"type": "string", "minLength": 2, "maxLength": 3, "format": "date-time"})",
      R"({"maximum": 1.5, "minimum": -2})",
      R"({"properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
          "required": ["b", "z", "a", "b"], "minProperties": 3, "additionalProperties": false})",
      R"({"properties": {"b": {"maximum": 1}, "ab": {"const": 1}, "a": true},
          "required": ["ab", "a"], "maxProperties": 1, "additionalProperties": {"type": "string"}})",
      R"({"required": ["a", "c"], "additionalProperties": {"minimum": 2}})",
      R"({"type": "object", "required": ["a"]})",
      R"({"minLength": 1, "maxLength": 0})",
      R"({"minLength": 4, "maxLength": -1})",
      R"({"enum": ["a", 1, null, {"k": 1}, [1], 1.5, "ab", "a"]})",
      R"({"enum": ["ab", "\u00e9\u00e9", "2026-12-03T00:00:00Z"]})",
      R"({"enum": []})",
      R"({"enum": [18446744073709551615, -3, 4.0]})",
      R"({"minimum": 18446744073709551615})",
      R"({"maximum": -9223372036854775808, "minimum": -9223372036854775808})",
      R"({"minimum": 1e300, "maximum": -1e300})",
      R"({"minimum": 0, "maximum": 9223372036854775807})",
      R"({"maximum": 18446744073709551615, "minimum": 1.75})",
      R"({"minItems": -1, "maxProperties": -1, "maxLength": 1.5, "minProperties": 1.0})",
      R"({"minLength": 0, "maxLength": 2, "items": {"minLength": 3, "maxLength": 4}})",
      R"(true)",
      R"(false)",
  };
  const std::vector<json> values = {
      json(nullptr),
      json(4),
      json(-3),
      json(2),
      json(1.75),
      json("ab"),
      json("\xc3\xa9\xc3\xa9"),
      json("2026-12-03T00:00:00Z"),
      json(""),
      json("abcd"),
      json("\xc3\xa9\xc3\xa9\xc3\xa9"),
      json("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x"),
      json::array({"abc", "\xc3\xa9\xc3\xa9", "abcde", "\xc3\xa9\xc3\xa9\xc3\xa9"}),
      json::array({1}),
      json::array({1, -1, "x"}),
      json::array(),
      json({{"a", 1}}),
      json({{"a", 1}, {"b", "x"}}),
      json({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}),
      json({{"a", "x"}, {"ab", 2}, {"b", "y"}, {"c", 1}}),
      json({{"aa", "x"}, {"b", 1}, {"\xc3\xa9", 1}, {"", 0}}),
      json(18446744073709551615ULL),
      json(9223372036854775807LL),
      json(-9223372036854775807LL - 1),
      json(1),
      json::parse("1"),
      json(4.0),
      json(-1e300),
      json("a"),
      json({{"k", 1}}),
      json::array({json::array({1})})};
  for (const char* text : schemas) {
    CAPTURE(text);
    const auto fast = JsonSchema::parse(text);
    const auto ref = reference::ReferenceSchema::parse(text);
    REQUIRE(fast);
    for (const json& v : values) {
      CAPTURE(v.dump());
      CHECK(fast->validate(v) == ref->validate(v));
    }
  }
  // Code points are the bytes that are not UTF-8 continuation bytes, also in
  // invalid UTF-8 (which dump() refuses: these values stay out of CAPTURE).
  const std::vector<json> invalid_utf8 = {json("\x80\x80\x80\x80\x80"),
                                          json("a\x80\x80\x80\x80"),
                                          json("\x80\x80\x80\x80" "ab"),
                                          json::array({"\x80\x80\x80\x80", "\x80" "a\x80"})};
  for (const char* text : {R"({"minLength": 1, "maxLength": 0})",
                           R"({"minLength": 2, "maxLength": 1})",
                           R"({"minLength": 4, "maxLength": -1})",
                           R"({"items": {"minLength": 2, "maxLength": 3}})"}) {
    CAPTURE(text);
    const auto fast = JsonSchema::parse(text);
    const auto ref = reference::ReferenceSchema::parse(text);
    REQUIRE(fast);
    for (const json& v : invalid_utf8) {
      CHECK(fast->validate(v) == ref->validate(v));
    }
  }
}

TEST_CASE(
    "JsonSchema's indexed validator matches the reference with more than 64 "
    "required properties") {
  // The merge pass tracks the first 64 required properties in a bit mask;
  // the others are searched by name.
  json schema = {{"type", "object"}, {"additionalProperties", false}};
  json required = json::array();
  json full = json::object();
  for (int i = 0; i < 70; ++i) {
    const std::string name = fmt::format("p{:02}", 69 - i);
    schema["properties"][name] = {{"type", "integer"}};
    required.push_back(name);
    full[name] = i;
  }
  required.push_back("p03");
  required.push_back("missing");
  schema["required"] = required;
  const JsonSchema fast(schema);
  const reference::ReferenceSchema ref(schema);
  std::vector<json> values = {full, json::object()};
  for (const auto& [k, member] : full.items()) {
    json removed = full;
    removed.erase(k);
    values.push_back(removed);
    json wrong = full;
    wrong[k] = "x";
    values.push_back(wrong);
  }
  for (const json& v : values) {
    CAPTURE(v.dump());
    CHECK(fast.validate(v) == ref.validate(v));
  }
}

TEST_CASE(
    "JsonSchema's indexed validator matches the reference from an entry "
    "pointer") {
  const json schema = json::parse(R"({
    "$defs": {"item": {"type": "object", "required": ["n"],
                       "properties": {"n": {"$ref": "#/$defs/n"}}},
              "n": {"type": "integer", "minimum": 1},
              "yes": true, "no": false, "odd": 3}})");
  const std::vector<json> values = {json({{"n", 1}}), json({{"n", 0}}), json::object(), json(2),
                                    json(nullptr)};
  for (const char* entry :
       {"", "/$defs/item", "/$defs/n", "/$defs/yes", "/$defs/no", "/$defs/odd", "/$defs/none",
        "/bad~2pointer", "no-slash"}) {
    CAPTURE(entry);
    const JsonSchema fast(schema, entry);
    const reference::ReferenceSchema ref(schema, entry);
    for (const json& v : values) {
      CAPTURE(v.dump());
      CHECK(fast.validate(v) == ref.validate(v));
    }
  }
}
