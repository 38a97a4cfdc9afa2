// The stand-in checked against the official Hetzner Cloud OpenAPI spec
// (openapi-subset.json, extracted by extract_openapi_subset.sh) and against
// the behaviours of docs/research/hetzner-api.md §6, over real HTTP.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "tests/hcloud_standin/openapi_validator.hpp"
#include "tests/hcloud_standin/standin_process.hpp"

using custody::test::HttpResult;
using custody::test::OpenApiSpec;
using custody::test::StandinOptions;
using custody::test::StandinProcess;
using nlohmann::json;

namespace {

const OpenApiSpec& spec() {
  static const OpenApiSpec s =
      OpenApiSpec::load(custody::test::standin_data("openapi-subset.json"));
  return s;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += s + "\n";
  }
  return out;
}

// Validates `r` (the answer to `method path`) against the spec's schema for
// its status; returns the parsed body.
json conforms(const std::string& method,
              const std::string& path,
              const HttpResult& r,
              const custody::test::ValidationOptions& options = {}) {
  INFO(method << " " << path << " -> " << r.status << " "
              << r.body.substr(0, 400));
  const auto tmpl = spec().match_path(path);
  REQUIRE_MESSAGE(tmpl.has_value(), "path not in the spec subset");
  CHECK(r.headers.count("ratelimit-limit") == 1);
  CHECK(r.headers.count("ratelimit-remaining") == 1);
  CHECK(r.headers.count("ratelimit-reset") == 1);
  CHECK(r.headers.count("x-correlation-id") == 1);
  if (r.status == 204) {
    CHECK(r.body.empty());
    return json();
  }
  CHECK(r.headers.at("content-type").starts_with("application/json"));
  const json* schema =
      spec().response_schema(method, *tmpl, static_cast<int>(r.status));
  REQUIRE_MESSAGE(schema != nullptr, "no response schema for this status");
  const json body = json::parse(r.body);
  const auto errors =
      custody::test::validate_schema(*schema, body, spec().root(), options);
  CHECK_MESSAGE(errors.empty(), joined(errors));
  return body;
}

json get_ok(StandinProcess& s,
            const std::string& path,
            const custody::test::ValidationOptions& options = {}) {
  auto r = s.api("GET", path);
  CHECK(r.status == 200);
  return conforms("GET", path, r, options);
}

void wait_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// Polls until `done()` holds (every 20 ms, at most 5 s); returns whether it did.
template<typename F>
bool eventually(F done) {
  for (int i = 0; i < 250; ++i) {
    if (done()) {
      return true;
    }
    wait_ms(20);
  }
  return false;
}

// Polls GET /actions/{id} until the action is no longer running.
json finished_action(StandinProcess& s, int64_t id) {
  json action;
  CHECK(eventually([&] {
    action = s.api("GET", fmt::format("/actions/{}", id)).json().at("action");
    return action.at("status") != "running";
  }));
  return action;
}

} // namespace

TEST_CASE(
    "hcloud-standin: read endpoints conform to the OpenAPI spec (research §6 "
    "audit lists)") {
  StandinProcess s;
  for (const char* path : {"/servers",
                           "/servers?page=2&per_page=5",
                           "/servers/4294967390",
                           "/servers/58123456",
                           "/servers/4294967390/actions",
                           "/servers/actions?status=success&sort=id:desc",
                           "/servers/4294967390/actions/4294971001",
                           "/images",
                           "/images?type=snapshot",
                           "/images/4294968701",
                           "/images/161547269",
                           "/firewalls",
                           "/firewalls/4294968501",
                           "/firewalls/4294968503",
                           "/ssh_keys",
                           "/volumes",
                           "/actions/4294971004"}) {
    get_ok(s, path);
  }
  // GET /actions?id=… also carries meta (as the real API's Link/meta do; the
  // spec's ActionListResponse only declares `actions`).
  custody::test::ValidationOptions with_meta;
  with_meta.allow_undeclared = {"/meta"};
  const json actions =
      get_ok(s, "/actions?id=4294971001&id=4294971004&id=1", with_meta);
  CHECK(actions.at("actions").size() == 2); // unknown ids are simply absent
}

TEST_CASE(
    "hcloud-standin: servers have no datacenter, keep int64 ids and emit Z "
    "timestamps (§0.1, §1.2)") {
  StandinProcess s;
  const json list = get_ok(s, "/servers?per_page=50");
  REQUIRE(list.at("servers").size() == 14);
  for (const auto& server : list.at("servers")) {
    CHECK_FALSE(server.contains("datacenter"));
    CHECK(server.at("created").get<std::string>().ends_with("Z"));
    CHECK(server.at("labels").is_object());
  }
  const json one = get_ok(s, "/servers/4294969003").at("server");
  CHECK(one.at("id").get<int64_t>() == 4294969003LL);
  CHECK(one.at("created")
        == "2026-12-01T03:02:51Z"); // seeded as +00:00, emitted as Z
  s.control("POST", "config", {{"timestamps", "offset"}});
  const json offset = get_ok(s, "/servers/4294969003").at("server");
  CHECK(offset.at("created") == "2026-12-01T03:02:51+00:00");
}

TEST_CASE(
    "hcloud-standin: pagination has meta.pagination and a Link header (§1.3)") {
  StandinProcess s;
  auto r = s.api("GET", "/ssh_keys?per_page=3&sort=id");
  const json first = conforms("GET", "/ssh_keys", r);
  CHECK(first.at("meta").at("pagination")
        == json({{"page", 1},
                 {"per_page", 3},
                 {"previous_page", nullptr},
                 {"next_page", 2},
                 {"last_page", 2},
                 {"total_entries", 4}}));
  REQUIRE(r.headers.count("link") == 1);
  CHECK(r.headers.at("link").find("page=2&per_page=3>; rel=\"next\"")
        != std::string::npos);
  CHECK(r.headers.at("link").find("rel=\"last\"") != std::string::npos);
  auto r2 = s.api("GET", "/ssh_keys?per_page=3&page=2&sort=id");
  const json second = conforms("GET", "/ssh_keys", r2);
  CHECK(second.at("ssh_keys").size() == 1);
  CHECK(second.at("meta").at("pagination").at("next_page").is_null());
  CHECK(second.at("meta").at("pagination").at("previous_page") == 1);
  CHECK(r2.headers.at("link").find("rel=\"prev\"") != std::string::npos);
  // per_page is capped at 50.
  StandinProcess fleet(StandinOptions{"seed_fleet.json", {}});
  const json capped = get_ok(fleet, "/servers?per_page=500");
  CHECK(capped.at("servers").size() == 50);
  CHECK(capped.at("meta").at("pagination").at("last_page") == 3);
  CHECK(capped.at("meta").at("pagination").at("total_entries") == 120);
}

TEST_CASE("hcloud-standin: filters, sorting and label selectors (§1.4)") {
  StandinProcess s;
  const json snaps = get_ok(s, "/images?type=snapshot");
  REQUIRE(snaps.at("images").size() == 2);
  for (const auto& i : snaps.at("images")) {
    CHECK(i.at("type") == "snapshot");
  }
  CHECK(get_ok(s, "/servers?label_selector=role%20in%20(web,lb)")
            .at("servers")
            .size()
        == 4);
  CHECK(get_ok(s, "/servers?label_selector=role%3Ddb,replica")
            .at("servers")
            .size()
        == 1);
  CHECK(get_ok(s, "/servers?label_selector=!role").at("servers").size() == 4);
  CHECK(get_ok(s, "/servers?label_selector=env!%3Dprod").at("servers").size()
        == 7);
  CHECK(get_ok(s, "/servers?status=off").at("servers").size() == 1);
  CHECK(get_ok(s, "/servers?name=bastion-fsn1").at("servers").size() == 1);
  const json sorted = get_ok(s, "/servers?sort=created:desc&per_page=2");
  CHECK(sorted.at("servers")[0].at("name") == "tmp-build-01");
  auto bad = s.api("GET", "/servers?sort=colour");
  CHECK(bad.status == 422);
  CHECK(conforms("GET", "/servers", bad).at("error").at("code")
        == "invalid_input");
}

TEST_CASE(
    "hcloud-standin: errors use the envelope: 401, 404, 400 json_error, 405 "
    "(§1.6)") {
  StandinProcess s;
  const std::string wrong = "not-the-token";
  auto unauth = s.api("GET", "/servers", nullptr, &wrong);
  CHECK(unauth.status == 401);
  CHECK(conforms("GET", "/servers", unauth).at("error")
        == json({{"code", "unauthorized"},
                 {"message", "unable to authenticate"},
                 {"details", nullptr}}));
  const std::string none;
  CHECK(s.api("GET", "/servers", nullptr, &none).status == 401);
  auto missing = s.api("GET", "/servers/1");
  CHECK(missing.status == 404);
  CHECK(conforms("GET", "/servers/1", missing).at("error").at("code")
        == "not_found");
  auto bad_json = custody::test::http_request(
      "POST",
      s.endpoint() + "/firewalls",
      "{not json",
      {"Authorization: Bearer " + s.token(), "Content-Type: application/json"});
  CHECK(bad_json.status == 400);
  CHECK(conforms("POST", "/firewalls", bad_json).at("error").at("code")
        == "json_error");
  auto method = s.api("DELETE", "/servers");
  CHECK(method.status == 405);
  CHECK(method.json().at("error").at("code") == "method_not_allowed");
  // The log records that the token was wrong, never the token itself.
  const json log = s.requests();
  CHECK(log.dump().find(s.token()) == std::string::npos);
  CHECK(log[0].at("authorization") == "invalid");
}

TEST_CASE(
    "hcloud-standin: create_image makes a snapshot that becomes available and "
    "outlives its server (§2.1, §6)") {
  // create_image runs long enough that the 423 check below cannot race it.
  StandinProcess s(StandinOptions{
      "seed_project.json",
      {"--action-ms", "100", "--command-ms", "create_image=1000"}});
  const json body = {{"type", "snapshot"},
                     {"description", "forensic"},
                     {"labels", {{"custody/incident", "INC-1"}}}};
  auto r = s.api("POST", "/servers/58123456/actions/create_image", body);
  CHECK(r.status == 201);
  const json created =
      conforms("POST", "/servers/58123456/actions/create_image", r);
  const int64_t image_id = created.at("image").at("id").get<int64_t>();
  CHECK(image_id > 4294967296LL);
  CHECK(created.at("image").at("status") == "creating");
  CHECK(created.at("image").at("name").is_null());
  CHECK(created.at("image").at("created_from")
        == json({{"id", 58123456}, {"name", "legacy-mail-01"}}));
  CHECK(created.at("action").at("status") == "running");
  CHECK(created.at("action").at("error").is_null());
  CHECK(created.at("action").at("finished").is_null());

  // 423 locked while the action runs; reads still work.
  auto locked = s.api("POST", "/servers/58123456/actions/poweroff");
  CHECK(locked.status == 423);
  CHECK(conforms("POST", "/servers/58123456/actions/poweroff", locked)
            .at("error")
            .at("message")
        == "cannot perform operation because server is locked");
  CHECK(s.api("GET", "/servers/58123456").status == 200);

  finished_action(s, created.at("action").at("id").get<int64_t>());
  const json action =
      get_ok(s,
             fmt::format("/actions/{}",
                         created.at("action").at("id").get<int64_t>()))
          .at("action");
  CHECK(action.at("status") == "success");
  CHECK(action.at("progress") == 100);
  CHECK(action.at("finished").is_string());
  const json image = get_ok(s, fmt::format("/images/{}", image_id)).at("image");
  CHECK(image.at("status") == "available");
  CHECK(image.at("image_size").is_number());

  // Delete the server: the snapshot stays.
  auto del = s.api("DELETE", "/servers/58123456");
  CHECK(del.status == 200);
  conforms("DELETE", "/servers/58123456", del);
  CHECK(finished_action(s, del.json().at("action").at("id").get<int64_t>())
            .at("status")
        == "success");
  CHECK(s.api("GET", "/servers/58123456").status == 404);
  CHECK(get_ok(s, fmt::format("/images/{}", image_id))
            .at("image")
            .at("created_from")
            .at("id")
        == 58123456);
}

TEST_CASE(
    "hcloud-standin: poweroff and shutdown actions and their server states "
    "(§2.8)") {
  StandinProcess s(StandinOptions{
      "seed_project.json", {"--action-ms", "100", "--shutdown-off-ms", "800"}});
  auto off = s.api("POST", "/servers/4294967322/actions/poweroff");
  const json off_action =
      conforms("POST", "/servers/4294967322/actions/poweroff", off)
          .at("action");
  CHECK(off_action.at("command") == "stop_server");
  const auto shutdown_sent = std::chrono::steady_clock::now();
  auto shut = s.api("POST", "/servers/4294967323/actions/shutdown");
  const json shut_action =
      conforms("POST", "/servers/4294967323/actions/shutdown", shut)
          .at("action");
  CHECK(shut_action.at("command") == "shutdown_server");
  CHECK(finished_action(s, off_action.at("id").get<int64_t>()).at("status")
        == "success");
  CHECK(get_ok(s, "/servers/4294967322").at("server").at("status") == "off");
  // The shutdown action succeeds at once; the guest powers off later.
  CHECK(finished_action(s, shut_action.at("id").get<int64_t>()).at("status")
        == "success");
  CHECK(get_ok(s, "/servers/4294967323").at("server").at("status")
        == "running");
  CHECK(eventually([&] {
    return s.api("GET", "/servers/4294967323")
               .json()
               .at("server")
               .at("status")
           == "off";
  }));
  CHECK(std::chrono::steady_clock::now() - shutdown_sent
        >= std::chrono::milliseconds(800));
}

TEST_CASE(
    "hcloud-standin: firewall validation answers invalid_input and "
    "uniqueness_error (§2.5)") {
  StandinProcess s;
  const json bad = {{"name", "bad"},
                    {"rules",
                     {{{"direction", "in"},
                       {"protocol", "tcp"},
                       {"source_ips", {"10.0.0.1/8"}}},
                      {{"direction", "out"},
                       {"protocol", "icmp"},
                       {"port", "22"},
                       {"destination_ips", {"300.1.1.1/32"}}},
                      {{"direction", "sideways"},
                       {"protocol", "tcp"},
                       {"port", "0"},
                       {"source_ips", {"0.0.0.0/0"}}},
                      {{"direction", "in"},
                       {"protocol", "udp"},
                       {"port", "53"},
                       {"destination_ips", {"0.0.0.0/0"}}}}}};
  auto r = s.api("POST", "/firewalls", bad);
  CHECK(r.status == 422);
  const json err = conforms("POST", "/firewalls", r).at("error");
  CHECK(err.at("code") == "invalid_input");
  std::set<std::string> fields;
  for (const auto& f : err.at("details").at("fields")) {
    fields.insert(f.at("name").get<std::string>());
  }
  CHECK(fields.count("rules[0].port") == 1);               // tcp needs a port
  CHECK(fields.count("rules[0].source_ips[0]") == 1);      // host bits set
  CHECK(fields.count("rules[1].port") == 1);               // icmp has no port
  CHECK(fields.count("rules[1].destination_ips[0]") == 1); // not an address
  CHECK(fields.count("rules[2].direction") == 1);
  CHECK(fields.count("rules[2].port") == 1);       // port 0
  CHECK(fields.count("rules[3].source_ips") == 1); // in needs source_ips
  CHECK(fields.count("rules[3].destination_ips")
        == 1); // … and no destination_ips

  auto dup = s.api("POST", "/firewalls", {{"name", "fw-web"}});
  CHECK(dup.status == 409);
  CHECK(conforms("POST", "/firewalls", dup).at("error").at("code")
        == "uniqueness_error");

  const json good = {{"name", "isolate"},
                     {"labels", {{"custody/incident", "INC-2026-12-03-1"}}},
                     {"rules",
                      {{{"direction", "in"},
                        {"protocol", "tcp"},
                        {"port", "22"},
                        {"source_ips", {"2001:DB8:0:0::/64"}}},
                       {{"direction", "out"},
                        {"protocol", "icmp"},
                        {"destination_ips", {"203.0.113.7/32"}}}}}};
  auto ok = s.api("POST", "/firewalls", good);
  CHECK(ok.status == 201);
  const json created = conforms("POST", "/firewalls", ok);
  CHECK(created.at("firewall").at("rules")[0].at("source_ips")[0]
        == "2001:db8::/64"); // canonical IPv6
  CHECK(created.at("firewall").at("rules")[1].at("port").is_null());
  CHECK(created.at("firewall").at("rules")[1].at("source_ips")
        == json::array());
  CHECK(created.at("actions")[0].at("command") == "set_firewall_rules");
}

TEST_CASE(
    "hcloud-standin: apply_to_resources and remove_from_resources move pending "
    "to applied (§2.6)") {
  // Actions run long enough that "pending" can be observed without a race.
  StandinProcess s(StandinOptions{"seed_project.json", {"--action-ms", "800"}});
  auto created =
      s.api("POST", "/firewalls", {{"name", "iso"}, {"rules", json::array()}});
  const int64_t fw = created.json().at("firewall").at("id").get<int64_t>();
  const std::string apply_path =
      fmt::format("/firewalls/{}/actions/apply_to_resources", fw);
  auto applied = s.api(
      "POST",
      apply_path,
      {{"apply_to", {{{"type", "server"}, {"server", {{"id", 4294967390}}}}}}});
  CHECK(applied.status == 201);
  const json actions = conforms("POST", apply_path, applied).at("actions");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].at("command") == "apply_firewall");
  CHECK(actions[0].at("resources").size() == 2);
  bool pending = false;
  const json before = get_ok(s, "/servers/4294967390");
  for (const auto& f : before.at("server").at("public_net").at("firewalls")) {
    pending = pending || (f.at("id") == fw && f.at("status") == "pending");
  }
  CHECK(pending);
  auto again = s.api(
      "POST",
      apply_path,
      {{"apply_to", {{{"type", "server"}, {"server", {{"id", 4294967390}}}}}}});
  CHECK(again.status == 422);
  CHECK(conforms("POST", apply_path, again).at("error").at("code")
        == "firewall_already_applied");
  auto nowhere =
      s.api("POST",
            apply_path,
            {{"apply_to", {{{"type", "server"}, {"server", {{"id", 7}}}}}}});
  CHECK(nowhere.status == 404);
  CHECK(nowhere.json().at("error").at("code") == "firewall_resource_not_found");
  finished_action(s, actions[0].at("id").get<int64_t>());
  bool applied_now = false;
  const json after = get_ok(s, "/servers/4294967390");
  for (const auto& f : after.at("server").at("public_net").at("firewalls")) {
    applied_now =
        applied_now || (f.at("id") == fw && f.at("status") == "applied");
  }
  CHECK(applied_now);

  // A firewall that reaches a server through a label selector cannot be removed
  // per server.
  const std::string remove_web =
      "/firewalls/4294968501/actions/remove_from_resources";
  auto managed =
      s.api("POST",
            remove_web,
            {{"remove_from",
              {{{"type", "server"}, {"server", {{"id", 4294967322LL}}}}}}});
  CHECK(managed.status == 422);
  CHECK(conforms("POST", remove_web, managed).at("error").at("code")
        == "firewall_managed_by_label_selector");

  const std::string remove_path =
      fmt::format("/firewalls/{}/actions/remove_from_resources", fw);
  auto removed =
      s.api("POST",
            remove_path,
            {{"remove_from",
              {{{"type", "server"}, {"server", {{"id", 4294967390}}}}}}});
  CHECK(removed.status == 201);
  const json remove_action =
      conforms("POST", remove_path, removed).at("actions")[0];
  CHECK(remove_action.at("command") == "remove_firewall");
  finished_action(s, remove_action.at("id").get<int64_t>());
  CHECK(get_ok(s, fmt::format("/firewalls/{}", fw))
            .at("firewall")
            .at("applied_to")
            .empty());
  auto in_use = s.api("DELETE", "/firewalls/4294968502");
  CHECK(in_use.status == 422);
  CHECK(
      conforms("DELETE", "/firewalls/4294968502", in_use).at("error").at("code")
      == "resource_in_use");
  auto deleted = s.api("DELETE", fmt::format("/firewalls/{}", fw));
  CHECK(deleted.status == 204);
  conforms("DELETE", "/firewalls/1", deleted);
  CHECK(s.api("GET", fmt::format("/firewalls/{}", fw)).status == 404);
}

TEST_CASE(
    "hcloud-standin: POST /servers accepts ids or names and has no datacenter "
    "(§2.7)") {
  StandinProcess s;
  const json body = {{"name", "forensic-analysis-1"},
                     {"server_type", "cpx32"},
                     {"image", 4294968701LL},
                     {"location", "nbg1"},
                     {"ssh_keys", {4294968401LL, "ops-bob"}},
                     {"firewalls", {{{"firewall", 4294968504LL}}}},
                     {"labels", {{"custody/incident", "INC-2026-12-03-1"}}},
                     {"start_after_create", true}};
  auto r = s.api("POST", "/servers", body);
  CHECK(r.status == 201);
  const json created = conforms("POST", "/servers", r);
  CHECK(created.at("server").at("status") == "initializing");
  CHECK_FALSE(created.at("server").contains("datacenter"));
  CHECK(created.at("server").at("location").at("name") == "nbg1");
  CHECK(created.at("root_password").is_null());
  CHECK(created.at("action").at("command") == "create_server");
  REQUIRE(created.at("next_actions").size() == 2);
  CHECK(created.at("next_actions")[0].at("command") == "start_server");
  CHECK(created.at("next_actions")[1].at("command") == "apply_firewall");
  const int64_t id = created.at("server").at("id").get<int64_t>();
  auto dup = s.api("POST", "/servers", body);
  CHECK(dup.status == 409);
  CHECK(dup.json().at("error").at("code") == "uniqueness_error");
  auto invalid = s.api(
      "POST",
      "/servers",
      {{"name", "Bad_Name!"}, {"server_type", "nope"}, {"image", "nope"}});
  CHECK(invalid.status == 422);
  CHECK(conforms("POST", "/servers", invalid)
            .at("error")
            .at("details")
            .at("fields")
            .size()
        == 3);
  wait_ms(400);
  CHECK(get_ok(s, fmt::format("/servers/{}", id)).at("server").at("status")
        == "running");
}

TEST_CASE(
    "hcloud-standin: token bucket answers 429 with rate-limit headers (§1.5)") {
  StandinProcess s(StandinOptions{
      "seed_project.json", {"--rate-capacity", "3", "--rate-refill", "2"}});
  std::vector<long> statuses;
  HttpResult last;
  for (int i = 0; i < 5; ++i) {
    last = s.api("GET", "/ssh_keys");
    statuses.push_back(last.status);
  }
  CHECK(statuses == std::vector<long>{200, 200, 200, 429, 429});
  CHECK(conforms("GET", "/ssh_keys", last).at("error").at("code")
        == "rate_limit_exceeded");
  CHECK(last.headers.at("ratelimit-limit") == "3");
  CHECK(last.headers.at("ratelimit-remaining") == "0");
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const auto reset = std::stoll(last.headers.at("ratelimit-reset"));
  CHECK(reset >= now_s);
  CHECK(reset <= now_s + 3);
  wait_ms(600);
  CHECK(s.api("GET", "/ssh_keys").status == 200);
}

TEST_CASE(
    "hcloud-standin: scripted faults match method and path, count down, and "
    "can drop connections") {
  StandinProcess s;
  s.add_faults(json::array(
      {{{"method", "GET"},
        {"path", "/v1/volumes"},
        {"count", 2},
        {"status", 503},
        {"code", "unavailable"}},
       {{"uri", "/v1/ssh_keys?page=2"}, {"status", 502}, {"body", "bare"}},
       {{"path", "/v1/firewalls"}, {"drop", true}}}));
  auto first = s.api("GET", "/volumes");
  CHECK(first.status == 503);
  CHECK(conforms("GET", "/volumes", first).at("error").at("code")
        == "unavailable");
  CHECK(s.api("GET", "/volumes").status == 503);
  CHECK(s.api("GET", "/volumes").status == 200);  // count exhausted
  CHECK(s.api("GET", "/ssh_keys").status == 200); // uri must match exactly
  auto bare = s.api("GET", "/ssh_keys?page=2");
  CHECK(bare.status == 502);
  CHECK(bare.body.empty());
  CHECK_THROWS(s.api("GET", "/firewalls")); // connection dropped mid-body
  CHECK(s.control("GET", "faults").at("faults").empty());
}

TEST_CASE(
    "hcloud-standin: action faults end the next matching action in error "
    "(§6)") {
  StandinProcess s;
  s.control("POST",
            "action_faults",
            {{"command", "create_image"},
             {"code", "image_creation_failed"},
             {"message", "disk read error"}});
  auto r = s.api("POST",
                 "/servers/4294967391/actions/create_image",
                 {{"type", "snapshot"}});
  const json created = r.json();
  wait_ms(250);
  const json action =
      get_ok(s,
             fmt::format("/actions/{}",
                         created.at("action").at("id").get<int64_t>()))
          .at("action");
  CHECK(action.at("status") == "error");
  CHECK(action.at("error")
        == json({{"code", "image_creation_failed"},
                 {"message", "disk read error"}}));
  CHECK(s.api("GET",
              fmt::format("/images/{}",
                          created.at("image").at("id").get<int64_t>()))
            .status
        == 404);
}
