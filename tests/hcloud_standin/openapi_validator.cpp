#include "tests/hcloud_standin/openapi_validator.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace custody::test {

using json = nlohmann::json;

namespace {

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

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
  return false;
}

const std::regex& date_time_re() {
  static const std::regex re(
      R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
  return re;
}

void check(const json& schema,
           const json& v,
           const json& root,
           const ValidationOptions& opt,
           const std::string& ptr,
           std::vector<std::string>& out);

const json& resolve(const json& schema, const json& root) {
  if (schema.is_object() && schema.contains("$ref")) {
    const std::string ref = schema.at("$ref").get<std::string>();
    if (!ref.starts_with("#")) {
      throw std::runtime_error("only local $ref is supported: " + ref);
    }
    return root.at(json::json_pointer(ref.substr(1)));
  }
  return schema;
}

void check(const json& schema_in,
           const json& v,
           const json& root,
           const ValidationOptions& opt,
           const std::string& ptr,
           std::vector<std::string>& out) {
  const json& schema = resolve(schema_in, root);
  if (!schema.is_object()) {
    return;
  }
  const std::string where = ptr.empty() ? "/" : ptr;
  if (auto all = schema.find("allOf"); all != schema.end()) {
    for (const auto& sub : *all) {
      check(sub, v, root, opt, ptr, out);
    }
  }
  for (const char* kw : {"anyOf", "oneOf"}) {
    if (auto alts = schema.find(kw); alts != schema.end()) {
      size_t ok = 0;
      for (const auto& sub : *alts) {
        std::vector<std::string> errs;
        check(sub, v, root, opt, ptr, errs);
        ok += errs.empty() ? 1U : 0U;
      }
      if (ok == 0 || (std::string(kw) == "oneOf" && ok > 1)) {
        out.push_back(
            fmt::format("{}: {} matched {} alternatives", where, kw, ok));
      }
    }
  }
  const bool nullable = schema.value("nullable", false);
  if (v.is_null()) {
    if (!nullable && schema.contains("type")) {
      out.push_back(fmt::format("{}: null but not nullable", where));
    }
    return;
  }
  if (auto t = schema.find("type");
      t != schema.end() && !type_matches(t->get<std::string>(), v)) {
    out.push_back(fmt::format("{}: expected {}, got {}",
                              where,
                              t->get<std::string>(),
                              v.type_name()));
    return;
  }
  if (auto e = schema.find("enum"); e != schema.end()) {
    if (std::find(e->begin(), e->end(), v) == e->end()) {
      out.push_back(
          fmt::format("{}: {} not in enum {}", where, v.dump(), e->dump()));
    }
  }
  if (v.is_number()) {
    if (auto m = schema.find("minimum");
        m != schema.end() && v.get<double>() < m->get<double>()) {
      out.push_back(
          fmt::format("{}: {} below minimum {}", where, v.dump(), m->dump()));
    }
    if (auto m = schema.find("maximum");
        m != schema.end() && v.get<double>() > m->get<double>()) {
      out.push_back(
          fmt::format("{}: {} above maximum {}", where, v.dump(), m->dump()));
    }
    const std::string format = schema.value("format", "");
    if (format == "int32" && v.is_number_integer()
        && (v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX)) {
      out.push_back(fmt::format("{}: {} outside int32", where, v.dump()));
    }
  }
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (auto m = schema.find("maxLength");
        m != schema.end() && s.size() > m->get<size_t>()) {
      out.push_back(fmt::format("{}: longer than {}", where, m->dump()));
    }
    if (auto m = schema.find("minLength");
        m != schema.end() && s.size() < m->get<size_t>()) {
      out.push_back(fmt::format("{}: shorter than {}", where, m->dump()));
    }
    if (auto p = schema.find("pattern"); p != schema.end()) {
      if (!std::regex_search(s, std::regex(p->get<std::string>()))) {
        out.push_back(fmt::format(
            "{}: '{}' does not match {}", where, s, p->get<std::string>()));
      }
    }
    if (schema.value("format", "") == "date-time") {
      if (!std::regex_match(s, date_time_re()) || !parse_rfc3339_ns(s)) {
        out.push_back(
            fmt::format("{}: '{}' is not an RFC 3339 date-time", where, s));
      }
    }
  }
  if (v.is_object()) {
    const json props = schema.value("properties", json::object());
    for (const auto& r : schema.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) {
        out.push_back(fmt::format(
            "{}: missing required property '{}'", where, r.get<std::string>()));
      }
    }
    const auto additional = schema.find("additionalProperties");
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string child = ptr + "/" + escape_pointer(it.key());
      if (props.contains(it.key())) {
        check(props.at(it.key()), it.value(), root, opt, child, out);
      } else if (additional != schema.end()) {
        if (additional->is_boolean()) {
          if (!additional->get<bool>()) {
            out.push_back(fmt::format("{}: property not allowed", child));
          }
        } else {
          check(*additional, it.value(), root, opt, child, out);
        }
      } else if (opt.strict && schema.contains("properties")
                 && opt.allow_undeclared.count(child) == 0) {
        out.push_back(
            fmt::format("{}: property not declared in the schema", child));
      }
    }
  }
  if (v.is_array()) {
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < v.size(); ++i) {
        check(*items, v[i], root, opt, fmt::format("{}/{}", ptr, i), out);
      }
    }
  }
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (!part.empty()) {
      out.push_back(part);
    }
  }
  return out;
}

} // namespace

std::vector<std::string> validate_schema(const json& schema,
                                         const json& value,
                                         const json& root,
                                         const ValidationOptions& options,
                                         const std::string& pointer) {
  std::vector<std::string> out;
  check(schema, value, root, options, pointer, out);
  return out;
}

OpenApiSpec::OpenApiSpec(json doc)
    : m_doc(std::move(doc)) {}

OpenApiSpec OpenApiSpec::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("open " + path.string());
  }
  return OpenApiSpec(json::parse(in));
}

std::optional<std::string>
OpenApiSpec::match_path(const std::string& path) const {
  const auto want = split(path.substr(0, path.find('?')));
  std::optional<std::string> best;
  int best_literals = -1;
  for (auto it = m_doc.at("paths").begin(); it != m_doc.at("paths").end();
       ++it) {
    const auto tmpl = split(it.key());
    if (tmpl.size() != want.size()) {
      continue;
    }
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < tmpl.size() && ok; ++i) {
      if (tmpl[i].front() == '{') {
        continue;
      }
      ok = tmpl[i] == want[i];
      literals += ok ? 1 : 0;
    }
    if (ok && literals > best_literals) {
      best = it.key();
      best_literals = literals;
    }
  }
  return best;
}

const json* OpenApiSpec::response_schema(const std::string& method,
                                         const std::string& path_template,
                                         int status) const {
  std::string m = method;
  std::transform(m.begin(), m.end(), m.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  const json& paths = m_doc.at("paths");
  if (!paths.contains(path_template) || !paths.at(path_template).contains(m)) {
    return nullptr;
  }
  const json& responses = paths.at(path_template).at(m).at("responses");
  for (const std::string& key :
       {std::to_string(status), fmt::format("{}xx", status / 100)}) {
    if (responses.contains(key)) {
      const json& r = responses.at(key);
      if (r.contains("content")
          && r.at("content").contains("application/json")) {
        return &r.at("content").at("application/json").at("schema");
      }
      return nullptr;
    }
  }
  return nullptr;
}

} // namespace custody::test
