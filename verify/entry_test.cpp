// Entry encoding per schemas/FORMAT.md §"Entries" and schemas/entry.schema.json.
#include "verify/entry.hpp"

#include <doctest/doctest.h>

using namespace custody;
using namespace custody::verify;

namespace {
Entry sample() {
  Entry e;
  e.origin = "custody.test/vault-1";
  e.seq = 7;
  e.prev = sha256("prev");
  e.type = "incident_status";
  e.t_ms = 1764777600000;
  e.actor = "alice";
  e.kid = to_hex(sha256("key"));
  e.incident = "INC-2025-12-03-1";
  e.fields = Json{{"from", "open"}, {"to", "contained"}, {"at_ms", 1764777500000}, {"note", "fw"}};
  return e;
}
} // namespace

TEST_CASE("verify::encode_entry is canonical and decode_entry round-trips") {
  const Entry e = sample();
  auto bytes = encode_entry(e);
  REQUIRE(bytes);
  CHECK(bytes->starts_with("{\"actor\":\"alice\",\"fields\":{\"at_ms\":1764777500000,"));
  CHECK(bytes->find(' ') == std::string::npos);
  auto back = decode_entry(*bytes);
  REQUIRE(back);
  CHECK(back->seq == 7);
  CHECK(back->prev == e.prev);
  CHECK(back->fields == e.fields);
  CHECK(*encode_entry(*back) == *bytes);
  CHECK(signed_message(*bytes) == "custody-entry/v1\n" + *bytes);
  CHECK(entry_leaf_hash(*bytes) != sha256(*bytes)); // leaf prefix 0x00
}

TEST_CASE("verify::decode_entry rejects non-canonical bytes with the same meaning") {
  const std::string bytes = *encode_entry(sample());
  // Same JSON value, different bytes: a space after the first colon.
  std::string spaced = bytes;
  spaced.insert(spaced.find(':') + 1, " ");
  auto r = decode_entry(spaced);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
  CHECK(r.error().message.find("not canonical") != std::string::npos);
  // Escaped letter in a string.
  std::string escaped = bytes;
  escaped.replace(escaped.find("alice"), 1, "\\u0061");
  CHECK_FALSE(decode_entry(escaped));
}

TEST_CASE("verify::encode_entry and decode_entry enforce the schemas") {
  Entry e = sample();
  SUBCASE("missing field") {
    e.fields.erase("note");
  }
  SUBCASE("unknown field") {
    e.fields["extra"] = 1;
  }
  SUBCASE("bad enum") {
    e.fields["to"] = "done";
  }
  SUBCASE("unknown type") {
    e.type = "rewrite_history";
  }
  SUBCASE("bad incident id") {
    e.incident = "INC-1";
  }
  SUBCASE("bad actor name") {
    e.actor = "alice; rm -rf /";
  }
  CHECK_FALSE(encode_entry(e));
  // The same violation in stored bytes is reported as corruption.
  Json j{{"v", 1}, {"origin", e.origin}, {"seq", e.seq}, {"prev", to_hex(e.prev)},
         {"type", e.type}, {"t_ms", e.t_ms}, {"actor", e.actor}, {"kid", e.kid},
         {"incident", e.incident}, {"fields", e.fields}};
  auto r = decode_entry(*cjson::encode(j));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
}

TEST_CASE("verify::decode_entry rejects an extra envelope field and a wrong version") {
  Json j = Json::parse(*encode_entry(sample()));
  j["sig"] = "x";
  CHECK_FALSE(decode_entry(*cjson::encode(j)));
  j.erase("sig");
  j["v"] = 2;
  CHECK_FALSE(decode_entry(*cjson::encode(j)));
}
