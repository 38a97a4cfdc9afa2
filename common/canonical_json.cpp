#include "common/canonical_json.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace custody::cjson {

namespace {

Result<void> encode_string(const std::string& s, std::string& out) {
  if (!valid_utf8(s)) {
    return fail(Errc::invalid_input, "string is not valid UTF-8");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  out.push_back('"');
  // Runs of characters written as they are are appended at once.
  size_t plain = 0;
  auto flush = [&](size_t end) {
    out.append(s, plain, end - plain);
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    flush(i);
    plain = i + 1;
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (u < 0x20) {
        out += "\\u00";
        out.push_back(k_hex[u >> 4U]);
        out.push_back(k_hex[u & 0xfU]);
      } else {
        out.push_back(c);
      }
    }
  }
  flush(s.size());
  out.push_back('"');
  return {};
}

Result<void> encode_value(const Json& v, std::string& out, size_t depth) {
  if (depth > k_max_depth) {
    return fail(Errc::invalid_input, "nesting is too deep");
  }
  switch (v.type()) {
  case Json::value_t::null:
    out += "null";
    return {};
  case Json::value_t::boolean:
    out += v.get<bool>() ? "true" : "false";
    return {};
  case Json::value_t::number_integer:
    out += std::to_string(v.get<int64_t>());
    return {};
  case Json::value_t::number_unsigned: {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return fail(Errc::invalid_input, "integer does not fit in int64");
    }
    out += std::to_string(u);
    return {};
  }
  case Json::value_t::number_float:
    return fail(Errc::invalid_input, "floating-point numbers are not allowed");
  case Json::value_t::string:
    return encode_string(v.get_ref<const std::string&>(), out);
  case Json::value_t::array: {
    out.push_back('[');
    bool first = true;
    for (const auto& e : v) {
      if (!first) {
        out.push_back(',');
      }
      first = false;
      CUSTODY_TRY(encode_value(e, out, depth + 1));
    }
    out.push_back(']');
    return {};
  }
  case Json::value_t::object: {
    // nlohmann::json's object is a std::map<std::string, ...>: iteration is in
    // std::char_traits<char> order, i.e. by unsigned bytes, i.e. by code point.
    out.push_back('{');
    bool first = true;
    for (const auto& [key, e] : v.items()) {
      if (!first) {
        out.push_back(',');
      }
      first = false;
      CUSTODY_TRY(encode_string(key, out));
      out.push_back(':');
      CUSTODY_TRY(encode_value(e, out, depth + 1));
    }
    out.push_back('}');
    return {};
  }
  case Json::value_t::binary:
  case Json::value_t::discarded:
    break;
  }
  return fail(Errc::invalid_input, "value has no JSON encoding");
}

// A parser for canonical JSON only. Instead of parsing any JSON and proving
// canonical form by re-encoding (twice the work), it accepts exactly the bytes
// encode() produces and says where the first other byte is. Values are built
// as nlohmann::json, as its parser would build them (non-negative integers
// unsigned, negative ones signed).
class CanonicalParser {
public:
  explicit CanonicalParser(std::string_view text)
    : m_s(text) {}

  Result<Json> parse() {
    Json v;
    if (!value(v, 1)) {
      return fail(Errc::corrupt, fmt::format("not canonical JSON: {} at byte {}", m_why, m_pos));
    }
    if (m_pos != m_s.size()) {
      return fail(Errc::corrupt,
                  fmt::format("not canonical JSON: unexpected byte at {} (whitespace or trailing "
                              "data)",
                              m_pos));
    }
    return v;
  }

private:
  bool bad(const char* why) {
    m_why = why;
    return false;
  }
  [[nodiscard]] bool at_end() const {
    return m_pos >= m_s.size();
  }
  [[nodiscard]] char peek() const {
    return m_s[m_pos];
  }

  bool value(Json& out, size_t depth) {
    if (depth > k_max_depth) {
      return bad("nesting is too deep");
    }
    if (at_end()) {
      return bad("unexpected end");
    }
    switch (peek()) {
    case '{':
      return object(out, depth);
    case '[':
      return array(out, depth);
    case '"': {
      std::string str;
      if (!string(str)) {
        return false;
      }
      out = Json(std::move(str));
      return true;
    }
    case 't':
      return literal("true", Json(true), out);
    case 'f':
      return literal("false", Json(false), out);
    case 'n':
      return literal("null", Json(nullptr), out);
    default:
      return number(out);
    }
  }

  bool literal(std::string_view word, Json v, Json& out) {
    if (m_s.substr(m_pos, word.size()) != word) {
      return bad("invalid literal");
    }
    m_pos += word.size();
    out = std::move(v);
    return true;
  }

  bool number(Json& out) {
    const bool negative = peek() == '-';
    if (negative) {
      ++m_pos;
    }
    const size_t start = m_pos;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      ++m_pos;
    }
    const std::string_view digits = m_s.substr(start, m_pos - start);
    if (digits.empty()) {
      return bad("not a JSON value");
    }
    if (!at_end() && (peek() == '.' || peek() == 'e' || peek() == 'E')) {
      return bad("floating-point numbers are not allowed");
    }
    if (digits.size() > 1 && digits[0] == '0') {
      return bad("leading zero");
    }
    if (negative && digits == "0") {
      return bad("negative zero");
    }
    uint64_t v = 0;
    for (char c : digits) {
      const auto d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) {
        return bad("integer does not fit in int64");
      }
      v = v * 10 + d;
    }
    constexpr auto k_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (negative) {
      if (v > k_max + 1) {
        return bad("integer does not fit in int64");
      }
      out = Json(v == k_max + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v));
    } else {
      if (v > k_max) {
        return bad("integer does not fit in int64");
      }
      out = Json(v);
    }
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1; // upper case is not canonical
  }

  bool string(std::string& out) {
    ++m_pos; // opening quote
    size_t plain = m_pos;
    bool ascii = true; // pure ASCII needs no UTF-8 validation
    for (;;) {
      if (at_end()) {
        return bad("unterminated string");
      }
      const char c = m_s[m_pos];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        out.append(m_s.substr(plain, m_pos - plain));
        ++m_pos;
        break;
      }
      if (u < 0x20) {
        return bad("unescaped control character in a string");
      }
      if (c != '\\') {
        ascii = ascii && u < 0x80;
        ++m_pos;
        continue;
      }
      out.append(m_s.substr(plain, m_pos - plain));
      if (m_pos + 1 >= m_s.size()) {
        return bad("unterminated escape");
      }
      const char e = m_s[m_pos + 1];
      m_pos += 2;
      switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        // Only control characters without a short form are written \u00xx.
        if (m_pos + 4 > m_s.size() || m_s[m_pos] != '0' || m_s[m_pos + 1] != '0') {
          return bad("needless \\u escape");
        }
        const int hi = hex_digit(m_s[m_pos + 2]);
        const int lo = hex_digit(m_s[m_pos + 3]);
        if (hi < 0 || lo < 0) {
          return bad("\\u escape must use lowercase hex");
        }
        const int cp = hi * 16 + lo;
        if (cp >= 0x20 || cp == '\b' || cp == '\f' || cp == '\n' || cp == '\r' || cp == '\t') {
          return bad("needless \\u escape");
        }
        out.push_back(static_cast<char>(cp));
        m_pos += 4;
        break;
      }
      default:
        return bad("escape that canonical JSON does not use");
      }
      plain = m_pos;
    }
    if (!ascii && !valid_utf8(out)) {
      return bad("string is not valid UTF-8");
    }
    return true;
  }

  bool object(Json& out, size_t depth) {
    ++m_pos; // '{'
    out = Json::object();
    auto& members = out.get_ref<Json::object_t&>();
    if (!at_end() && peek() == '}') {
      ++m_pos;
      return true;
    }
    const std::string* previous = nullptr;
    for (;;) {
      if (at_end() || peek() != '"') {
        return bad("expected a member name");
      }
      std::string key;
      if (!string(key)) {
        return false;
      }
      if (previous != nullptr && !(*previous < key)) {
        return bad("member names not in strictly increasing byte order (unsorted or duplicate)");
      }
      if (at_end() || peek() != ':') {
        return bad("expected ':'");
      }
      ++m_pos;
      Json v;
      if (!value(v, depth + 1)) {
        return false;
      }
      // Keys arrive sorted, so each member goes at the end of the map.
      auto it = members.emplace_hint(members.end(), std::move(key), std::move(v));
      previous = &it->first;
      if (at_end()) {
        return bad("unterminated object");
      }
      if (peek() == '}') {
        ++m_pos;
        return true;
      }
      if (peek() != ',') {
        return bad("expected ',' or '}'");
      }
      ++m_pos;
    }
  }

  bool array(Json& out, size_t depth) {
    ++m_pos; // '['
    out = Json::array();
    if (!at_end() && peek() == ']') {
      ++m_pos;
      return true;
    }
    for (;;) {
      Json v;
      if (!value(v, depth + 1)) {
        return false;
      }
      out.push_back(std::move(v));
      if (at_end()) {
        return bad("unterminated array");
      }
      if (peek() == ']') {
        ++m_pos;
        return true;
      }
      if (peek() != ',') {
        return bad("expected ',' or ']'");
      }
      ++m_pos;
    }
  }

  std::string_view m_s;
  size_t m_pos = 0;
  const char* m_why = "";
};

} // namespace

Result<std::string> encode(const Json& value) {
  std::string out;
  CUSTODY_TRY(encode_value(value, out, 1));
  return out;
}

Result<Json> decode(std::string_view text) {
  if (text.size() > k_max_size) {
    return fail(Errc::corrupt, "not canonical JSON: larger than 1 MiB");
  }
  return CanonicalParser(text).parse();
}

} // namespace custody::cjson
