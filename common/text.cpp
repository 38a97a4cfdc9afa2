#include "common/text.hpp"

#include <cstdint>
#include <cstring>

namespace custody {

namespace {

// Returns the length of the valid UTF-8 sequence at `s[i]`, or 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if ((c & 0xe0U) == 0xc0U) {
    n = 2;
    cp = c & 0x1fU;
  } else if ((c & 0xf0U) == 0xe0U) {
    n = 3;
    cp = c & 0x0fU;
  } else if ((c & 0xf8U) == 0xf0U) {
    n = 4;
    cp = c & 0x07U;
  } else {
    return 0;
  }
  if (i + n > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0U) != 0x80U) {
      return 0;
    }
    cp = (cp << 6U) | (cc & 0x3fU);
  }
  const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

} // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII, the common case, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t word = 0;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      i += 8;
    }
    if (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    if (i == s.size()) {
      break;
    }
    uint32_t cp = 0;
    const size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string escape_for_terminal(std::string_view s, bool keep_newlines) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto hex_byte = [&](unsigned char b) {
    out += "\\x";
    out.push_back(k_hex[b >> 4U]);
    out.push_back(k_hex[b & 0xfU]);
  };
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      hex_byte(static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (keep_newlines && (cp == '\n' || cp == '\t')) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x20 || cp == 0x7f) {
      hex_byte(static_cast<unsigned char>(cp));
    } else if (cp >= 0x80 && cp <= 0x9f) {
      for (size_t k = 0; k < n; ++k) {
        hex_byte(static_cast<unsigned char>(s[i + k]));
      }
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

} // namespace custody
