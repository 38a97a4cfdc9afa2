// A small JSON Schema validator for the schemas custody ships as data.
//
// Supported keywords (JSON Schema 2020-12 subset, plus OpenAPI 3.0's
// `nullable`): type, enum, const, properties, required, additionalProperties
// (boolean or schema), minProperties, maxProperties, items, minItems, maxItems,
// minimum, maximum, minLength, maxLength (in code points), pattern (ECMAScript
// regex as std::regex reads it, unanchored search as the spec says), format
// "date-time" (RFC 3339 with an offset), allOf, anyOf, oneOf, not, and $ref to
// a JSON pointer inside the same document
// ("#/$defs/x", "#/components/schemas/X"). Unknown keywords are ignored, as
// the spec requires for annotations. A schema using a keyword outside this
// list is validated less strictly than a full implementation would.
//
// Speed: the constructor indexes every schema object of the document once
// (which keywords it has, its compiled pattern, its resolved $ref, and where
// validation starts), so validate() does no keyword lookups by name, compiles
// no regex and takes no lock; error paths are built only when an error is
// reported, and a walk that meets no error (in anyOf/oneOf/not branches
// neither) allocates nothing unless a pattern needs std::regex. A pattern is
// compiled with Pattern (common/pattern.hpp), a linear-time matcher with
// exactly std::regex_search's answers, when it lies in Pattern's subset (every
// pattern of custody's own schemas does); any other pattern keeps std::regex,
// and one std::regex rejects matches nothing.
//
// Thread-safety: a JsonSchema is immutable after construction except for its
// pattern cache (used only for schema objects outside the index, which the
// validator never meets), guarded by a mutex; validate() may run concurrently.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace custody {

class JsonSchema {
public:
  // Wraps schema document `root`; validation starts at `root` itself, or at
  // the JSON pointer `entry` inside it when given (e.g. "/$defs/collect").
  explicit JsonSchema(nlohmann::json root, std::string entry = "");
  // Parses `text` as a schema document.
  static Result<JsonSchema> parse(std::string_view text, std::string entry = "");

  // Returns the violations of `value` ("<json pointer>: <what>"), empty when valid.
  [[nodiscard]] std::vector<std::string> validate(const nlohmann::json& value) const;
  // As validate(), folded into one Errc::invalid_input error naming `what`.
  [[nodiscard]] Result<void> check(const nlohmann::json& value, std::string_view what) const;

private:
  struct Node;  // one schema object's keywords, resolved (json_schema.cpp)
  struct Index; // Node of every schema object in the document
  struct Path;  // a JSON pointer, materialized only for error messages
  struct PatternMatcher; // a compiled `pattern`: Pattern, else std::regex

  void walk(const nlohmann::json& schema, const nlohmann::json& value, const Path& path,
            std::vector<std::string>& errors, int depth) const;
  void walk_node(const Node& node, const nlohmann::json& value, const Path& path,
                 std::vector<std::string>& errors, int depth) const;
  // walk_node()'s checks of an object, a number, a string value.
  void walk_object(const Node& node, const nlohmann::json& value, const Path& path,
                   std::vector<std::string>& errors, int depth) const;
  void check_number(const Node& node, const nlohmann::json& value, const Path& path,
                    std::vector<std::string>& errors) const;
  void check_string(const Node& node, const nlohmann::json& value, const Path& path,
                    std::vector<std::string>& errors) const;
  // walk() of `schema`, whose Node is `node` when known (no index lookup).
  void walk_child(const nlohmann::json& schema, const Node* node, const nlohmann::json& value,
                  const Path& path, std::vector<std::string>& errors, int depth) const;
  const nlohmann::json* resolve(const std::string& ref) const;
  bool regex_search(const std::string& pattern, const std::string& text) const;
  Node make_node(const nlohmann::json& schema) const;

  struct RegexCache {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const PatternMatcher>> regexes;
  };

  std::shared_ptr<const nlohmann::json> m_root;
  std::string m_entry;
  std::shared_ptr<RegexCache> m_cache = std::make_shared<RegexCache>();
  std::shared_ptr<const Index> m_index;
};

} // namespace custody
