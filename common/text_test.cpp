#include "common/text.hpp"

#include <doctest/doctest.h>

using namespace custody;

TEST_CASE("text::valid_utf8 finds a bad byte at any offset of a long ASCII run") {
  // The ASCII fast path reads 8 bytes at a time: every offset and tail length.
  for (size_t at = 0; at <= 24; ++at) {
    std::string s(24, 'a');
    CAPTURE(at);
    CHECK(valid_utf8(std::string(s).insert(at, "\xc3\xa9")));  // é: valid
    CHECK_FALSE(valid_utf8(std::string(s).insert(at, "\xff")));
    CHECK_FALSE(valid_utf8(std::string(s).insert(at, "\xc0\xaf"))); // overlong
    CHECK_FALSE(valid_utf8(s.substr(0, at) + "\xe2\x82"));         // truncated at the end
    CHECK(valid_utf8(s.substr(0, at)));
  }
}

TEST_CASE("text::valid_utf8 accepts UTF-8 and rejects overlongs, surrogates, truncation") {
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("é€😀"));
  CHECK_FALSE(valid_utf8("\xc0\xaf"));         // overlong '/'
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));     // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80")); // > U+10FFFF
  CHECK_FALSE(valid_utf8("\xe2\x82"));         // truncated
  CHECK_FALSE(valid_utf8("\xff"));
}

TEST_CASE("text::escape_for_terminal neutralises escape sequences and binary") {
  CHECK(escape_for_terminal("\x1b[2J\x1b]0;owned\x07ok") == "\\x1b[2J\\x1b]0;owned\\x07ok");
  CHECK(escape_for_terminal(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_for_terminal("\xc2\x9b" "31m") == "\\xc2\\x9b31m"); // C1 CSI
  CHECK(escape_for_terminal("\xff\xfe") == "\\xff\\xfe");
  CHECK(escape_for_terminal("back\\slash") == "back\\\\slash");
  CHECK(escape_for_terminal("l1\nl2\t") == "l1\\x0al2\\x09");
  CHECK(escape_for_terminal("l1\nl2\t", true) == "l1\nl2\t");
  CHECK(escape_for_terminal("héllo €") == "héllo €");
}
