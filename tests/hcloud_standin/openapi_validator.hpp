// A small validator for the JSON Schema subset that OpenAPI 3.0 specs use,
// enough to check the stand-in's answers against Hetzner's spec
// (openapi-subset.json): type, nullable, enum, properties, required,
// additionalProperties, items, allOf/anyOf/oneOf, $ref (local), minimum,
// maximum, minLength, maxLength, pattern, and the formats date-time, int32
// and int64. Unknown keywords (description, example, deprecated, …) are
// ignored.
//
// Strict mode also reports properties that an object schema does not
// declare (when it has `properties` and no `additionalProperties`): the spec
// does not forbid them, but in a stand-in they are typos or invented fields.
//
// Test-only code. Thread-safety: pure functions over const JSON.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace custody::test {

struct ValidationOptions {
  bool strict = true;
  // JSON pointers (e.g. "/meta") where undeclared properties are accepted.
  std::set<std::string> allow_undeclared;
};

// Returns one message per violation, "<json pointer>: <problem>"; empty when
// `value` conforms to `schema`. `root` resolves "$ref": "#/…".
std::vector<std::string> validate_schema(const nlohmann::json& schema,
                                         const nlohmann::json& value,
                                         const nlohmann::json& root,
                                         const ValidationOptions& options = {},
                                         const std::string& pointer = "");

class OpenApiSpec {
public:
  explicit OpenApiSpec(nlohmann::json doc);
  static OpenApiSpec load(const std::filesystem::path& path);

  // Returns the path template that matches `path` ("/servers/42" →
  // "/servers/{id}"), preferring literal segments over parameters.
  [[nodiscard]] std::optional<std::string>
  match_path(const std::string& path) const;
  // Returns the application/json response schema of `method` on `path_template`
  // for `status` (the exact code, else "4xx"/"5xx"), or nullptr.
  [[nodiscard]] const nlohmann::json*
  response_schema(const std::string& method,
                  const std::string& path_template,
                  int status) const;
  [[nodiscard]] const nlohmann::json& root() const {
    return m_doc;
  }

private:
  nlohmann::json m_doc;
};

} // namespace custody::test
