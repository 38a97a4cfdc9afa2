#include "common/json_schema.hpp"

#include <doctest/doctest.h>

using namespace custody;
using nlohmann::json;

TEST_CASE("JsonSchema validates the keywords custody's schemas use") {
  auto schema = JsonSchema::parse(R"({
    "$defs": {"hex": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    "type": "object",
    "required": ["id", "sha256", "size"],
    "additionalProperties": false,
    "properties": {
      "id": {"type": "string", "minLength": 1, "maxLength": 5},
      "sha256": {"$ref": "#/$defs/hex"},
      "size": {"type": "integer", "minimum": 0},
      "kind": {"enum": ["file", "bundle"]},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
      "when": {"type": "string", "format": "date-time"},
      "note": {"type": "string", "nullable": true},
      "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]}
    }
  })");
  REQUIRE(schema);
  const std::string hex(64, 'a');
  json ok = {{"id", "E1"}, {"sha256", hex}, {"size", 0}, {"kind", "file"},
             {"tags", {"a"}}, {"when", "2026-12-03T00:00:00Z"}, {"note", nullptr}, {"either", 3}};
  CHECK(schema->validate(ok).empty());
  CHECK(schema->check(ok, "item"));

  auto bad = [&](json v, const std::string& expect) {
    const auto errors = schema->validate(v);
    REQUIRE_FALSE(errors.empty());
    bool found = false;
    for (const auto& e : errors) {
      found = found || e.find(expect) != std::string::npos;
    }
    CAPTURE(errors[0]);
    CHECK(found);
  };
  json v = ok;
  v.erase("size");
  bad(v, "missing required 'size'");
  v = ok;
  v["size"] = -1;
  bad(v, "below the minimum");
  v = ok;
  v["size"] = 1.5;
  bad(v, "expected type");
  v = ok;
  v["sha256"] = "ABC";
  bad(v, "does not match");
  v = ok;
  v["extra"] = 1;
  bad(v, "unexpected property 'extra'");
  v = ok;
  v["kind"] = "disk";
  bad(v, "is not one of");
  v = ok;
  v["id"] = "toolong";
  bad(v, "longer than 5");
  v = ok;
  v["tags"] = {"a", "b", "c"};
  bad(v, "more than 2 items");
  v = ok;
  v["tags"] = {1};
  bad(v, "/tags/0");
  v = ok;
  v["when"] = "2026-12-03 00:00:00";
  bad(v, "not an RFC 3339");
  v = ok;
  v["either"] = true;
  bad(v, "matches 0 of oneOf");
  CHECK_FALSE(schema->check(v, "item"));
}

TEST_CASE("JsonSchema compares enum and const numbers by value, whatever their storage") {
  auto schema = JsonSchema::parse(R"({"properties": {
    "one": {"const": 1},
    "big": {"enum": [18446744073709551615, -1, 2.5]}
  }})");
  REQUIRE(schema);
  // A parser stores 1 as unsigned; json(1) is signed, json(1.0) a double.
  for (const json& one : {json::parse("1"), json(1), json(1U), json(1.0)}) {
    CAPTURE(one.dump());
    CHECK(schema->validate({{"one", one}}).empty());
  }
  for (const json& other : {json::parse("-1"), json(2), json(18446744073709551615ULL), json("1")}) {
    CAPTURE(other.dump());
    CHECK(schema->validate({{"one", other}}) == std::vector<std::string>{"/one: must be 1"});
  }
  for (const json& in : {json::parse("18446744073709551615"), json(-1), json::parse("-1"), json(2.5)}) {
    CAPTURE(in.dump());
    CHECK(schema->validate({{"big", in}}).empty());
  }
  // -1 as unsigned would be 18446744073709551615: only the values count.
  for (const json& out : {json(1), json(9223372036854775807LL), json(-2), json("-1")}) {
    CAPTURE(out.dump());
    CHECK(schema->validate({{"big", out}}).size() == 1);
  }
}
