// Tests for hcloud::Client against hcloud-standin running as a subprocess
// (docs/research/hetzner-api.md: §1 cross-cutting behaviour, §2 endpoints,
// §4 retry and wait policies).
#include "collector/hcloud_client.hpp"

#include "collector/hcloud_test_support.hpp"
#include "common/digest.hpp"
#include "common/time.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "tests/hcloud_standin/standin_process.hpp"

using namespace custody::collector::hcloud;
using custody::collector::hcloud::testing::Harness;
using custody::test::StandinOptions;
using custody::test::StandinProcess;
using nlohmann::json;

namespace {

constexpr int64_t k_two_32 = 4294967296LL;
constexpr int64_t k_compromised = 4294967390LL; // customer-vps-4711
constexpr int64_t k_suspended = 4294967391LL;   // customer-vps-4712

std::string message_of(const custody::Error& e) {
  return e.message;
}

} // namespace

TEST_CASE(
    "hcloud::Client reads servers with int64 ids, locations and firewalls "
    "(§2.4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto server = client.get_server(k_compromised);
  REQUIRE_MESSAGE(server.has_value(),
                  (server ? "" : message_of(server.error())));
  CHECK(server->value.id == k_compromised);
  CHECK(server->value.id > k_two_32);
  CHECK(server->value.name == "customer-vps-4711");
  CHECK(server->value.status == "running");
  CHECK(server->value.location == "fsn1");
  CHECK(server->value.server_type == "cpx22");
  CHECK(server->value.image_id == 161547269);
  CHECK(server->value.ipv4 == "198.51.100.90");
  CHECK(server->value.labels.at("customer") == "4711");
  REQUIRE(server->value.firewalls.size() == 1);
  CHECK(server->value.firewalls[0].id == 4294968503LL);
  CHECK(server->value.firewalls[0].status == "applied");
  CHECK(server->value.created_ms
        == custody::parse_rfc3339_ms("2026-02-10T12:00:40Z").value());
  // The verbatim body is kept for evidence and is what the raw object came
  // from.
  REQUIRE(server->bodies.size() == 1);
  CHECK(json::parse(server->bodies[0]).at("server") == server->value.raw);
  CHECK_FALSE(server->value.raw.contains("datacenter"));

  auto all = client.list_servers();
  REQUIRE(all.has_value());
  CHECK(all->value.size() == 14);
  auto web =
      client.list_servers(ListOptions{"role=web", "", {}, {"name:desc"}});
  REQUIRE(web.has_value());
  REQUIRE(web->value.size() == 3);
  CHECK(web->value[0].name == "web-nbg1-01");

  auto missing = client.get_server(12345);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == custody::Errc::not_found);
  CHECK(
      missing.error().message.rfind("get server 12345: HTTP 404 not_found: ", 0)
      == 0);
}

TEST_CASE(
    "hcloud::Client records every exchange: method, path, status, correlation "
    "id, body hash, times") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  const int64_t before = custody::now_ms();
  auto server = client.get_server(k_compromised);
  REQUIRE(server.has_value());
  REQUIRE(client.exchanges().size() == 1);
  const HttpExchange& ex = client.exchanges()[0];
  CHECK(ex.method == "GET");
  CHECK(ex.path == fmt::format("/servers/{}", k_compromised));
  CHECK(ex.status == 200);
  CHECK(ex.attempt == 1);
  CHECK(ex.started_ms >= before);
  CHECK(ex.finished_ms >= ex.started_ms);
  CHECK(ex.response_bytes == server->bodies[0].size());
  CHECK(ex.response_sha256
        == custody::to_hex(custody::sha256(server->bodies[0])));
  CHECK(ex.ratelimit_remaining.has_value());
  const json log = s.requests();
  REQUIRE(log.size() == 1);
  CHECK(ex.correlation_id == log[0].at("correlation_id").get<std::string>());
  CHECK(log[0].at("authorization") == "valid");
  auto taken = client.take_exchanges();
  CHECK(taken.size() == 1);
  CHECK(client.exchanges().empty());
}

TEST_CASE(
    "hcloud::Client follows pagination: 120 servers over 3 pages of 50 "
    "(§1.3)") {
  StandinProcess s(StandinOptions{"seed_fleet.json", {}});
  Harness h;
  auto client = h.client(s);
  auto all = client.list_servers();
  REQUIRE_MESSAGE(all.has_value(), (all ? "" : message_of(all.error())));
  CHECK(all->value.size() == 120);
  CHECK(all->bodies.size() == 3);
  std::set<int64_t> ids;
  std::set<std::string> locations;
  for (const auto& srv : all->value) {
    ids.insert(srv.id);
    locations.insert(srv.location);
    CHECK(srv.id > k_two_32);
  }
  CHECK(ids.size() == 120);
  CHECK(locations == std::set<std::string>{"fsn1", "hel1", "nbg1"});
  REQUIRE(client.exchanges().size() == 3);
  CHECK(client.exchanges()[0].path == "/servers?page=1&per_page=50");
  CHECK(client.exchanges()[2].path == "/servers?page=3&per_page=50");
}

TEST_CASE(
    "hcloud::Client parses timestamps with Z and with +00:00 to the same "
    "instant (§1.2)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto z = client.get_server(4294969003LL);
  s.control("POST", "config", {{"timestamps", "offset"}});
  auto offset = client.get_server(4294969003LL);
  REQUIRE(z.has_value());
  REQUIRE(offset.has_value());
  CHECK(z->value.raw.at("created") == "2026-12-01T03:02:51Z");
  CHECK(offset->value.raw.at("created") == "2026-12-01T03:02:51+00:00");
  CHECK(z->value.created_ms == offset->value.created_ms);
  CHECK(z->value.created_ms == 1'796'094'171'000LL);
  auto keys = client.list_ssh_keys();
  REQUIRE(keys.has_value());
  for (const auto& k : keys->value) {
    CHECK(k.raw.at("created").get<std::string>().ends_with("+00:00"));
    CHECK(k.created_ms > 0);
  }
}

TEST_CASE(
    "hcloud::Client creates a snapshot, waits for its action and finds the "
    "image (§2.1, §2.2, §2.3)") {
  // create_image runs long enough for several progress polls.
  StandinProcess s(StandinOptions{
      "seed_project.json",
      {"--action-ms", "150", "--command-ms", "create_image=400"}});
  Harness h;
  auto client = h.client(s);
  CreateImageRequest req;
  req.description =
      "forensic-snapshot-INC-2026-12-03-1-4294967390-20261203161500";
  req.labels = {{"custody/incident", "INC-2026-12-03-1"}};
  auto created = client.create_image(k_compromised, req);
  REQUIRE_MESSAGE(created.has_value(),
                  (created ? "" : message_of(created.error())));
  CHECK(created->value.image.type == "snapshot");
  CHECK(created->value.image.status == "creating");
  CHECK(created->value.image.created_from_id == k_compromised);
  CHECK(created->value.image.id > k_two_32);
  CHECK(created->value.action.command == "create_image");
  CHECK(created->value.action.running());

  std::vector<int> progress;
  WaitOptions w;
  w.on_progress = [&](const Action& a) { progress.push_back(a.progress); };
  auto done = client.wait_for_action(created->value.action.id, w);
  REQUIRE_MESSAGE(done.has_value(), (done ? "" : message_of(done.error())));
  CHECK(done->value.succeeded());
  CHECK(done->value.progress == 100);
  CHECK(done->value.finished_ms.has_value());
  CHECK(progress.size() >= 2);
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(!h.sleeps->empty());

  auto image = client.get_image(created->value.image.id);
  REQUIRE(image.has_value());
  CHECK(image->value.status == "available");
  CHECK(image->value.image_size_gb.has_value());
  CHECK(image->value.description == *req.description);
  CHECK(image->value.labels == req.labels);

  auto snapshots = client.list_images();
  REQUIRE(snapshots.has_value());
  CHECK(snapshots->value.size()
        == 3); // two seeded + ours; the backup is filtered out
  for (const auto& img : snapshots->value) {
    CHECK(img.type == "snapshot");
  }

  auto action = client.get_action(created->value.action.id);
  REQUIRE(action.has_value());
  CHECK(action->value.succeeded());
  auto history = client.list_server_actions(k_compromised);
  REQUIRE(history.has_value());
  CHECK(std::any_of(
      history->value.begin(), history->value.end(), [](const Action& a) {
        return a.command == "reset_password";
      }));
  CHECK(std::any_of(
      history->value.begin(), history->value.end(), [](const Action& a) {
        return a.command == "create_image";
      }));
}

TEST_CASE(
    "hcloud::Client gets several actions at once and reports unknown ids "
    "(§2.2)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto both = client.get_actions({4294971004LL, 4294971001LL});
  REQUIRE(both.has_value());
  REQUIRE(both->value.size() == 2);
  CHECK(both->value[0].id == 4294971004LL); // in the order asked
  CHECK(both->value[0].failed());
  CHECK(both->value[0].error->code == "protected");
  CHECK(both->value[1].command == "reset_password");
  auto missing = client.get_actions({4294971001LL, 77});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("[77]") != std::string::npos);
}

TEST_CASE(
    "hcloud::Client: an action that ends in error is a clear error, or a value "
    "with accept_error (§1.7)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.control("POST",
            "action_faults",
            {{"command", "create_image"},
             {"code", "image_creation_failed"},
             {"message", "disk read error"}});
  auto created = client.create_image(k_suspended, {});
  REQUIRE(created.has_value());
  const int64_t id = created->value.action.id;
  auto strict = client.wait_for_action(id);
  REQUIRE_FALSE(strict.has_value());
  CHECK(strict.error().code == custody::Errc::remote);
  CHECK(strict.error().message
        == fmt::format("wait for action {0}: action {0} (create_image) failed: "
                       "image_creation_failed: disk read error",
                       id));
  WaitOptions lenient;
  lenient.accept_error = true;
  auto value = client.wait_for_action(id, lenient);
  REQUIRE(value.has_value());
  CHECK(value->value.failed());
  CHECK(value->value.error->message == "disk read error");
}

TEST_CASE(
    "hcloud::Client: waiting past the deadline fails with the action's "
    "progress") {
  StandinProcess s(StandinOptions{
      "seed_project.json",
      {"--action-ms", "150", "--command-ms", "create_image=5000"}});
  Harness h;
  auto client = h.client(s);
  auto created = client.create_image(k_suspended, {});
  REQUIRE(created.has_value());
  WaitOptions w;
  w.timeout = std::chrono::milliseconds(200);
  auto r = client.wait_for_action(created->value.action.id, w);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("(create_image) still running after")
        != std::string::npos);
  CHECK(r.error().message.find("progress") != std::string::npos);
}

TEST_CASE(
    "hcloud::Client: a bad token gives a clear error and the token appears "
    "nowhere (§1.1, DESIGN §7)") {
  StandinProcess s;
  Harness h;
  const std::string bad_token = "BadToken-0123456789abcdefSECRET";
  ClientOptions o = h.options(s.endpoint());
  auto client = Client::create(Token::from_string(bad_token).value(), o);
  REQUIRE(client.has_value());
  auto r = client->list_servers();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message
        == "list servers: HTTP 401 unauthorized: unable to authenticate");
  CHECK(client->exchanges().size() == 1); // 401 is not retried
  CHECK(client->last_api_error()->code == "unauthorized");
  CHECK(s.requests()[0].at("authorization")
        == "invalid"); // it was sent, as a header
  const std::string everything =
      r.error().message + h.log() + testing::dump_exchanges(client->exchanges())
      + client->last_api_error()->message + s.stderr_text();
  CHECK(h.log().find("GET /servers?page=1&per_page=50 -> 401")
        != std::string::npos); // the log is captured
  CHECK(everything.find(bad_token) == std::string::npos);
  CHECK(everything.find("SECRET") == std::string::npos);
  // The valid token does not leak either, on a successful call.
  auto good = h.client(s);
  REQUIRE(good.list_ssh_keys().has_value());
  CHECK((h.log() + testing::dump_exchanges(good.exchanges())).find(s.token())
        == std::string::npos);
}

TEST_CASE(
    "hcloud::Client: 429 waits until RateLimit-Reset, then succeeds (§1.5, "
    "§4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.add_faults({{"path", fmt::format("/v1/servers/{}", k_compromised)},
                {"status", 429},
                {"code", "rate_limit_exceeded"},
                {"message", "limit of 3600 requests per hour reached"},
                {"reset_after_s", 2}});
  auto r = client.get_server(k_compromised);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : message_of(r.error())));
  REQUIRE(client.exchanges().size() == 2);
  const auto& first = client.exchanges()[0];
  const auto& second = client.exchanges()[1];
  CHECK(first.status == 429);
  CHECK(first.api_error_code == "rate_limit_exceeded");
  CHECK(second.status == 200);
  CHECK(second.attempt == 2);
  // Reset is a whole second at least 2 s after the stand-in's clock at the
  // first answer, so the retry cannot start before this, far beyond the
  // 20 ms backoff.
  CHECK(second.started_ms >= (first.started_ms / 1000 + 2) * 1000);
  REQUIRE(h.sleeps->size() == 1);
  CHECK(h.sleeps->front() >= std::chrono::milliseconds(1000));
  CHECK(h.log().find("retrying in") != std::string::npos);
}

TEST_CASE(
    "hcloud::Client: the stand-in's empty token bucket answers 429; the client "
    "waits and succeeds (§1.5)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.control(
      "POST",
      "config",
      {{"rate_limit", {{"capacity", 2}, {"refill_per_s", 4}, {"tokens", 0}}}});
  auto r = client.list_volumes();
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : message_of(r.error())));
  CHECK(r->value.size() == 3);
  REQUIRE(client.exchanges().size() >= 2);
  CHECK(client.exchanges()[0].status == 429);
  CHECK(client.exchanges()[0].ratelimit_remaining == 0);
  CHECK(client.exchanges().back().status == 200);
}

TEST_CASE(
    "hcloud::Client: 5xx until the retries run out gives a clear error after 5 "
    "tries (§4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s, [](ClientOptions& o) { o.retry.jitter = false; });
  s.add_faults({{"path", "/v1/volumes"},
                {"count", 99},
                {"status", 502},
                {"body", "bare"}});
  auto r = client.list_volumes();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message
        == "list volumes: HTTP 502 (no error body) (gave up after 5 attempts)");
  CHECK(client.exchanges().size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(client.exchanges()[static_cast<size_t>(i)].attempt == i + 1);
  }
  // Truncated exponential backoff, base 20 ms ×2 (jitter off for an exact
  // check).
  using ms = std::chrono::milliseconds;
  CHECK(*h.sleeps == std::vector<ms>{ms(20), ms(40), ms(80), ms(160)});

  SUBCASE("504 timeout with a JSON body, then success") {
    s.control("DELETE", "faults");
    s.add_faults({{"path", "/v1/volumes"},
                  {"count", 2},
                  {"status", 504},
                  {"code", "timeout"},
                  {"message", "request timeout"}});
    auto ok = client.list_volumes();
    REQUIRE(ok.has_value());
    CHECK(client.exchanges().size() == 8);
  }
  SUBCASE("409 conflict is retried") {
    s.control("DELETE", "faults");
    s.add_faults({{"path", "/v1/volumes"},
                  {"status", 409},
                  {"code", "conflict"},
                  {"message", "resource changed"}});
    CHECK(client.list_volumes().has_value());
    CHECK(client.exchanges().size() == 7);
  }
}

TEST_CASE(
    "hcloud::Client does not retry 500, bare 503, 422 and other 4xx (§4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  s.add_faults(json::array(
      {{{"path", "/v1/ssh_keys"}, {"status", 503}, {"body", "bare"}},
       {{"path", "/v1/volumes"},
        {"status", 500},
        {"code", "server_error"},
        {"message", "boom"}}}));
  auto bare = client.list_ssh_keys();
  REQUIRE_FALSE(bare.has_value());
  CHECK(bare.error().message == "list SSH keys: HTTP 503 (no error body)");
  auto five = client.list_volumes();
  REQUIRE_FALSE(five.has_value());
  CHECK(five.error().message == "list volumes: HTTP 500 server_error: boom");
  FirewallSpec spec;
  spec.name = "bad";
  spec.rules = {
      FirewallRule{"in", "tcp", std::nullopt, {"0.0.0.0/0"}, {}, std::nullopt}};
  auto invalid = client.create_firewall(spec);
  REQUIRE_FALSE(invalid.has_value());
  CHECK(invalid.error().code == custody::Errc::invalid_input);
  CHECK(invalid.error().message
        == "create firewall 'bad': HTTP 422 invalid_input: invalid input in field 'rules[0].port': is required for tcp "
           "and udp (fields: rules[0].port: is required for tcp and udp)");
  CHECK(client.exchanges().size() == 3);
  CHECK(h.sleeps->empty());
}

TEST_CASE("hcloud::Client retries dropped connections and timeouts (§4)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s, [](ClientOptions& o) {
    o.request_timeout = std::chrono::milliseconds(300);
  });
  s.add_faults(json::array({{{"path", "/v1/ssh_keys"}, {"drop", true}},
                            {{"path", "/v1/ssh_keys"}, {"delay_ms", 1000}}}));
  auto r = client.list_ssh_keys();
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : message_of(r.error())));
  CHECK(r->value.size() == 4);
  REQUIRE(client.exchanges().size() == 3);
  CHECK(client.exchanges()[0].status == 0);
  CHECK_FALSE(client.exchanges()[0].transport_error.empty());
  CHECK(client.exchanges()[1].status == 0);
  CHECK(client.exchanges()[1].transport_error.find("timed out")
        != std::string::npos);
  CHECK(client.exchanges()[2].status == 200);

  auto unreachable = Client::create(Token::from_string("x").value(), [&] {
    auto o = h.options("http://127.0.0.1:1/v1");
    o.retry.max_attempts = 2;
    return o;
  }());
  REQUIRE(unreachable.has_value());
  auto down = unreachable->list_servers();
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error().message.rfind(
            "list servers: GET /servers?page=1&per_page=50: ", 0)
        == 0);
  CHECK(down.error().message.ends_with("(gave up after 2 attempts)"));
}

TEST_CASE(
    "hcloud::Client: 423 locked waits for the server's running action, then "
    "succeeds (§1.6)") {
  // create_image runs long enough that the poweroff cannot miss the lock.
  StandinProcess s(StandinOptions{
      "seed_project.json",
      {"--action-ms", "150", "--command-ms", "create_image=1000"}});
  Harness h;
  auto client = h.client(s);
  auto created = client.create_image(k_compromised, {});
  REQUIRE(created.has_value());
  auto off =
      client.poweroff_server(k_compromised); // the snapshot is still running
  REQUIRE_MESSAGE(off.has_value(), (off ? "" : message_of(off.error())));
  CHECK(off->value.command == "stop_server");
  const auto& ex = client.exchanges();
  auto locked = std::find_if(ex.begin(), ex.end(), [](const HttpExchange& e) {
    return e.status == 423;
  });
  REQUIRE(locked != ex.end());
  CHECK(locked->api_error_code == "locked");
  CHECK((locked + 1)->path
        == fmt::format("/servers/{}/actions?status=running&page=1&per_page=50",
                       k_compromised));
  CHECK(ex.back().method == "POST");
  CHECK(ex.back().status == 201);
  CHECK(ex.back().attempt == 2);
  // The snapshot action had finished before the retried poweroff.
  auto snap = client.get_action(created->value.action.id);
  REQUIRE(snap.has_value());
  CHECK(snap->value.succeeded());
  CHECK(*snap->value.finished_ms <= off->value.started_ms + 1000);

  SUBCASE("a scripted 423 with no running action falls back to a backoff") {
    s.add_faults(
        {{"path", fmt::format("/v1/servers/{}/actions/shutdown", k_suspended)},
         {"status", 423},
         {"code", "locked"},
         {"message", "cannot perform operation because server is locked"}});
    const size_t sleeps_before = h.sleeps->size();
    auto shut = client.shutdown_server(k_suspended);
    REQUIRE(shut.has_value());
    CHECK(shut->value.command == "shutdown_server");
    CHECK(h.sleeps->size() == sleeps_before + 1);
  }
}

TEST_CASE(
    "hcloud::Client manages firewalls: create, get, list, apply, remove, "
    "delete (§2.5, §2.6)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  FirewallSpec spec;
  spec.name = "forensic-isolation-test";
  spec.labels = {{"custody/incident", "INC-2026-12-03-1"}};
  spec.rules = {
      FirewallRule{"in", "tcp", "22", {"203.0.113.7/32"}, {}, "ssh"},
      FirewallRule{
          "out", "icmp", std::nullopt, {}, {"203.0.113.7/32"}, std::nullopt}};
  auto created = client.create_firewall(spec);
  REQUIRE_MESSAGE(created.has_value(),
                  (created ? "" : message_of(created.error())));
  const int64_t fw = created->value.firewall.id;
  CHECK(fw > k_two_32);
  CHECK(created->value.firewall.rules.size() == 2);
  CHECK(created->value.firewall.rules[1].port == std::nullopt);
  CHECK(created->value.actions.at(0).command == "set_firewall_rules");

  auto applied = client.apply_firewall(fw, {k_compromised});
  REQUIRE(applied.has_value());
  REQUIRE(applied->value.size() == 1);
  CHECK(applied->value[0].command == "apply_firewall");
  auto waited = client.wait_for_actions(
      {applied->value[0].id, created->value.actions[0].id});
  REQUIRE(waited.has_value());
  CHECK(waited->value.size() == 2);
  auto got = client.get_firewall(fw);
  REQUIRE(got.has_value());
  REQUIRE(got->value.applied_to.size() == 1);
  CHECK(got->value.applied_to[0].server_id
        == k_compromised); // int64 id round-trip
  auto server = client.get_server(k_compromised);
  REQUIRE(server.has_value());
  CHECK(std::any_of(server->value.firewalls.begin(),
                    server->value.firewalls.end(),
                    [&](const ServerFirewall& f) {
                      return f.id == fw && f.status == "applied";
                    }));

  auto listed = client.list_firewalls();
  REQUIRE(listed.has_value());
  CHECK(listed->value.size() == 5);
  auto web = std::find_if(listed->value.begin(),
                          listed->value.end(),
                          [](const Firewall& f) { return f.name == "fw-web"; });
  REQUIRE(web != listed->value.end());
  CHECK(web->applied_to.at(0).label_selector == "role in (web,lb)");
  CHECK(web->applied_to.at(0).selector_servers.size() == 4);

  auto busy = client.delete_firewall(fw);
  REQUIRE_FALSE(busy.has_value());
  CHECK(busy.error().message.find("resource_in_use") != std::string::npos);
  auto removed = client.remove_firewall(fw, {k_compromised});
  REQUIRE(removed.has_value());
  CHECK(removed->value.at(0).command == "remove_firewall");
  REQUIRE(client.wait_for_action(removed->value.at(0).id).has_value());
  CHECK(client.delete_firewall(fw).has_value());
  CHECK(client.get_firewall(fw).error().code == custody::Errc::not_found);
}

TEST_CASE("hcloud::Client lists SSH keys and volumes for the audit (§2.9)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  auto keys = client.list_ssh_keys();
  REQUIRE(keys.has_value());
  REQUIRE(keys->value.size() == 4);
  CHECK(keys->value[3].name == "backup");
  CHECK(keys->value[3].fingerprint
        == "93:97:a7:d5:97:ef:df:54:68:16:f1:23:a5:60:14:96");
  CHECK(keys->value[3].public_key.starts_with("ssh-ed25519 "));
  auto volumes = client.list_volumes();
  REQUIRE(volumes.has_value());
  REQUIRE(volumes->value.size() == 3);
  CHECK(volumes->value[0].server_id == 4294967355LL);
  CHECK(volumes->value[2].server_id == std::nullopt);
  CHECK(volumes->value[0].location == "nbg1");
  CHECK(volumes->value[0].size_gb == 200);
}

TEST_CASE(
    "hcloud::Client creates an analysis server from a snapshot, powers it off "
    "and deletes it (§2.7, §2.8)") {
  StandinProcess s;
  Harness h;
  auto client = h.client(s);
  CreateServerRequest req;
  req.name = "forensic-analysis-inc-2026-12-03-1";
  req.server_type = std::string("cpx32");
  req.image = int64_t{4294968701LL};
  req.location = std::string("nbg1");
  req.ssh_keys = {int64_t{4294968401LL}, std::string("ops-bob")};
  req.firewalls = {4294968504LL};
  req.labels = {{"custody/incident", "INC-2026-12-03-1"}};
  auto created = client.create_server(req);
  REQUIRE_MESSAGE(created.has_value(),
                  (created ? "" : message_of(created.error())));
  CHECK(created->value.server.status == "initializing");
  CHECK(created->value.server.location == "nbg1");
  CHECK(created->value.action.command == "create_server");
  REQUIRE(created->value.next_actions.size() == 2);
  CHECK(json::parse(created->bodies[0]).at("root_password").is_null());
  std::vector<int64_t> ids = {created->value.action.id};
  for (const auto& a : created->value.next_actions) {
    ids.push_back(a.id);
  }
  REQUIRE(client.wait_for_actions(ids).has_value());
  const int64_t id = created->value.server.id;
  CHECK(client.get_server(id)->value.status == "running");

  auto off = client.poweroff_server(id);
  REQUIRE(off.has_value());
  REQUIRE(client.wait_for_action(off->value.id).has_value());
  CHECK(client.get_server(id)->value.status == "off");
  auto del = client.delete_server(id);
  REQUIRE(del.has_value());
  CHECK(del->value.command == "delete_server");
  REQUIRE(client.wait_for_action(del->value.id).has_value());
  CHECK(client.get_server(id).error().code == custody::Errc::not_found);
  // The snapshot it was made from is still there.
  CHECK(client.get_image(4294968701LL).has_value());

  CreateServerRequest no_keys = req;
  no_keys.ssh_keys.clear();
  auto refused = client.create_server(no_keys);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == custody::Errc::invalid_input);
  CHECK(refused.error().message.find("root password") != std::string::npos);
}
