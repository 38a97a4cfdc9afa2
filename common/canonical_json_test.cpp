// Canonical JSON as specified in schemas/FORMAT.md §"Canonical JSON".
#include "common/canonical_json.hpp"

#include "common/text.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <optional>
#include <string>

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

namespace {

// The previous definition of decode(): parse any JSON with nlohmann, re-encode
// canonically, accept only if byte-identical. decode() must agree with it on
// every input (the new parser checks canonical form while it parses instead).
bool reference_accepts(std::string_view text) {
  size_t depth = 0;
  size_t max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      escaped = !escaped && c == '\\';
      in_string = escaped || c != '"';
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  if (max_depth > 40) {
    return false; // deeper than any accepted value; spares nlohmann's recursion
  }
  Json v = Json::parse(text.begin(), text.end(), nullptr, false);
  if (v.is_discarded()) {
    return false;
  }
  auto again = cjson::encode(v);
  return again && *again == text;
}

} // namespace

TEST_CASE("cjson::decode accepts exactly what parse-and-re-encode accepted (differential)") {
  std::vector<std::string> corpus = {
    R"({"actor":"alice","fields":{"at_ms":1764777500000,"from":"open","note":"a\"b\\c\n\u001f","to":"contained"},"incident":"INC-2025-12-03-1","kid":"ab","prev":"00","seq":7,"t_ms":-9223372036854775808,"type":"x","v":1})",
    R"([[],[[]],{},{"":null},true,false,0,-1,9223372036854775807,"é€😀\u0000\b\f\r\t/"])",
    std::string(32, '[') + std::string(32, ']'),
  };
  // Mutations: flip every byte, delete every byte, and put interesting bytes
  // at every position.
  const std::string inserts[] = {" ", "\\", "\"", "0", "-", ".", "e", "\\u0041", ",", "}", "]",
                                 "\x01", "\xc3", "\xff", "a", "u"};
  size_t checked = 0;
  for (const std::string& base : corpus) {
    REQUIRE(reference_accepts(base));
    REQUIRE(cjson::decode(base));
    std::vector<std::string> variants;
    for (size_t i = 0; i < base.size(); ++i) {
      for (int x : {0x01, 0x20, 0x40, 0x80}) {
        std::string m = base;
        m[i] = static_cast<char>(static_cast<unsigned char>(m[i]) ^ static_cast<unsigned>(x));
        variants.push_back(std::move(m));
      }
      std::string del = base;
      del.erase(i, 1);
      variants.push_back(std::move(del));
      for (const std::string& ins : inserts) {
        std::string m = base;
        m.insert(i, ins);
        variants.push_back(std::move(m));
      }
    }
    for (const std::string& v : variants) {
      const bool ref = reference_accepts(v);
      auto got = cjson::decode(v);
      CAPTURE(v);
      CHECK(static_cast<bool>(got) == ref);
      if (got && ref) {
        CHECK(*cjson::encode(*got) == v);
      }
      ++checked;
    }
  }
  CHECK(checked > 5000);
}

TEST_CASE("cjson::decode builds the same values, with the same number types, as nlohmann") {
  const char* text = R"([1,-1,0,9223372036854775807,-9223372036854775808,{"a":[true,null]}])";
  auto v = cjson::decode(text);
  REQUIRE(v);
  const Json ref = Json::parse(text);
  CHECK(*v == ref);
  for (size_t i = 0; i < ref.size(); ++i) {
    CAPTURE(i);
    CHECK((*v)[i].type() == ref[i].type());
  }
  CHECK((*v)[3].get<int64_t>() == INT64_MAX);
  CHECK((*v)[4].get<int64_t>() == INT64_MIN);
}

TEST_CASE("cjson::encode_into appends the encoding and keeps the buffer on failure") {
  const Json v = Json::parse(R"({"b":[1,-2,"x\ny"],"a":"é","c":{"d":null,"e":true}})");
  std::string out = "prefix:";
  REQUIRE(cjson::encode_into(v, out));
  CHECK(out == "prefix:" + *cjson::encode(v));
  REQUIRE(cjson::encode_into(Json(7), out));
  CHECK(out == "prefix:" + *cjson::encode(v) + "7");

  // A failure deep inside, after much was written, leaves `out` as it was.
  const std::string before = out;
  Json bad = v;
  bad["c"]["z"] = std::string(1000, 'a') + "\xff";
  auto r = cjson::encode_into(bad, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "string is not valid UTF-8");
  CHECK(out == before);
  CHECK_FALSE(cjson::encode_into(Json(1.5), out));
  CHECK(out == before);

  // Documents far larger than the first room the encoder makes.
  Json big = Json::array();
  for (int i = 0; i < 2000; ++i) {
    big.push_back({{"k" + std::to_string(i), std::string(static_cast<size_t>(i % 50), 'x')}});
  }
  std::string big_out;
  REQUIRE(cjson::encode_into(big, big_out));
  CHECK(big_out == *cjson::encode(big));
  CHECK(big_out == big.dump());
}

namespace {

// Canonical string encoding one byte at a time, the rules of FORMAT.md §2
// stated as plainly as possible, to check the word-at-a-time scanner against.
std::optional<std::string> reference_string(const std::string& s) {
  if (!valid_utf8(s)) {
    return std::nullopt;
  }
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
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
        out += fmt::format("\\u{:04x}", u);
      } else {
        out.push_back(c);
      }
    }
  }
  return out + "\"";
}

} // namespace

TEST_CASE("cjson strings: every special byte at every offset of short and long strings") {
  // The scanners look at 8 (or 4) bytes at a time with overlapping tails, so
  // place each kind of byte at each position of strings of 0..40 bytes, also
  // twice (an escape, then a non-ASCII byte) and with a valid UTF-8 prefix.
  const std::string specials[] = {"\"",   "\\",   "\n", std::string(1, '\0'), "\x01", "\x1f",
                                  "\x7f", " ",    "~",  "é",                  "€",    "😀",
                                  "\xff", "\xc3", "\x80", "\xed\xa0\x80"};
  size_t checked = 0;
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t pos = 0; pos <= len; ++pos) {
      for (const std::string& sp : specials) {
        for (const std::string& second : {std::string(), std::string("\t"), std::string("é"),
                                          std::string("\xe2\x82")}) {
          std::string s(len, 'a');
          s.insert(pos, sp);
          s.insert(s.size() - (len - pos) / 2, second);
          CAPTURE(s);
          const auto want = reference_string(s);
          const auto got = cjson::encode(Json(s));
          REQUIRE(static_cast<bool>(got) == want.has_value());
          if (!want) {
            CHECK(got.error().message == "string is not valid UTF-8");
            CHECK_FALSE(cjson::decode("\"" + s + "\""));
            continue;
          }
          CHECK(*got == *want);
          // As a key too, and through decode (which must give back `s`).
          const Json obj = {{s, 1}};
          CHECK(*cjson::encode(obj) == "{" + *want + ":1}");
          const auto back = cjson::decode(*want);
          REQUIRE(back);
          CHECK(back->get<std::string>() == s);
          const auto back_obj = cjson::decode("{" + *want + ":1}");
          REQUIRE(back_obj);
          CHECK(*back_obj == obj);
          // The raw bytes between quotes, as a text: accepted exactly when
          // parse-and-re-encode accepts them.
          const std::string raw = "\"" + s + "\"";
          CHECK(static_cast<bool>(cjson::decode(raw)) == reference_accepts(raw));
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("cjson strings: random mixes of bytes next to the special ones") {
  // Bytes just beside the boundaries the word-at-a-time tests use (0x20, '"',
  // '\\', 0x80), in random order and lengths, so that borrows between bytes
  // of a word are exercised; checked against the per-byte reference.
  const unsigned char alphabet[] = {0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d,
                                    0x7f, 0x80, 0x9f, 0xa0, 0xa9, 0xc3, 0xe2, 0x82, 0xac, 0xff,
                                    'a',  'a',  'a',  'a'};
  uint64_t state = 0x9e3779b97f4a7c15ULL; // fixed seed: the same strings every run
  const auto next = [&] {
    state ^= state << 13U;
    state ^= state >> 7U;
    state ^= state << 17U;
    return state;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string s(next() % 41, 'a');
    for (char& c : s) {
      c = static_cast<char>(alphabet[next() % std::size(alphabet)]);
    }
    CAPTURE(s);
    const auto want = reference_string(s);
    const auto got = cjson::encode(Json(s));
    REQUIRE(static_cast<bool>(got) == want.has_value());
    if (want) {
      CHECK(*got == *want);
      const auto back = cjson::decode(*want);
      REQUIRE(back);
      CHECK(back->get<std::string>() == s);
    } else {
      CHECK_FALSE(cjson::decode("\"" + s + "\""));
    }
    const std::string raw = "\"" + s + "\"";
    CHECK(static_cast<bool>(cjson::decode(raw)) == reference_accepts(raw));
  }
}
