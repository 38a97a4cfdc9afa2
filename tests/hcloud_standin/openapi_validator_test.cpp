// Tests for the OpenAPI schema validator itself (so the conformance test's
// "no violations" means something): each keyword must reject a bad value.
#include "tests/hcloud_standin/openapi_validator.hpp"

#include <doctest/doctest.h>

#include "tests/hcloud_standin/standin_process.hpp"

using custody::test::OpenApiSpec;
using custody::test::validate_schema;
using nlohmann::json;

namespace {

size_t violations(const json& schema,
                  const json& value,
                  const json& root = json::object()) {
  return validate_schema(schema, value, root).size();
}

} // namespace

TEST_CASE("test::validate_schema checks type, nullable and enum") {
  const json s = {{"type", "string"}, {"enum", {"running", "off"}}};
  CHECK(violations(s, "running") == 0);
  CHECK(violations(s, "paused") == 1);
  CHECK(violations(s, 5) == 1);
  CHECK(violations(s, nullptr) == 1);
  const json n = {{"type", "integer"}, {"nullable", true}};
  CHECK(violations(n, nullptr) == 0);
  CHECK(violations(n, 4294967296LL) == 0);
  CHECK(violations(n, 1.5) == 1);
}

TEST_CASE(
    "test::validate_schema checks required, nested properties, items and "
    "strictness") {
  const json s = {
      {"type", "object"},
      {"required", {"id", "tags"}},
      {"properties",
       {{"id", {{"type", "integer"}, {"minimum", 1}}},
        {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  CHECK(violations(s, {{"id", 1}, {"tags", {"a"}}}) == 0);
  CHECK(violations(s, {{"id", 1}}) == 1); // missing tags
  CHECK(violations(s, {{"id", 0}, {"tags", json::array()}}) == 1); // minimum
  CHECK(violations(s, {{"id", 1}, {"tags", {"a", 2}}}) == 1);      // item type
  CHECK(violations(s, {{"id", 1}, {"tags", json::array()}, {"datacenter", {}}})
        == 1); // undeclared (strict)
  custody::test::ValidationOptions lax;
  lax.strict = false;
  CHECK(validate_schema(s,
                        {{"id", 1}, {"tags", json::array()}, {"extra", 1}},
                        json::object(),
                        lax)
            .empty());
  const json labels = {{"type", "object"},
                       {"additionalProperties", {{"type", "string"}}}};
  CHECK(violations(labels, {{"k", "v"}}) == 0);
  CHECK(violations(labels, {{"k", 1}}) == 1);
}

TEST_CASE("test::validate_schema checks date-time, pattern and maxLength") {
  const json dt = {{"type", "string"}, {"format", "date-time"}};
  CHECK(violations(dt, "2016-01-30T23:55:00Z") == 0);
  CHECK(violations(dt, "2016-01-30T23:55:00+00:00") == 0);
  CHECK(violations(dt, "2016-01-30 23:55:00") == 1);
  CHECK(violations(dt, "2016-02-30T23:55:00Z") == 1);
  const json p = {{"type", "string"},
                  {"pattern", "^[a-z0-9]+(-?[a-z0-9]*)*$"},
                  {"maxLength", 8}};
  CHECK(violations(p, "fsn1") == 0);
  CHECK(violations(p, "FSN1") == 1);
  CHECK(violations(p, "abcdefghij") == 1);
}

TEST_CASE("test::validate_schema resolves $ref and combinators") {
  const json root = {
      {"components", {{"schemas", {{"Id", {{"type", "integer"}}}}}}}};
  CHECK(violations({{"$ref", "#/components/schemas/Id"}}, 3, root) == 0);
  CHECK(violations({{"$ref", "#/components/schemas/Id"}}, "3", root) == 1);
  const json one = {{"oneOf", {{{"type", "integer"}}, {{"type", "number"}}}}};
  CHECK(violations(one, 1.5) == 0);
  CHECK(violations(one, 2) == 1); // integer matches both
  const json any = {{"anyOf", {{{"type", "string"}}, {{"type", "boolean"}}}}};
  CHECK(violations(any, true) == 0);
  CHECK(violations(any, 1) == 1);
  const json all = {{"allOf", {{{"type", "integer"}}, {{"minimum", 10}}}}};
  CHECK(violations(all, 11) == 0);
  CHECK(violations(all, 9) == 1);
}

TEST_CASE(
    "test::OpenApiSpec matches path templates, preferring literal segments") {
  const auto spec =
      OpenApiSpec::load(custody::test::standin_data("openapi-subset.json"));
  CHECK(spec.match_path("/servers/42") == "/servers/{id}");
  CHECK(spec.match_path("/servers/actions") == "/servers/actions");
  CHECK(spec.match_path("/servers/42/actions/create_image")
        == "/servers/{id}/actions/create_image");
  CHECK(spec.match_path("/servers/42/actions/77")
        == "/servers/{id}/actions/{action_id}");
  CHECK(spec.match_path("/servers?page=2") == "/servers");
  CHECK_FALSE(spec.match_path("/load_balancers").has_value());
  REQUIRE(spec.response_schema("GET", "/servers/{id}", 200) != nullptr);
  REQUIRE(spec.response_schema("GET", "/servers/{id}", 404)
          != nullptr); // via 4xx
  CHECK(spec.response_schema("DELETE", "/firewalls/{id}", 204)
        == nullptr); // no body
  // The drift patch removed the Server's datacenter (research §0.1).
  const json* server = spec.response_schema("GET", "/servers/{id}", 200);
  CHECK_FALSE(server->at("properties")
                  .at("server")
                  .at("properties")
                  .contains("datacenter"));
}
