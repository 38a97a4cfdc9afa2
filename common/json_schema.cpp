#include "common/json_schema.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

namespace custody {

using nlohmann::json;

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

JsonSchema::JsonSchema(json root, std::string entry)
  : m_root(std::make_shared<const json>(std::move(root))),
    m_entry(std::move(entry)) {}

Result<JsonSchema> JsonSchema::parse(std::string_view text, std::string entry) {
  json root = json::parse(text.begin(), text.end(), nullptr, false);
  if (root.is_discarded()) {
    return fail(Errc::invalid_input, "schema is not valid JSON");
  }
  return JsonSchema(std::move(root), std::move(entry));
}

const json* JsonSchema::resolve(const std::string& ref) const {
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

bool JsonSchema::regex_search(const std::string& pattern, const std::string& text) const {
  std::shared_ptr<const std::regex> re;
  {
    std::lock_guard lock(m_cache->mutex);
    auto it = m_cache->regexes.find(pattern);
    if (it == m_cache->regexes.end()) {
      try {
        it = m_cache->regexes.emplace(pattern, std::make_shared<const std::regex>(pattern)).first;
      } catch (const std::regex_error&) {
        return false; // an invalid pattern matches nothing
      }
    }
    re = it->second;
  }
  return std::regex_search(text, *re);
}

std::vector<std::string> JsonSchema::validate(const json& value) const {
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

Result<void> JsonSchema::check(const json& value, std::string_view what) const {
  const auto errors = validate(value);
  if (errors.empty()) {
    return {};
  }
  std::string msg = fmt::format("{} does not match its schema: {}", what, errors[0]);
  if (errors.size() > 1) {
    msg += fmt::format(" (and {} more)", errors.size() - 1);
  }
  return fail(Errc::invalid_input, std::move(msg));
}

void JsonSchema::walk(const json& schema, const json& v, const std::string& path,
                      std::vector<std::string>& errors, int depth) const {
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
      errors.push_back(fmt::format("{}: expected type {}, got {}", where, it->dump(),
                                   short_value(v)));
      return;
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    for (const auto& e : *it) {
      found = found || json_equal(e, v);
    }
    if (!found) {
      errors.push_back(fmt::format("{}: {} is not one of {}", where, short_value(v), it->dump()));
    }
  }
  if (auto it = schema.find("const"); it != schema.end() && !json_equal(*it, v)) {
    errors.push_back(fmt::format("{}: must be {}", where, it->dump()));
  }
  if (v.is_object()) {
    if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
      for (const auto& name : *it) {
        if (name.is_string() && !v.contains(name.get<std::string>())) {
          errors.push_back(fmt::format("{}: missing required '{}'", where, name.get<std::string>()));
        }
      }
    }
    if (auto it = schema.find("minProperties"); it != schema.end() && it->is_number_integer()
                                                && v.size() < it->get<size_t>()) {
      errors.push_back(fmt::format("{}: fewer than {} properties", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxProperties"); it != schema.end() && it->is_number_integer()
                                                && v.size() > it->get<size_t>()) {
      errors.push_back(fmt::format("{}: more than {} properties", where, it->get<size_t>()));
    }
    const json* props = nullptr;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) {
      props = &*it;
    }
    const auto additional = schema.find("additionalProperties");
    for (const auto& [key, member] : v.items()) {
      const std::string child = path + "/" + key;
      if (props != nullptr && props->contains(key)) {
        walk(props->at(key), member, child, errors, depth + 1);
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          errors.push_back(fmt::format("{}: unexpected property '{}'", where, key));
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
    if (auto it = schema.find("minItems"); it != schema.end() && it->is_number_integer()
                                           && v.size() < it->get<size_t>()) {
      errors.push_back(fmt::format("{}: fewer than {} items", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number_integer()
                                           && v.size() > it->get<size_t>()) {
      errors.push_back(fmt::format("{}: more than {} items", where, it->get<size_t>()));
    }
  }
  if (v.is_number()) {
    if (auto it = schema.find("minimum"); it != schema.end() && it->is_number()) {
      const bool below = (v.is_number_integer() && it->is_number_integer())
                           ? (v.is_number_unsigned() ? false : v.get<int64_t>() < it->get<int64_t>())
                           : v.get<double>() < it->get<double>();
      if (below) {
        errors.push_back(fmt::format("{}: {} is below the minimum {}", where, v.dump(), it->dump()));
      }
    }
    if (auto it = schema.find("maximum"); it != schema.end() && it->is_number()) {
      const bool above = (v.is_number_integer() && it->is_number_integer() && !v.is_number_unsigned())
                           ? v.get<int64_t>() > it->get<int64_t>()
                           : v.get<double>() > it->get<double>();
      if (above) {
        errors.push_back(fmt::format("{}: {} is above the maximum {}", where, v.dump(), it->dump()));
      }
    }
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number_integer()
                                            && code_points(s) < it->get<size_t>()) {
      errors.push_back(fmt::format("{}: shorter than {} characters", where, it->get<size_t>()));
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number_integer()
                                            && code_points(s) > it->get<size_t>()) {
      errors.push_back(fmt::format("{}: longer than {} characters", where, it->get<size_t>()));
    }
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()
                                          && !regex_search(it->get<std::string>(), s)) {
      errors.push_back(fmt::format("{}: {} does not match {}", where, short_value(v), it->dump()));
    }
    if (auto it = schema.find("format"); it != schema.end() && *it == "date-time"
                                         && !parse_rfc3339_ns(s)) {
      errors.push_back(fmt::format("{}: {} is not an RFC 3339 date-time", where, short_value(v)));
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
      errors.push_back(fmt::format("{}: matches {} of oneOf, expected exactly 1", where, matches));
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

} // namespace custody
