// Tests for hcloud_workflow.hpp: naming and labelling rules (DOCS "Labels",
// research §1.4), the isolation firewall (research §3), and the snapshot and
// isolation workflows against hcloud-standin (DESIGN §4).
#include "collector/hcloud_workflow.hpp"

#include "collector/hcloud_test_support.hpp"
#include "common/time.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/hcloud_standin/standin_process.hpp"

using namespace custody::collector::hcloud;
using custody::collector::hcloud::testing::Harness;
using custody::test::StandinProcess;

namespace {

const int64_t k_now = custody::parse_rfc3339_ms("2026-12-03T16:15:00Z").value();
constexpr int64_t k_compromised =
    4294967390LL; // customer-vps-4711, fw-customer-vps applied directly
constexpr int64_t k_web =
    4294967322LL; // web-fsn1-01, fw-web applied by label selector

} // namespace

TEST_CASE(
    "hcloud::snapshot_description names incident, server and UTC stamp without "
    "INC-INC-") {
  CHECK(snapshot_description("INC-2026-12-03-1", k_compromised, k_now).value()
        == "forensic-snapshot-INC-2026-12-03-1-4294967390-20261203161500");
  CHECK_FALSE(snapshot_description("INC 1", 42, k_now).has_value());
  CHECK_FALSE(snapshot_description("", 42, k_now).has_value());
  CHECK_FALSE(snapshot_description("INC-1", 0, k_now).has_value());
}

TEST_CASE("hcloud label rules: keys, values, reserved prefix, incident ids") {
  CHECK(validate_label_key("custody/incident").has_value());
  CHECK(validate_label_key("example.com/my").has_value());
  CHECK(validate_label_key("just-a-key").has_value());
  CHECK_FALSE(validate_label_key("hetzner.cloud/x").has_value());
  CHECK_FALSE(validate_label_key("-leading").has_value());
  CHECK_FALSE(validate_label_key("Bad_Prefix/x").has_value());
  CHECK_FALSE(validate_label_key(std::string(64, 'a')).has_value());
  CHECK(validate_label_value("").has_value());
  CHECK(validate_label_value("INC-2026-12-03-1").has_value());
  CHECK_FALSE(validate_label_value("has space").has_value());
  CHECK_FALSE(validate_label_value("trailing-").has_value());
  CHECK_FALSE(validate_label_value(std::string(64, 'v')).has_value());
  auto labels =
      incident_labels("INC-2026-12-03-1", "forensic-snapshot", k_compromised);
  REQUIRE(labels.has_value());
  CHECK(*labels
        == Labels{{"custody/incident", "INC-2026-12-03-1"},
                  {"custody/purpose", "forensic-snapshot"},
                  {"custody/server", "4294967390"}});
  auto bad = incident_labels("INC/../1", "x");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("incident id") != std::string::npos);
}

TEST_CASE("hcloud::normalize_cidr canonicalises addresses and networks") {
  CHECK(normalize_cidr("203.0.113.7").value() == "203.0.113.7/32");
  CHECK(normalize_cidr("203.0.113.7/24").value() == "203.0.113.0/24");
  CHECK(normalize_cidr("2001:DB8:0:0::1").value() == "2001:db8::1/128");
  CHECK(normalize_cidr("2001:db8:1:2:3::/48").value() == "2001:db8:1::/48");
  CHECK_FALSE(normalize_cidr("203.0.113.300").has_value());
  CHECK_FALSE(normalize_cidr("203.0.113.7/33").has_value());
  CHECK_FALSE(normalize_cidr("203.0.113.7/").has_value());
  CHECK_FALSE(normalize_cidr("example.com").has_value());
}

TEST_CASE(
    "hcloud::build_isolation_firewall: SSH in from the admin only, ICMP out to "
    "the admin only (research §3)") {
  auto spec = build_isolation_firewall(
      k_compromised, "203.0.113.7", "INC-2026-12-03-1", k_now);
  REQUIRE_MESSAGE(spec.has_value(), (spec ? "" : spec.error().message));
  CHECK(spec->name
        == "forensic-isolation-INC-2026-12-03-1-4294967390-20261203161500");
  CHECK(spec->labels.at("custody/purpose") == "isolation");
  CHECK(spec->apply_to_servers.empty());
  REQUIRE(spec->rules.size() == 2);
  const FirewallRule& in = spec->rules[0];
  CHECK(in.direction == "in");
  CHECK(in.protocol == "tcp");
  CHECK(in.port == "22");
  CHECK(in.source_ips == std::vector<std::string>{"203.0.113.7/32"});
  const FirewallRule& out = spec->rules[1];
  CHECK(out.direction
        == "out"); // at least one out rule: outbound becomes implicit deny
  CHECK(out.protocol == "icmp");
  CHECK_FALSE(out.port.has_value());
  CHECK(out.destination_ips == std::vector<std::string>{"203.0.113.7/32"});
  // No rule opens anything to the world.
  for (const auto& r : spec->rules) {
    for (const auto& ip : r.source_ips) {
      CHECK_FALSE(ip.ends_with("/0"));
    }
    for (const auto& ip : r.destination_ips) {
      CHECK_FALSE(ip.ends_with("/0"));
    }
  }
  auto world =
      build_isolation_firewall(k_compromised, "0.0.0.0/0", "INC-1", k_now);
  REQUIRE_FALSE(world.has_value());
  CHECK(world.error().message.find("whole Internet") != std::string::npos);
  CHECK_FALSE(build_isolation_firewall(k_compromised, "::/0", "INC-1", k_now)
                  .has_value());
  CHECK(build_isolation_firewall(
            k_compromised, "2001:db8:aa::/48", "INC-1", k_now)
            .has_value());
}

TEST_CASE(
    "hcloud::start_snapshot and finish_snapshot produce an available, labelled "
    "snapshot (DESIGN §4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto started =
      start_snapshot(client, k_compromised, "INC-2026-12-03-1", k_now);
  REQUIRE_MESSAGE(started.has_value(),
                  (started ? "" : started.error().message));
  CHECK(started->server.id == k_compromised);
  CHECK(nlohmann::json::parse(started->server_body).at("server").at("status")
        == "running");
  CHECK(started->created.image.status == "creating");
  CHECK(started->description
        == "forensic-snapshot-INC-2026-12-03-1-4294967390-20261203161500");
  // The server's state is read before the snapshot is requested.
  REQUIRE(client.exchanges().size() == 2);
  CHECK(client.exchanges()[0].method == "GET");
  CHECK(client.exchanges()[1].path
        == "/servers/4294967390/actions/create_image");

  auto finished = finish_snapshot(client, *started);
  REQUIRE_MESSAGE(finished.has_value(),
                  (finished ? "" : finished.error().message));
  CHECK(finished->action.succeeded());
  CHECK(finished->image.status == "available");
  CHECK(finished->image.type == "snapshot");
  CHECK(finished->image.description == started->description);
  CHECK(finished->image.labels.at("custody/incident") == "INC-2026-12-03-1");
  CHECK(finished->image.created_from_id == k_compromised);
  CHECK(finished->image.image_size_gb.value_or(0) > 0);
  CHECK_FALSE(finished->image_body.empty());
}

TEST_CASE(
    "hcloud::finish_snapshot fails clearly when the create_image action ends "
    "in error") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.control("POST",
            "action_faults",
            {{"command", "create_image"},
             {"code", "action_failed"},
             {"message", "Action failed"}});
  auto started =
      start_snapshot(client, k_compromised, "INC-2026-12-03-1", k_now);
  REQUIRE(started.has_value());
  auto finished = finish_snapshot(client, *started);
  REQUIRE_FALSE(finished.has_value());
  CHECK(finished.error().message.rfind(
            "snapshot of server 4294967390: wait for action", 0)
        == 0);
  CHECK(finished.error().message.ends_with(
      "(create_image) failed: action_failed: Action failed"));
}

TEST_CASE(
    "hcloud::isolate_server applies the isolation firewall and removes the "
    "server's other firewalls") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto out = isolate_server(
      client, k_compromised, "203.0.113.7/32", "INC-2026-12-03-1", k_now);
  REQUIRE_MESSAGE(out.complete(), (out.error ? out.error->message : ""));
  REQUIRE(out.firewall.has_value());
  REQUIRE(out.server_before.has_value());
  REQUIRE(out.server_after.has_value());
  CHECK(out.server_before->firewalls.size() == 1);
  CHECK(out.removed_firewalls == std::vector<int64_t>{4294968503LL});
  REQUIRE(out.server_after->firewalls.size() == 1);
  CHECK(out.server_after->firewalls[0].id == out.firewall->id);
  CHECK(out.server_after->firewalls[0].status == "applied");
  REQUIRE(out.actions.size() == 2);
  CHECK(out.actions[0].command == "apply_firewall");
  CHECK(out.actions[1].command == "remove_firewall");
  CHECK(std::all_of(out.actions.begin(),
                    out.actions.end(),
                    [](const Action& a) { return a.succeeded(); }));
  CHECK(out.warnings.back() == k_isolation_caveats);
  CHECK(out.bodies.size() >= 6);
  // The isolation firewall was applied before the old one was removed.
  const auto& ex = client.exchanges();
  auto apply = std::find_if(ex.begin(), ex.end(), [](const HttpExchange& e) {
    return e.path.ends_with("apply_to_resources");
  });
  auto remove = std::find_if(ex.begin(), ex.end(), [](const HttpExchange& e) {
    return e.path.ends_with("remove_from_resources");
  });
  REQUIRE(apply != ex.end());
  REQUIRE(remove != ex.end());
  CHECK(apply < remove);
}

TEST_CASE(
    "hcloud::isolate_server warns about firewalls applied through a label "
    "selector") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto out = isolate_server(
      client, k_web, "203.0.113.0/24", "INC-2026-12-03-1", k_now);
  REQUIRE_MESSAGE(out.complete(), (out.error ? out.error->message : ""));
  CHECK(out.removed_firewalls.empty());
  REQUIRE(out.warnings.size() == 2);
  CHECK(out.warnings[0].find("label selector 'role in (web,lb)'")
        != std::string::npos);
  CHECK(out.server_after->firewalls.size() == 2);
}

TEST_CASE("hcloud::isolate_server reports how far it got when a step fails") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.control("POST",
            "action_faults",
            {{"command", "apply_firewall"},
             {"code", "action_failed"},
             {"message", "could not apply"}});
  auto out = isolate_server(
      client, k_compromised, "203.0.113.7", "INC-2026-12-03-1", k_now);
  REQUIRE_FALSE(out.complete());
  CHECK(out.firewall.has_value()); // created: the caller must record it
  REQUIRE(out.actions.size() == 1);
  CHECK(out.actions[0].failed());
  CHECK(out.error->message.find("isolate server 4294967390: action") == 0);
  CHECK(out.error->message.find("could not apply") != std::string::npos);
  CHECK(out.removed_firewalls
            .empty()); // the old firewall stays while ours is not applied

  auto invalid = isolate_server(
      client, k_compromised, "0.0.0.0/0", "INC-2026-12-03-1", k_now);
  REQUIRE_FALSE(invalid.complete());
  CHECK_FALSE(invalid.server_before.has_value()); // refused before any request
}
