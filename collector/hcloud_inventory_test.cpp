// Tests for hcloud_inventory.hpp: the expected-inventory format
// (schemas/expected-inventory.schema.json, schemas/FORMAT-hcloud.md) and the
// project audit against the seeded incident project.
#include "collector/hcloud_inventory.hpp"

#include "collector/hcloud_test_support.hpp"
#include "common/time.hpp"

#include <doctest/doctest.h>

#include <set>

#include "tests/hcloud_standin/openapi_validator.hpp"
#include "tests/hcloud_standin/standin_process.hpp"
#include "tests/testutil.hpp"

using namespace custody::collector::hcloud;
using custody::collector::hcloud::testing::Harness;
using custody::test::StandinProcess;
using nlohmann::json;

namespace {

ExpectedInventory fixture() {
  auto inv = load_expected_inventory(
      custody::test::standin_data("expected_inventory.json"));
  REQUIRE_MESSAGE(inv.has_value(), (inv ? "" : inv.error().message));
  return *inv;
}

const json& schema() {
  static const json s = json::parse(
      custody::test::read_file(std::filesystem::path(CUSTODY_SOURCE_DIR)
                               / "schemas/expected-inventory.schema.json"));
  return s;
}

// The parser and the published JSON Schema must agree.
void both_reject(const std::string& text) {
  INFO(text);
  CHECK_FALSE(parse_expected_inventory(text).has_value());
  CHECK_FALSE(
      custody::test::validate_schema(schema(), json::parse(text), schema())
          .empty());
}

} // namespace

TEST_CASE(
    "hcloud::parse_expected_inventory reads the committed fixture, which "
    "conforms to the schema") {
  const ExpectedInventory inv = fixture();
  CHECK(inv.servers.size() == 11);
  CHECK(inv.ssh_keys.size() == 3);
  CHECK(inv.project == "acme-hosting production");
  CHECK(inv.as_of_ms
        == custody::parse_rfc3339_ms("2026-11-15T00:00:00Z").value());
  CHECK(inv.servers[4].note == "primary database, delete-protected");
  const json doc = json::parse(custody::test::read_file(
      custody::test::standin_data("expected_inventory.json")));
  const auto errors = custody::test::validate_schema(schema(), doc, schema());
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors.front()));
}

TEST_CASE("hcloud::parse_expected_inventory rejects what the schema rejects") {
  const std::string ok =
      R"({"format":"custody-expected-inventory/v1","servers":[{"name":"a"}],"ssh_keys":[]})";
  CHECK(parse_expected_inventory(ok).has_value());
  CHECK(custody::test::validate_schema(schema(), json::parse(ok), schema())
            .empty());
  both_reject(
      R"({"format":"custody-expected-inventory/v2","servers":[],"ssh_keys":[]})");
  both_reject(R"({"format":"custody-expected-inventory/v1","servers":[]})");
  both_reject(
      R"({"format":"custody-expected-inventory/v1","servers":[],"ssh_keys":[],"ssh_key":[]})");
  both_reject(
      R"({"format":"custody-expected-inventory/v1","servers":[{"note":"x"}],"ssh_keys":[]})");
  both_reject(
      R"({"format":"custody-expected-inventory/v1","servers":[{"id":0}],"ssh_keys":[]})");
  both_reject(
      R"({"format":"custody-expected-inventory/v1","servers":[],"ssh_keys":[{"fingerprint":"SHA256:abc"}]})");
  both_reject(
      R"({"format":"custody-expected-inventory/v1","servers":[],"ssh_keys":[{"name":"no fingerprint"}]})");
  // Duplicates are beyond JSON Schema; the parser refuses them.
  CHECK_FALSE(
      parse_expected_inventory(
          R"({"format":"custody-expected-inventory/v1","servers":[{"id":5},{"id":5}],"ssh_keys":[]})")
          .has_value());
  auto dup = parse_expected_inventory(
      R"({"format":"custody-expected-inventory/v1","servers":[],"ssh_keys":[{"fingerprint":"AA:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"},{"fingerprint":"MD5:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"}]})");
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().message.find("listed twice") != std::string::npos);
}

TEST_CASE(
    "hcloud::normalize_md5_fingerprint accepts the API's and ssh-keygen's "
    "forms") {
  CHECK(normalize_md5_fingerprint(
            "93:97:A7:d5:97:ef:df:54:68:16:f1:23:a5:60:14:96")
            .value()
        == "93:97:a7:d5:97:ef:df:54:68:16:f1:23:a5:60:14:96");
  CHECK(normalize_md5_fingerprint(
            "MD5:93:97:a7:d5:97:ef:df:54:68:16:f1:23:a5:60:14:96")
            .has_value());
  CHECK_FALSE(normalize_md5_fingerprint("93:97:a7").has_value());
  CHECK_FALSE(normalize_md5_fingerprint(
                  "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")
                  .has_value());
}

TEST_CASE(
    "hcloud::compare_inventory finds the seed's 3 unauthorised servers and 1 "
    "unknown SSH key") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto actual = fetch_inventory(client);
  REQUIRE_MESSAGE(actual.has_value(), (actual ? "" : actual.error().message));
  CHECK(actual->servers.size() == 14);
  CHECK(actual->images.size() == 3); // 2 snapshots + 1 backup, no system images
  CHECK(actual->bodies.size() == 5);
  const auto since = custody::parse_rfc3339_ms("2026-11-29T00:00:00Z").value();
  const InventoryReport report = compare_inventory(fixture(), *actual, since);
  CHECK_FALSE(report.clean());
  CHECK(report.count(FindingKind::unauthorized_server) == 3);
  CHECK(report.count(FindingKind::unknown_ssh_key) == 1);
  CHECK(report.count(FindingKind::missing_server) == 0);
  CHECK(report.count(FindingKind::missing_ssh_key) == 0);
  CHECK(report.count(FindingKind::server_renamed) == 0);
  std::set<int64_t> unauthorized;
  for (const auto& f : report.findings) {
    if (f.kind == FindingKind::unauthorized_server) {
      unauthorized.insert(*f.id);
    }
    if (f.kind == FindingKind::unknown_ssh_key) {
      CHECK(f.name == "backup");
      CHECK(f.id == 4294968404LL);
    }
  }
  CHECK(unauthorized
        == std::set<int64_t>{4294969001LL, 4294969002LL, 4294969003LL});
  // Created since 2026-11-29: the 3 servers, the key and the nightly backup.
  CHECK(report.count(FindingKind::created_since) == 5);
  const json j = report.to_json();
  CHECK(j.at("since") == "2026-11-29T00:00:00.000Z");
  CHECK(j.at("counts").at("unauthorized_server") == 3);
  CHECK(j.at("findings")[0].at("kind") == "unauthorized_server");
  CHECK(j.at("findings")[0].at("id") == 4294969001LL);
}

TEST_CASE(
    "hcloud::compare_inventory: ids decide over names; name-only entries; "
    "renames; missing resources") {
  ExpectedInventory expected;
  expected.servers = {{int64_t{10}, std::string("web-1"), ""},
                      {std::nullopt, std::string("db-1"), ""},
                      {int64_t{30}, std::nullopt, ""}};
  expected.ssh_keys = {
      {"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99", std::nullopt, ""}};
  ProjectInventory actual;
  Server renamed;
  renamed.id = 10;
  renamed.name = "web-1-old";
  Server by_name;
  by_name.id = 20;
  by_name.name = "db-1";
  Server impostor; // an attacker's copy of a known name does not pass
  impostor.id = 99;
  impostor.name = "web-1";
  actual.servers = {renamed, by_name, impostor};
  SshKey key;
  key.id = 5;
  key.name = "k";
  key.fingerprint =
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"; // case differs
  actual.ssh_keys = {key};
  const InventoryReport r = compare_inventory(expected, actual, std::nullopt);
  CHECK(r.count(FindingKind::server_renamed) == 1);
  CHECK(r.count(FindingKind::unauthorized_server) == 1);
  CHECK(r.count(FindingKind::missing_server) == 1); // id 30
  CHECK(r.count(FindingKind::unknown_ssh_key) == 0);
  CHECK(r.count(FindingKind::created_since) == 0);
  for (const auto& f : r.findings) {
    if (f.kind == FindingKind::unauthorized_server) {
      CHECK(f.id == 99);
    }
  }
}
