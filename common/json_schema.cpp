#include "common/json_schema.hpp"

#include "common/pattern.hpp"
#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <regex>
#include <unordered_map>

namespace custody {

using nlohmann::json;

namespace {

// JSON value kinds as bits, for the `type` keyword resolved once per node.
enum TypeBit : uint8_t {
  k_object = 1U << 0U,
  k_array = 1U << 1U,
  k_string = 1U << 2U,
  k_integer = 1U << 3U,
  k_number = 1U << 4U,
  k_boolean = 1U << 5U,
  k_null = 1U << 6U,
};

uint8_t type_bit(const std::string& type) {
  static const std::pair<const char*, uint8_t> k_names[] = {
    {"object", k_object}, {"array", k_array},     {"string", k_string}, {"integer", k_integer},
    {"number", k_number}, {"boolean", k_boolean}, {"null", k_null}};
  for (const auto& [name, bit] : k_names) {
    if (type == name) {
      return bit;
    }
  }
  return 0; // an unknown type name matches nothing
}

// The bits of the `type` names `v` satisfies (an integer is also a number).
uint8_t value_bits(const json& v) {
  switch (v.type()) {
  case json::value_t::object:
    return k_object;
  case json::value_t::array:
    return k_array;
  case json::value_t::string:
    return k_string;
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return static_cast<uint8_t>(k_integer | k_number);
  case json::value_t::number_float:
    return k_number;
  case json::value_t::boolean:
    return k_boolean;
  case json::value_t::null:
    return k_null;
  default:
    return 0;
  }
}

// minLength and maxLength count code points (the bytes that are not UTF-8
// continuation bytes), so a string has at most s.size() of them. These answer
// code_points(s) < min and code_points(s) > max without counting when the size
// decides, and stop counting once the answer is known.
bool fewer_code_points(const std::string& s, size_t min) {
  if (s.size() < min) {
    return true;
  }
  size_t n = 0;
  for (char c : s) {
    if (n >= min) {
      return false;
    }
    n += (static_cast<unsigned char>(c) & 0xc0U) != 0x80U ? 1U : 0U;
  }
  return n < min;
}

bool more_code_points(const std::string& s, size_t max) {
  if (s.size() <= max) {
    return false;
  }
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xc0U) != 0x80U ? 1U : 0U;
    if (n > max) {
      return true;
    }
  }
  return false;
}

// Three-way compare in the order of std::string's operator< (bytes as unsigned
// char, then length), which orders the members of a json object and of
// `properties`. Inline: member names are short and mostly differ in their
// first byte, where a memcmp call costs more than the loop.
int compare_names(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(a[i]);
    const auto cb = static_cast<unsigned char>(b[i]);
    if (ca != cb) {
      return ca < cb ? -1 : 1;
    }
  }
  return a.size() < b.size() ? -1 : (a.size() == b.size() ? 0 : 1);
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
      // The rule was a.dump() == b.dump(): both print in decimal, so the texts
      // are equal exactly when the values are (without formatting two strings
      // per compare; JSON parsers store every non-negative integer unsigned).
      const auto as_unsigned = [](const json& x, uint64_t& out) {
        if (x.is_number_unsigned()) {
          out = x.get<uint64_t>();
          return true;
        }
        const auto i = x.get<int64_t>();
        out = static_cast<uint64_t>(i);
        return i >= 0;
      };
      uint64_t ua = 0;
      uint64_t ub = 0;
      const bool a_fits = as_unsigned(a, ua);
      const bool b_fits = as_unsigned(b, ub);
      return a_fits && b_fits && ua == ub;
    }
    return a.get<int64_t>() == b.get<int64_t>();
  }
  return a == b;
}

} // namespace

// A JSON pointer built as the walk descends, turned into text only when an
// error is reported (most values are valid, and most paths never printed).
struct JsonSchema::Path {
  const Path* parent = nullptr;
  const std::string* key = nullptr; // member name, or
  size_t index = 0;                 // array index when key is null

  [[nodiscard]] std::string str() const {
    if (parent == nullptr) {
      return {};
    }
    std::string out = parent->str();
    out += '/';
    out += key != nullptr ? *key : std::to_string(index);
    return out;
  }
  // The path as error messages show it: "/" for the root.
  [[nodiscard]] std::string where() const {
    std::string s = str();
    return s.empty() ? "/" : s;
  }
};

// The keywords of one schema object, looked up once. A null pointer means the
// keyword is absent; each is used exactly as the walk used the keyword's
// value before the index existed, so results do not change.
struct JsonSchema::Node {
  const json* schema = nullptr;
  const json* ref = nullptr;          // "$ref" when it is a string
  const json* ref_target = nullptr;   // resolved (null: unresolvable)
  int nullable = 0;                   // 0 absent or false, 1 true, 2 not a boolean
  const json* type = nullptr;
  uint8_t type_mask = 0;              // the kinds `type` allows (with type)
  const json* enum_values = nullptr;  // when an array
  // Its string members: a string value can equal only these (json_equal of a
  // string and another kind is false), so the walk compares the strings
  // directly. enum_only_strings: every member is one, so nothing else matches.
  std::vector<const std::string*> enum_strings;
  bool enum_only_strings = false;
  const json* const_value = nullptr;
  const json* required = nullptr;     // when an array
  // Its string members in order. `bit` is the name's bit in the mask of
  // `properties` met by the walk's merge pass, when it names one of the first
  // 64 (0: search the members by name instead).
  struct Required {
    const std::string* name;
    uint64_t bit = 0;
  };
  std::vector<Required> required_names;
  // minProperties, maxProperties, minItems, maxItems, minLength, maxLength:
  // used when an integer, as get<size_t>() reads it (a negative one wraps).
  struct Count {
    bool set = false;
    size_t value = 0;
  };
  Count min_properties;
  Count max_properties;
  const json* properties = nullptr;   // when an object
  struct Prop {
    const std::string* name;
    const json* schema;
    const Node* node = nullptr; // its Node, once the index is linked
    uint64_t bit = 0;           // its bit when `required` names it (see Required)
  };
  std::vector<Prop> props;            // `properties` in key order
  const Node* ref_node = nullptr;     // the Node of ref_target, when indexed
  const Node* additional_node = nullptr;
  const Node* items_node = nullptr;
  const json* additional = nullptr;
  const json* items = nullptr;
  Count min_items;
  Count max_items;
  const json* minimum = nullptr;      // when a number
  const json* maximum = nullptr;      // when a number
  // minimum and maximum as the comparisons read them: whether an integer,
  // get<int64_t>() and get<double>().
  struct Bound {
    bool integer = false;
    int64_t as_int = 0;
    double as_double = 0;
  };
  Bound min_bound;
  Bound max_bound;
  Count min_length;
  Count max_length;
  const json* pattern = nullptr;      // when a string
  std::shared_ptr<const PatternMatcher> matcher; // with pattern
  bool date_time = false;
  const json* all_of = nullptr;       // when an array
  const json* any_of = nullptr;       // when an array
  const json* one_of = nullptr;       // when an array
  const json* not_schema = nullptr;
  // Whether the node has a keyword for objects, arrays, numbers, strings, and
  // allOf/anyOf/oneOf/not: the walk skips the checks of the others.
  bool object_keywords = false;
  bool array_keywords = false;
  bool number_keywords = false;
  bool string_keywords = false;
  bool combinators = false;
};

// A compiled `pattern`: Pattern when the pattern is in its subset (a
// one-pass search, several times faster than std::regex on the patterns
// custody's schemas use, with the same answers; common/pattern.hpp), else
// std::regex; neither when std::regex rejects the pattern, which then matches
// nothing.
struct JsonSchema::PatternMatcher {
  std::optional<Pattern> fast;
  std::optional<std::regex> regex;

  explicit PatternMatcher(const std::string& pattern)
      : fast(Pattern::compile(pattern)) {
    if (!fast) {
      try {
        regex.emplace(pattern);
      } catch (const std::regex_error&) {
        regex.reset(); // an invalid pattern matches nothing
      }
    }
  }

  [[nodiscard]] bool search(const std::string& text) const {
    if (fast) {
      return fast->search(text);
    }
    return regex && std::regex_search(text, *regex);
  }
};

struct JsonSchema::Index {
  std::unordered_map<const json*, Node> nodes;
  // Where validate() starts (null: the entry pointer does not resolve), and
  // its Node when it is an object.
  const json* start = nullptr;
  const Node* start_node = nullptr;
};

JsonSchema::JsonSchema(json root, std::string entry)
  : m_root(std::make_shared<const json>(std::move(root))),
    m_entry(std::move(entry)) {
  // Index every object of the document: whatever the walk may treat as a
  // schema (the root, $defs, properties, items, ... and anything a $ref names).
  auto index = std::make_shared<Index>();
  std::vector<const json*> todo{m_root.get()};
  while (!todo.empty()) {
    const json* j = todo.back();
    todo.pop_back();
    if (j->is_object()) {
      index->nodes.emplace(j, make_node(*j));
      for (const auto& [k, child] : j->items()) {
        todo.push_back(&child);
      }
    } else if (j->is_array()) {
      for (const auto& child : *j) {
        todo.push_back(&child);
      }
    }
  }
  // Link each node to the nodes of its subschemas, so that the walk descends
  // without looking them up.
  auto node_of = [&](const json* j) -> const Node* {
    if (j == nullptr) {
      return nullptr;
    }
    auto it = index->nodes.find(j);
    return it == index->nodes.end() ? nullptr : &it->second;
  };
  for (auto& [j, n] : index->nodes) {
    n.ref_node = node_of(n.ref_target);
    n.additional_node = node_of(n.additional);
    n.items_node = node_of(n.items);
    for (Node::Prop& prop : n.props) {
      prop.node = node_of(prop.schema);
    }
  }
  index->start = m_entry.empty() ? m_root.get() : resolve("#" + m_entry);
  index->start_node = node_of(index->start);
  m_index = std::move(index);
}

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
  std::shared_ptr<const PatternMatcher> matcher;
  {
    std::lock_guard lock(m_cache->mutex);
    auto it = m_cache->regexes.find(pattern);
    if (it == m_cache->regexes.end()) {
      auto compiled = std::make_shared<const PatternMatcher>(pattern);
      it = m_cache->regexes.emplace(pattern, std::move(compiled)).first;
    }
    matcher = it->second;
  }
  return matcher->search(text);
}

JsonSchema::Node JsonSchema::make_node(const json& schema) const {
  Node n;
  n.schema = &schema;
  auto find = [&](const char* name) -> const json* {
    auto it = schema.find(name);
    return it == schema.end() ? nullptr : &*it;
  };
  if (const json* r = find("$ref"); r != nullptr && r->is_string()) {
    n.ref = r;
    n.ref_target = resolve(r->get<std::string>());
  }
  if (const json* nl = find("nullable"); nl != nullptr) {
    n.nullable = nl->is_boolean() ? (nl->get<bool>() ? 1 : 0) : 2;
  }
  n.type = find("type");
  if (n.type != nullptr && n.type->is_string()) {
    n.type_mask = type_bit(n.type->get<std::string>());
  } else if (n.type != nullptr && n.type->is_array()) {
    for (const auto& t : *n.type) {
      if (t.is_string()) {
        n.type_mask = static_cast<uint8_t>(n.type_mask | type_bit(t.get<std::string>()));
      }
    }
  }
  if (const json* e = find("enum"); e != nullptr && e->is_array()) {
    n.enum_values = e;
    for (const auto& member : *e) {
      if (member.is_string()) {
        n.enum_strings.push_back(member.get_ptr<const std::string*>());
      }
    }
    n.enum_only_strings = n.enum_strings.size() == e->size();
  }
  n.const_value = find("const");
  if (const json* r = find("required"); r != nullptr && r->is_array()) {
    n.required = r;
    for (const auto& name : *r) {
      if (name.is_string()) {
        n.required_names.push_back(Node::Required{&name.get_ref<const std::string&>()});
      }
    }
  }
  const auto count = [&](const char* name) {
    const json* c = find(name);
    return c != nullptr && c->is_number_integer() ? Node::Count{true, c->get<size_t>()}
                                                   : Node::Count{};
  };
  n.min_properties = count("minProperties");
  n.max_properties = count("maxProperties");
  if (const json* p = find("properties"); p != nullptr && p->is_object()) {
    n.properties = p;
    for (auto it = p->begin(); it != p->end(); ++it) {
      n.props.push_back(Node::Prop{&it.key(), &*it});
    }
  }
  // A required name that is a property is seen by the merge pass over the
  // members, so it needs no search by name (a duplicate shares its bit).
  uint64_t next_bit = 1;
  for (Node::Required& r : n.required_names) {
    auto prop = std::lower_bound(n.props.begin(), n.props.end(), *r.name,
                                 [](const Node::Prop& p, const std::string& name) {
                                   return compare_names(*p.name, name) < 0;
                                 });
    if (prop == n.props.end() || *prop->name != *r.name) {
      continue;
    }
    if (prop->bit == 0 && next_bit != 0) {
      prop->bit = next_bit;
      next_bit <<= 1U; // 0 after the 64th
    }
    r.bit = prop->bit;
  }
  n.additional = find("additionalProperties");
  n.items = find("items");
  n.min_items = count("minItems");
  n.max_items = count("maxItems");
  const auto bound = [](const json* m) {
    return m == nullptr ? Node::Bound{}
                        : Node::Bound{m->is_number_integer(),
                                      m->is_number_integer() ? m->get<int64_t>() : 0,
                                      m->get<double>()};
  };
  if (const json* m = find("minimum"); m != nullptr && m->is_number()) {
    n.minimum = m;
    n.min_bound = bound(m);
  }
  if (const json* m = find("maximum"); m != nullptr && m->is_number()) {
    n.maximum = m;
    n.max_bound = bound(m);
  }
  n.min_length = count("minLength");
  n.max_length = count("maxLength");
  if (const json* p = find("pattern"); p != nullptr && p->is_string()) {
    n.pattern = p;
    n.matcher = std::make_shared<const PatternMatcher>(p->get<std::string>());
  }
  if (const json* f = find("format"); f != nullptr && *f == "date-time") {
    n.date_time = true;
  }
  for (auto [name, slot] : {std::pair{"allOf", &n.all_of}, std::pair{"anyOf", &n.any_of},
                            std::pair{"oneOf", &n.one_of}}) {
    if (const json* a = find(name); a != nullptr && a->is_array()) {
      *slot = a;
    }
  }
  n.not_schema = find("not");
  n.object_keywords = !n.required_names.empty() || n.min_properties.set || n.max_properties.set
                      || !n.props.empty() || n.additional != nullptr;
  n.array_keywords = n.items != nullptr || n.min_items.set || n.max_items.set;
  n.number_keywords = n.minimum != nullptr || n.maximum != nullptr;
  n.string_keywords =
    n.min_length.set || n.max_length.set || n.pattern != nullptr || n.date_time;
  n.combinators =
    n.all_of != nullptr || n.any_of != nullptr || n.one_of != nullptr || n.not_schema != nullptr;
  return n;
}

std::vector<std::string> JsonSchema::validate(const json& value) const {
  std::vector<std::string> errors;
  // The start is resolved once, by the constructor (the document is immutable).
  if (m_index->start == nullptr) {
    errors.push_back(fmt::format("schema has no {}", m_entry));
  } else if (m_index->start_node != nullptr) {
    walk_node(*m_index->start_node, value, Path{}, errors, 0); // what walk() would do
  } else {
    walk(*m_index->start, value, Path{}, errors, 0);
  }
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

void JsonSchema::walk(const json& schema, const json& v, const Path& path,
                      std::vector<std::string>& errors, int depth) const {
  if (depth > 64) {
    errors.push_back(path.where() + ": schema recursion too deep");
    return;
  }
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) {
      errors.push_back(path.where() + ": no value is allowed here");
    }
    return;
  }
  if (!schema.is_object()) {
    return;
  }
  auto it = m_index->nodes.find(&schema);
  if (it != m_index->nodes.end()) {
    walk_node(it->second, v, path, errors, depth);
  } else {
    walk_node(make_node(schema), v, path, errors, depth); // not reached for indexed documents
  }
}

void JsonSchema::walk_child(const json& schema, const Node* node, const json& v,
                            const Path& path, std::vector<std::string>& errors,
                            int depth) const {
  // A linked node is an indexed schema object: walk() would find it.
  if (node == nullptr || depth > 64) {
    walk(schema, v, path, errors, depth);
  } else {
    walk_node(*node, v, path, errors, depth);
  }
}

void JsonSchema::walk_node(const Node& n, const json& v, const Path& path,
                           std::vector<std::string>& errors, int depth) const {
  if (n.ref != nullptr) {
    if (n.ref_target == nullptr) {
      errors.push_back(path.where() + ": unresolvable $ref " + n.ref->get<std::string>());
    } else {
      walk_child(*n.ref_target, n.ref_node, v, path, errors, depth + 1);
    }
  }
  if (v.is_null()) {
    // As before: a non-boolean "nullable" makes json::value() throw.
    if (n.nullable == 1 || (n.nullable == 2 && n.schema->value("nullable", false))) {
      return;
    }
  }
  if (const json* type = n.type; type != nullptr) {
    if ((n.type_mask & value_bits(v)) == 0) {
      errors.push_back(fmt::format("{}: expected type {}, got {}", path.where(), type->dump(),
                                   short_value(v)));
      return;
    }
  }
  if (n.enum_values != nullptr) {
    bool found = false;
    if (const auto* str = v.get_ptr<const std::string*>(); str != nullptr) {
      for (const std::string* e : n.enum_strings) {
        if (*e == *str) {
          found = true;
          break;
        }
      }
    } else if (!n.enum_only_strings) {
      for (const auto& e : *n.enum_values) {
        found = found || json_equal(e, v);
      }
    }
    if (!found) {
      errors.push_back(fmt::format("{}: {} is not one of {}", path.where(), short_value(v),
                                   n.enum_values->dump()));
    }
  }
  if (n.const_value != nullptr && !json_equal(*n.const_value, v)) {
    errors.push_back(fmt::format("{}: must be {}", path.where(), n.const_value->dump()));
  }
  // The kinds are exclusive: at most one group of keywords applies.
  switch (v.type()) {
  case json::value_t::object:
    if (n.object_keywords) {
      walk_object(n, v, path, errors, depth);
    }
    break;
  case json::value_t::array:
    if (n.array_keywords) {
      if (n.items != nullptr) {
        size_t i = 0;
        for (const auto& e : v.get_ref<const json::array_t&>()) {
          walk_child(*n.items, n.items_node, e, Path{&path, nullptr, i++}, errors, depth + 1);
        }
      }
      if (n.min_items.set && v.size() < n.min_items.value) {
        errors.push_back(fmt::format("{}: fewer than {} items", path.where(), n.min_items.value));
      }
      if (n.max_items.set && v.size() > n.max_items.value) {
        errors.push_back(fmt::format("{}: more than {} items", path.where(), n.max_items.value));
      }
    }
    break;
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float:
    if (n.number_keywords) {
      check_number(n, v, path, errors);
    }
    break;
  case json::value_t::string:
    if (n.string_keywords) {
      check_string(n, v, path, errors);
    }
    break;
  default:
    break;
  }
  if (!n.combinators) {
    return;
  }
  if (n.all_of != nullptr) {
    for (const auto& sub : *n.all_of) {
      walk(sub, v, path, errors, depth + 1);
    }
  }
  if (n.any_of != nullptr) {
    bool any = false;
    for (const auto& sub : *n.any_of) {
      std::vector<std::string> sub_errors;
      walk(sub, v, path, sub_errors, depth + 1);
      any = any || sub_errors.empty();
    }
    if (!any) {
      errors.push_back(path.where() + ": matches none of anyOf");
    }
  }
  if (n.one_of != nullptr) {
    int matches = 0;
    for (const auto& sub : *n.one_of) {
      std::vector<std::string> sub_errors;
      walk(sub, v, path, sub_errors, depth + 1);
      matches += sub_errors.empty() ? 1 : 0;
    }
    if (matches != 1) {
      errors.push_back(
        fmt::format("{}: matches {} of oneOf, expected exactly 1", path.where(), matches));
    }
  }
  if (n.not_schema != nullptr) {
    std::vector<std::string> sub_errors;
    walk(*n.not_schema, v, path, sub_errors, depth + 1);
    if (sub_errors.empty()) {
      errors.push_back(path.where() + ": matches a schema it must not match");
    }
  }
}

void JsonSchema::walk_object(const Node& n, const json& v, const Path& path,
                             std::vector<std::string>& errors, int depth) const {
  const auto& members = v.get_ref<const json::object_t&>();
  // One merge pass over the members and `properties` (both in key order)
  // walks the members and notes which required properties are there. The
  // errors of `required`, minProperties and maxProperties come before the
  // members' own, so they are inserted at `mark` afterwards.
  const size_t mark = errors.size();
  uint64_t seen = 0;
  if (!n.props.empty() || n.additional != nullptr) {
    size_t next_prop = 0;
    for (const auto& [key, member] : members) {
      const Node::Prop* prop = nullptr;
      while (next_prop < n.props.size()) {
        const int c = compare_names(*n.props[next_prop].name, key);
        if (c < 0) {
          ++next_prop;
          continue;
        }
        if (c == 0) {
          prop = &n.props[next_prop];
        }
        break;
      }
      if (prop != nullptr) {
        seen |= prop->bit;
        walk_child(*prop->schema, prop->node, member, Path{&path, &key, 0}, errors, depth + 1);
      } else if (n.additional != nullptr) {
        if (n.additional->is_boolean() && !n.additional->get<bool>()) {
          errors.push_back(fmt::format("{}: unexpected property '{}'", path.where(), key));
        } else if (n.additional->is_object()) {
          walk_child(*n.additional, n.additional_node, member, Path{&path, &key, 0}, errors,
                     depth + 1);
        }
      }
    }
  }
  std::vector<std::string> head; // empty, so no allocation, when valid
  for (const Node::Required& r : n.required_names) {
    const bool present =
      r.bit != 0 ? (seen & r.bit) != 0 : members.find(*r.name) != members.end();
    if (!present) {
      head.push_back(fmt::format("{}: missing required '{}'", path.where(), *r.name));
    }
  }
  if (n.min_properties.set && members.size() < n.min_properties.value) {
    head.push_back(
      fmt::format("{}: fewer than {} properties", path.where(), n.min_properties.value));
  }
  if (n.max_properties.set && members.size() > n.max_properties.value) {
    head.push_back(
      fmt::format("{}: more than {} properties", path.where(), n.max_properties.value));
  }
  if (!head.empty()) {
    errors.insert(errors.begin() + static_cast<std::ptrdiff_t>(mark),
                  std::make_move_iterator(head.begin()), std::make_move_iterator(head.end()));
  }
}

void JsonSchema::check_number(const Node& n, const json& v, const Path& path,
                              std::vector<std::string>& errors) const {
  // The comparisons as they read with json::get: integers compare as int64
  // (an unsigned value is never below an integer minimum, and compares as a
  // double with a maximum), anything else as doubles.
  const bool v_integer = v.is_number_integer();
  const bool v_unsigned = v.is_number_unsigned();
  const auto as_int = [&v] { return *v.get_ptr<const json::number_integer_t*>(); };
  const auto as_double = [&v] {
    if (const auto* u = v.get_ptr<const json::number_unsigned_t*>(); u != nullptr) {
      return static_cast<double>(*u);
    }
    if (const auto* i = v.get_ptr<const json::number_integer_t*>(); i != nullptr) {
      return static_cast<double>(*i);
    }
    return *v.get_ptr<const json::number_float_t*>();
  };
  if (n.minimum != nullptr) {
    const bool below = (v_integer && n.min_bound.integer)
                         ? (v_unsigned ? false : as_int() < n.min_bound.as_int)
                         : as_double() < n.min_bound.as_double;
    if (below) {
      errors.push_back(
        fmt::format("{}: {} is below the minimum {}", path.where(), v.dump(), n.minimum->dump()));
    }
  }
  if (n.maximum != nullptr) {
    const bool above = (v_integer && n.max_bound.integer && !v_unsigned)
                         ? as_int() > n.max_bound.as_int
                         : as_double() > n.max_bound.as_double;
    if (above) {
      errors.push_back(
        fmt::format("{}: {} is above the maximum {}", path.where(), v.dump(), n.maximum->dump()));
    }
  }
}

void JsonSchema::check_string(const Node& n, const json& v, const Path& path,
                              std::vector<std::string>& errors) const {
  const auto& s = *v.get_ptr<const std::string*>();
  if (n.min_length.set && fewer_code_points(s, n.min_length.value)) {
    errors.push_back(
      fmt::format("{}: shorter than {} characters", path.where(), n.min_length.value));
  }
  if (n.max_length.set && more_code_points(s, n.max_length.value)) {
    errors.push_back(fmt::format("{}: longer than {} characters", path.where(), n.max_length.value));
  }
  if (n.pattern != nullptr && !n.matcher->search(s)) {
    errors.push_back(
      fmt::format("{}: {} does not match {}", path.where(), short_value(v), n.pattern->dump()));
  }
  if (n.date_time && !parse_rfc3339_ns(s)) {
    errors.push_back(
      fmt::format("{}: {} is not an RFC 3339 date-time", path.where(), short_value(v)));
  }
}

} // namespace custody
