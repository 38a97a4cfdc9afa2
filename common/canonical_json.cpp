#include "common/canonical_json.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

namespace custody::cjson {

namespace {

// ---------------------------------------------------------------------------
// Byte classes shared by the encoder and the parser.
//
// A string's bytes are copied as they are except '"', '\\', U+0000..U+001F
// (escaped) and, until UTF-8 validation has been done, bytes >= 0x80. Strings
// in ledger entries are long runs of plain ASCII, so both directions look at
// 8 bytes at a time and only stop at a byte that needs attention.

constexpr uint64_t k_ones = 0x0101010101010101ULL;
constexpr uint64_t k_highs = 0x8080808080808080ULL;

// True for a byte that must be escaped (or, with `k_with_high`, is >= 0x80).
template<bool k_with_high>
constexpr bool is_special(unsigned char u) {
  return u < 0x20 || u == '"' || u == '\\' || (k_with_high && u >= 0x80);
}

// Returns a word with the top bit set in (at least) the lowest byte of `w` for
// which is_special() holds, and zero when there is none. Each term is the
// classic "has a byte less than n" / "has a zero byte" test: a borrow can only
// start at a byte that really matches and only runs towards more significant
// bytes, so the least significant flagged byte is always a true match.
template<bool k_with_high>
constexpr uint64_t special_mask(uint64_t w) {
  const uint64_t quote = w ^ (k_ones * '"');
  const uint64_t backslash = w ^ (k_ones * '\\');
  uint64_t m = ((w - k_ones * 0x20) & ~w) | ((quote - k_ones) & ~quote)
               | ((backslash - k_ones) & ~backslash);
  if constexpr (k_with_high) {
    m |= w;
  }
  return m & k_highs;
}

// Returns the index of the first byte of `s` at or after `i` for which
// is_special() holds, or s.size().
template<bool k_with_high>
size_t find_special(std::string_view s, size_t i) {
  const char* p = s.data();
  while (s.size() - i >= 8) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, sizeof w);
    const uint64_t m = special_mask<k_with_high>(w);
    if (m != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return i + static_cast<size_t>(std::countr_zero(m)) / 8;
      } else {
        break; // the byte loop below finds it
      }
    }
    i += 8;
  }
  for (; i < s.size(); ++i) {
    if (is_special<k_with_high>(static_cast<unsigned char>(p[i]))) {
      return i;
    }
  }
  return s.size();
}

// ---------------------------------------------------------------------------
// Encoder. Writes through a raw pointer into `m_out`, whose size (not just its
// capacity) is the room available: growing zero-fills the new room once, and a
// buffer reused across calls (see encode()) needs no growing at all. Errors are
// kept as a static text until the top, so the recursion does not build and
// test a Result per value.
class Encoder {
public:
  Encoder(std::string& out, size_t pos)
    : m_out(out),
      m_start(pos),
      m_pos(pos) {}

  bool value(const Json& v, size_t depth) {
    if (depth > k_max_depth) {
      return bad("nesting is too deep");
    }
    switch (v.type()) {
    case Json::value_t::null:
      put("null");
      return true;
    case Json::value_t::boolean:
      put(*v.get_ptr<const Json::boolean_t*>() ? std::string_view("true")
                                                : std::string_view("false"));
      return true;
    case Json::value_t::number_integer:
      put_integer(*v.get_ptr<const Json::number_integer_t*>());
      return true;
    case Json::value_t::number_unsigned: {
      const auto u = *v.get_ptr<const Json::number_unsigned_t*>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return bad("integer does not fit in int64");
      }
      put_integer(u);
      return true;
    }
    case Json::value_t::number_float:
      return bad("floating-point numbers are not allowed");
    case Json::value_t::string:
      return string(*v.get_ptr<const Json::string_t*>());
    case Json::value_t::array: {
      put('[');
      bool first = true;
      for (const Json& e : *v.get_ptr<const Json::array_t*>()) {
        if (!first) {
          put(',');
        }
        first = false;
        if (!value(e, depth + 1)) {
          return false;
        }
      }
      put(']');
      return true;
    }
    case Json::value_t::object: {
      // nlohmann::json's object is a std::map<std::string, ...>: iteration is
      // in std::char_traits<char> order, i.e. by unsigned bytes, i.e. by code
      // point. (Iterating the map itself, not items(), spares a proxy object
      // with its own std::string per member.)
      put('{');
      bool first = true;
      for (const auto& [key, e] : *v.get_ptr<const Json::object_t*>()) {
        if (!first) {
          put(',');
        }
        first = false;
        if (!string(key)) {
          return false;
        }
        put(':');
        if (!value(e, depth + 1)) {
          return false;
        }
      }
      put('}');
      return true;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
    }
    return bad("value has no JSON encoding");
  }

  [[nodiscard]] size_t pos() const {
    return m_pos;
  }
  [[nodiscard]] const char* why() const {
    return m_why;
  }

private:
  bool bad(const char* why) {
    m_why = why;
    return false;
  }

  // Returns where the next `n` bytes go, making room for them. The room grows
  // with what this encoding has written so far (not with the whole buffer, which
  // may hold a caller's earlier data), so zero-filling costs at most about
  // twice the encoding's own size.
  char* room(size_t n) {
    if (m_out.size() - m_pos < n) {
      m_out.resize(m_pos + std::max(n, m_pos - m_start + 256));
    }
    return m_out.data() + m_pos;
  }
  void put(char c) {
    *room(1) = c;
    ++m_pos;
  }
  void put(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    m_pos += s.size();
  }

  template<typename Int>
  void put_integer(Int v) {
    constexpr size_t k_max_digits = 20; // "-9223372036854775808"
    char* p = room(k_max_digits);
    // to_chars writes the shortest form: no '+', no leading zeros.
    m_pos += static_cast<size_t>(std::to_chars(p, p + k_max_digits, v).ptr - p);
  }

  bool string(std::string_view s) {
    static constexpr char k_hex[] = "0123456789abcdef";
    size_t i = find_special<true>(s, 0);
    if (i == s.size()) {
      // Plain ASCII without escapes, the common case: one copy.
      char* p = room(s.size() + 2);
      p[0] = '"';
      std::memcpy(p + 1, s.data(), s.size());
      p[s.size() + 1] = '"';
      m_pos += s.size() + 2;
      return true;
    }
    // Everything before i is ASCII, so UTF-8 is checked once, from the first
    // non-ASCII byte on, and the scan then stops at escapes only. (A failure
    // may leave part of the string written; the callers drop it.)
    bool validated = false;
    const auto check_utf8 = [&](size_t at) {
      validated = true;
      return valid_utf8(s.substr(at));
    };
    if (static_cast<unsigned char>(s[i]) >= 0x80) {
      if (!check_utf8(i)) {
        return bad("string is not valid UTF-8");
      }
      i = find_special<false>(s, i);
    }
    put('"');
    size_t plain = 0;
    while (i < s.size()) {
      const auto u = static_cast<unsigned char>(s[i]);
      if (u >= 0x80) {
        // Only reached while not yet validated: the first non-ASCII byte after
        // an escape. Bytes before it are ASCII, so i is a character boundary.
        if (!check_utf8(i)) {
          return bad("string is not valid UTF-8");
        }
        i = find_special<false>(s, i);
        continue;
      }
      put(s.substr(plain, i - plain));
      char* p = room(6);
      p[0] = '\\';
      size_t n = 2;
      switch (u) {
      case '"':
        p[1] = '"';
        break;
      case '\\':
        p[1] = '\\';
        break;
      case '\b':
        p[1] = 'b';
        break;
      case '\f':
        p[1] = 'f';
        break;
      case '\n':
        p[1] = 'n';
        break;
      case '\r':
        p[1] = 'r';
        break;
      case '\t':
        p[1] = 't';
        break;
      default: // other controls
        p[1] = 'u';
        p[2] = '0';
        p[3] = '0';
        p[4] = k_hex[u >> 4U];
        p[5] = k_hex[u & 0xfU];
        n = 6;
      }
      m_pos += n;
      plain = ++i;
      i = validated ? find_special<false>(s, i) : find_special<true>(s, i);
    }
    put(s.substr(plain));
    put('"');
    return true;
  }

  std::string& m_out;
  size_t m_start; // where this encoding began
  size_t m_pos;   // end of what is written; m_out's size beyond it is room
  const char* m_why = "";
};

// Encodes `value` into `buf` from `pos` on (buf's size is room, see Encoder)
// and returns the end of the encoding.
Result<size_t> encode_at(const Json& value, std::string& buf, size_t pos) {
  Encoder encoder(buf, pos);
  if (!encoder.value(value, 1)) {
    return fail(Errc::invalid_input, encoder.why());
  }
  return encoder.pos();
}

// encode()'s scratch buffer: once a thread has encoded a document, the next one
// of similar size is written without any allocation, and the result is one
// allocation of the exact size. Buffers grown past this are not kept, so an
// odd huge document does not pin its memory.
constexpr size_t k_scratch_keep = 64 * 1024;

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

  // `out` is null on entry; it is filled in place (members and elements are
  // created first and parsed into, so no value is built and then moved).
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
      std::string_view str;
      if (!string(str)) {
        return false;
      }
      // One allocation of the exact size for the characters.
      out = Json(str);
      return true;
    }
    case 't':
      return literal("true", true, out);
    case 'f':
      return literal("false", false, out);
    case 'n':
      return literal("null", nullptr, out);
    default:
      return number(out);
    }
  }

  template<typename T>
  bool literal(std::string_view word, T v, Json& out) {
    if (m_s.substr(m_pos, word.size()) != word) {
      return bad("invalid literal");
    }
    m_pos += word.size();
    out = Json(v);
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

  // Parses the string whose opening quote is at m_pos. `out` views its
  // characters: the text itself when it has no escapes (the common case, so
  // the caller copies them once, into the value), else m_unescaped, which is
  // valid until the next string is parsed.
  bool string(std::string_view& out) {
    size_t i = m_pos + 1; // after the opening quote
    size_t plain = i;
    bool escaped = false;
    bool ascii = true; // pure ASCII needs no UTF-8 validation
    for (;;) {
      i = ascii ? find_special<true>(m_s, i) : find_special<false>(m_s, i);
      if (i == m_s.size()) {
        m_pos = i;
        return bad("unterminated string");
      }
      const char c = m_s[i];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        if (escaped) {
          m_unescaped.append(m_s.substr(plain, i - plain));
          out = m_unescaped;
        } else {
          out = m_s.substr(plain, i - plain);
        }
        m_pos = i + 1;
        break;
      }
      if (u < 0x20) {
        m_pos = i;
        return bad("unescaped control character in a string");
      }
      if (c != '\\') {
        ascii = false; // u >= 0x80; from here on only escapes stop the scan
        ++i;
        continue;
      }
      if (!escaped) {
        escaped = true;
        m_unescaped.clear();
      }
      m_unescaped.append(m_s.substr(plain, i - plain));
      m_pos = i;
      if (!escape()) {
        return false;
      }
      i = m_pos;
      plain = i;
    }
    if (!ascii && !valid_utf8(out)) {
      return bad("string is not valid UTF-8");
    }
    return true;
  }

  // Appends the character of the escape whose backslash is at m_pos to
  // m_unescaped and moves past it.
  bool escape() {
    if (m_pos + 1 >= m_s.size()) {
      return bad("unterminated escape");
    }
    const char e = m_s[m_pos + 1];
    m_pos += 2;
    switch (e) {
    case '"':
      m_unescaped.push_back('"');
      break;
    case '\\':
      m_unescaped.push_back('\\');
      break;
    case 'b':
      m_unescaped.push_back('\b');
      break;
    case 'f':
      m_unescaped.push_back('\f');
      break;
    case 'n':
      m_unescaped.push_back('\n');
      break;
    case 'r':
      m_unescaped.push_back('\r');
      break;
    case 't':
      m_unescaped.push_back('\t');
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
      m_unescaped.push_back(static_cast<char>(cp));
      m_pos += 4;
      break;
    }
    default:
      return bad("escape that canonical JSON does not use");
    }
    return true;
  }

  bool object(Json& out, size_t depth) {
    ++m_pos; // '{'
    out = Json(Json::value_t::object);
    auto& members = *out.get_ptr<Json::object_t*>();
    if (!at_end() && peek() == '}') {
      ++m_pos;
      return true;
    }
    const std::string* previous = nullptr;
    for (;;) {
      if (at_end() || peek() != '"') {
        return bad("expected a member name");
      }
      std::string_view key;
      if (!string(key)) {
        return false;
      }
      if (previous != nullptr && !(std::string_view(*previous) < key)) {
        return bad("member names not in strictly increasing byte order (unsorted or duplicate)");
      }
      if (at_end() || peek() != ':') {
        return bad("expected ':'");
      }
      ++m_pos;
      // Keys arrive sorted, so each member goes at the end of the map. The key
      // is built in the node from the text (one exact allocation, if any) and
      // the value parsed into the node.
      auto it = members.emplace_hint(members.end(),
                                     std::piecewise_construct,
                                     std::forward_as_tuple(key),
                                     std::forward_as_tuple());
      previous = &it->first;
      if (!value(it->second, depth + 1)) {
        return false;
      }
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
    out = Json(Json::value_t::array);
    auto& elements = *out.get_ptr<Json::array_t*>();
    if (!at_end() && peek() == ']') {
      ++m_pos;
      return true;
    }
    for (;;) {
      // Nothing else touches `elements` while the element is parsed, so the
      // reference stays valid.
      if (!value(elements.emplace_back(), depth + 1)) {
        return false;
      }
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
  std::string m_unescaped; // characters of the last string that had escapes
};

} // namespace

Result<std::string> encode(const Json& value) {
  thread_local std::string t_scratch;
  auto end = encode_at(value, t_scratch, 0);
  if (!end) {
    return tl::unexpected<Error>(std::move(end.error()));
  }
  std::string out(t_scratch.data(), *end);
  if (t_scratch.size() > k_scratch_keep) {
    std::string().swap(t_scratch);
  }
  return out;
}

Result<void> encode_into(const Json& value, std::string& out) {
  const size_t start = out.size();
  auto end = encode_at(value, out, start);
  // Drop the room the encoder made (or, on failure, everything it wrote).
  out.resize(end ? *end : start);
  if (!end) {
    return tl::unexpected<Error>(std::move(end.error()));
  }
  return {};
}

Result<Json> decode(std::string_view text) {
  if (text.size() > k_max_size) {
    return fail(Errc::corrupt, "not canonical JSON: larger than 1 MiB");
  }
  return CanonicalParser(text).parse();
}

} // namespace custody::cjson
