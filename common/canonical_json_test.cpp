// Canonical JSON as specified in schemas/FORMAT.md §"Canonical JSON".
#include "common/canonical_json.hpp"

#include <doctest/doctest.h>

using namespace custody;
using cjson::Json;

TEST_CASE("cjson::encode sorts keys, drops whitespace and escapes minimally") {
  Json v = Json::parse(R"({ "b": 1, "a": [true, false, null, -5, "x\"\\\n\u0001é€😀/"], "A": {} })");
  CHECK(*cjson::encode(v)
        == "{\"A\":{},\"a\":[true,false,null,-5,\"x\\\"\\\\\\n\\u0001é€😀/\"],\"b\":1}");
  // Key order is by UTF-8 bytes: "Z" < "a" < "é" (0xc3) < "😀" (0xf0).
  Json k = {{"é", 1}, {"a", 2}, {"Z", 3}, {"😀", 4}};
  CHECK(*cjson::encode(k) == "{\"Z\":3,\"a\":2,\"é\":1,\"😀\":4}");
}

TEST_CASE("cjson::decode round-trips canonical text byte for byte") {
  for (const char* text :
       {"{}", "[]", "0", "-9223372036854775808", "9223372036854775807", "\"\"",
        R"({"a":{"b":[1,2,{"c":"\u001f"}]},"seq":12,"t":"\b\f\n\r\t"})"}) {
    CAPTURE(text);
    auto v = cjson::decode(text);
    REQUIRE(v);
    CHECK(*cjson::encode(*v) == text);
  }
}

TEST_CASE("cjson::decode rejects non-canonical text with the same meaning") {
  for (const char* text : {
         R"({"b":1,"a":2})",          // unsorted keys
         R"({"a":1,"a":1})",          // duplicate key
         R"({"a": 1})",               // whitespace
         R"( {"a":1})",               // leading whitespace
         R"({"a":1}
)",                                   // trailing newline
         R"({"a":"\u0041"})",         // needless escape
         R"({"a":"\/"})",             // escaped solidus
         R"({"a":"\u001F"})",         // uppercase hex escape
         R"({"a":"é"})",              // (placeholder replaced below)
         R"({"a":1.0})",              // float
         R"({"a":1e2})",              // exponent
         R"({"a":-0})",               // negative zero
         R"({"a":01})",               // leading zero (not JSON either)
         R"({"a":9223372036854775808})", // beyond int64
         R"({"a":1,})",               // trailing comma
       }) {
    if (std::string_view(text) == R"({"a":"é"})") {
      text = "{\"a\":\"\\u00e9\"}"; // escaped non-ASCII instead of literal UTF-8
    }
    CAPTURE(text);
    auto v = cjson::decode(text);
    CHECK_FALSE(v);
    if (!v) {
      CHECK(v.error().message.find("not canonical JSON") != std::string::npos);
    }
  }
}

TEST_CASE("cjson rejects invalid UTF-8, floats and hostile nesting") {
  CHECK_FALSE(cjson::decode("\"\xff\""));
  CHECK_FALSE(cjson::decode("\"\xed\xa0\x80\"")); // UTF-8 encoded surrogate
  CHECK_FALSE(cjson::encode(Json(std::string("\xc0\xaf"))));
  CHECK_FALSE(cjson::encode(Json(1.5)));
  CHECK_FALSE(cjson::encode(Json(uint64_t{1} << 63)));
  std::string deep(100000, '[');
  CHECK_FALSE(cjson::decode(deep)); // no stack overflow
  std::string ok_depth = std::string(32, '[') + std::string(32, ']');
  CHECK(cjson::decode(ok_depth));
  std::string too_deep = std::string(33, '[') + std::string(33, ']');
  CHECK_FALSE(cjson::decode(too_deep));
}
