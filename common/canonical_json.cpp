#include "common/canonical_json.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

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
// which is_special() holds, and zero when there is none. In (w - 0x20..20) and
// ((w ^ c..c) - 0x01..01) a byte's top bit ends up set only when the byte is
// below 0x20 (equal to c), when it is >= 0x80 (which `k_with_high` wants
// flagged anyway and the other form masks off with ~w), or when it takes a
// borrow. A borrow only starts at a byte below 0x20 (equal to c) and only runs
// towards more significant bytes, so the least significant flagged byte is
// always a true match.
template<bool k_with_high>
constexpr uint64_t special_mask(uint64_t w) {
  const uint64_t quote = w ^ (k_ones * '"');
  const uint64_t backslash = w ^ (k_ones * '\\');
  const uint64_t m = (w - k_ones * 0x20) | (quote - k_ones) | (backslash - k_ones);
  if constexpr (k_with_high) {
    return (m | w) & k_highs;
  } else {
    return m & ~w & k_highs;
  }
}

#if defined(__SSE2__)
// The same test for 16 bytes: bit k of the result is set when byte k is
// special. (A signed compare with 0x20 takes bytes >= 0x80 as negative.)
template<bool k_with_high>
inline unsigned special_mask16(__m128i v) {
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  __m128i low;
  if constexpr (k_with_high) {
    low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  } else {
    low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v); // unsigned v <= 0x1f
  }
  const __m128i special = _mm_or_si128(_mm_or_si128(quote, backslash), low);
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

// Loads 8 (or 4) bytes with the first one least significant, whatever the
// machine's byte order, so the lowest flagged byte is the first in memory.
inline uint64_t load8(const char* p) {
  uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) {
    w = __builtin_bswap64(w);
  }
  return w;
}
inline uint32_t load4(const char* p) {
  uint32_t w = 0;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) {
    w = __builtin_bswap32(w);
  }
  return w;
}
inline size_t first_flagged(uint64_t mask) {
  return static_cast<size_t>(std::countr_zero(mask)) / 8;
}

// Returns the index j of the first byte of `s` at or after `i` for which
// is_special() holds, or s.size(). With `k_copy`, also copies s[i, j) to `to`
// (and may write more of s[i, s.size()) after it: `to` needs room for all of
// it). Whole words are used to the end: a last partial word is read as the
// last 8 (or 4 + 4) bytes of `s`, overlapping bytes already known to be plain.
template<bool k_with_high, bool k_copy>
size_t scan_plain(std::string_view s, size_t i, char* to) {
  const char* p = s.data();
  const size_t n = s.size();
  const size_t from = i;
  [[maybe_unused]] const auto copy = [&](size_t at, size_t len) {
    if constexpr (k_copy) {
      std::memcpy(to + (at - from), p + at, len);
    }
  };
#if defined(__SSE2__)
  // 16 bytes at a time while they last, then the last 16 (when there were
  // that many); what is shorter goes on below.
  const auto scan16 = [&](size_t at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    if constexpr (k_copy) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + (at - from)), v);
    }
    return special_mask16<k_with_high>(v);
  };
  while (n - i >= 16) {
    const unsigned m = scan16(i);
    if (m != 0) {
      return i + static_cast<size_t>(std::countr_zero(m));
    }
    i += 16;
  }
  if (i != n && n - from >= 16) {
    const size_t at = n - 16;
    const unsigned m = scan16(at);
    return m == 0 ? n : at + static_cast<size_t>(std::countr_zero(m));
  }
#endif
  while (n - i >= 8) {
    const uint64_t m = special_mask<k_with_high>(load8(p + i));
    copy(i, 8);
    if (m != 0) {
      return i + first_flagged(m);
    }
    i += 8;
  }
  if (i == n) {
    return n;
  }
  if (n - from >= 8) {
    // The loop ran, so the last 8 bytes start at or after `from`.
    const size_t at = n - 8;
    const uint64_t m = special_mask<k_with_high>(load8(p + at));
    copy(at, 8);
    return m == 0 ? n : at + first_flagged(m);
  }
  if (n - i >= 4) {
    const size_t at = n - 4;
    const uint64_t w = load4(p + i) | (uint64_t{load4(p + at)} << 32U);
    const uint64_t m = special_mask<k_with_high>(w);
    copy(i, 4);
    copy(at, 4);
    if (m == 0) {
      return n;
    }
    const size_t k = first_flagged(m);
    return k < 4 ? i + k : at + (k - 4);
  }
  for (; i < n; ++i) {
    if (is_special<k_with_high>(static_cast<unsigned char>(p[i]))) {
      return i;
    }
    copy(i, 1);
  }
  return n;
}

template<bool k_with_high>
size_t find_special(std::string_view s, size_t i) {
  return scan_plain<k_with_high, false>(s, i, nullptr);
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
      m_p(out.data() + pos),
      m_end(out.data() + out.size()) {}

  bool value(const Json& v, size_t depth) {
    if (depth > k_max_depth) {
      return bad("nesting is too deep");
    }
    switch (v.type()) {
    case Json::value_t::null:
      put("null");
      return true;
    case Json::value_t::boolean:
      if (*v.get_ptr<const Json::boolean_t*>()) {
        put("true");
      } else {
        put("false");
      }
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

  // Returns the end of what is written.
  [[nodiscard]] size_t pos() const {
    return static_cast<size_t>(m_p - m_out.data());
  }
  [[nodiscard]] const char* why() const {
    return m_why;
  }

private:
  bool bad(const char* why) {
    m_why = why;
    return false;
  }

  // Makes room for the next `n` bytes (at m_p).
  void room(size_t n) {
    if (static_cast<size_t>(m_end - m_p) < n) [[unlikely]] {
      grow(n);
    }
  }
  // The room grows with what this encoding has written so far (not with the
  // whole buffer, which may hold a caller's earlier data), so zero-filling
  // costs at most about twice the encoding's own size.
  [[gnu::noinline]] void grow(size_t n) {
    const size_t at = pos();
    m_out.resize(at + std::max(n, at - m_start + 256));
    m_p = m_out.data() + at;
    m_end = m_out.data() + m_out.size();
  }
  void put(char c) {
    room(1);
    *m_p++ = c;
  }
  template<size_t k_n>
  void put(const char (&literal)[k_n]) {
    room(k_n - 1);
    std::memcpy(m_p, literal, k_n - 1);
    m_p += k_n - 1;
  }

  template<typename Int>
  void put_integer(Int v) {
    constexpr size_t k_max_digits = 20; // "-9223372036854775808"
    room(k_max_digits);
    // to_chars writes the shortest form: no '+', no leading zeros.
    m_p = std::to_chars(m_p, m_p + k_max_digits, v).ptr;
  }

  bool string(std::string_view s) {
    const size_t n = s.size();
    // Room for the quotes and one escape; later escapes make their own.
    room(n + 8);
    *m_p++ = '"';
    // Plain runs are copied while they are scanned. Most strings are one run
    // of plain ASCII, finished here; the rest go on out of line.
    const size_t j = scan_plain<true, true>(s, 0, m_p);
    m_p += j;
    if (j != n) [[unlikely]] {
      return string_rest(s, j);
    }
    *m_p++ = '"';
    return true;
  }

  // Goes on with string() at s[i], a byte that needs attention. Until the
  // first non-ASCII byte everything is ASCII, so UTF-8 is checked once, from
  // that byte on, and the scan then stops at escapes only. (A failure may
  // leave part of the string written; the callers drop it.)
  [[gnu::noinline]] bool string_rest(std::string_view s, size_t i) {
    static constexpr char k_hex[] = "0123456789abcdef";
    const size_t n = s.size();
    bool validated = false;
    for (;;) {
      const auto u = static_cast<unsigned char>(s[i]);
      if (u >= 0x80) {
        if (!valid_utf8(s.substr(i))) {
          return bad("string is not valid UTF-8");
        }
        validated = true;
      } else {
        // Room left: at least n - i + 7, enough for an escape.
        m_p[0] = '\\';
        switch (u) {
        case '"':
          m_p[1] = '"';
          break;
        case '\\':
          m_p[1] = '\\';
          break;
        case '\b':
          m_p[1] = 'b';
          break;
        case '\f':
          m_p[1] = 'f';
          break;
        case '\n':
          m_p[1] = 'n';
          break;
        case '\r':
          m_p[1] = 'r';
          break;
        case '\t':
          m_p[1] = 't';
          break;
        default: // other controls
          m_p[1] = 'u';
          m_p[2] = '0';
          m_p[3] = '0';
          m_p[4] = k_hex[u >> 4U];
          m_p[5] = k_hex[u & 0xfU];
          m_p += 4;
        }
        m_p += 2;
        ++i;
        room(n - i + 7); // the rest, an escape and the closing quote
      }
      const size_t j = validated ? scan_plain<false, true>(s, i, m_p)
                                 : scan_plain<true, true>(s, i, m_p);
      m_p += j - i;
      if (j == n) {
        break;
      }
      i = j;
    }
    *m_p++ = '"';
    return true;
  }

  std::string& m_out;
  size_t m_start; // where this encoding began in m_out
  char* m_p;      // end of what is written
  char* m_end;    // end of m_out: [m_p, m_end) is room
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

  // Returns a < b by unsigned bytes. Member names mostly differ in their first
  // byte, which is compared here rather than in a memcmp call.
  static bool key_less(std::string_view a, std::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0]) {
      return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
    }
    return a < b;
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
      if (previous != nullptr && !key_less(*previous, key)) {
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
