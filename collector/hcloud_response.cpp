#include "collector/hcloud_response.hpp"

#include "collector/hcloud_workflow.hpp"
#include "common/atomic_file.hpp"
#include "common/time.hpp"
#include "common/version.hpp"
#include "verify/entry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace custody::collector {

using hcloud::Action;
using vault::Json;

namespace {

Json action_json(const Action& a) {
  return Json{{"id", a.id},
              {"command", a.command},
              {"status", a.status},
              {"progress", std::clamp(a.progress, 0, 100)},
              {"started_ms", a.started_ms},
              {"finished_ms", a.finished_ms ? Json(*a.finished_ms) : Json(nullptr)},
              {"error_code", a.error ? a.error->code : std::string()},
              {"error_message", a.error ? a.error->message : std::string()}};
}

Json actions_json(const std::vector<Action>& actions) {
  Json out = Json::array();
  for (const Action& a : actions) {
    out.push_back(action_json(a));
  }
  return out;
}

Json exchange_json(const hcloud::HttpExchange& x) {
  return Json{{"method", x.method},
              {"path", x.path},
              {"status", x.status},
              {"attempt", x.attempt},
              {"started_ms", x.started_ms},
              {"finished_ms", x.finished_ms},
              {"correlation_id", x.correlation_id},
              {"api_error_code", x.api_error_code},
              {"transport_error", x.transport_error.substr(0, 1000)},
              {"response_bytes", x.response_bytes},
              {"response_sha256", x.response_sha256}};
}

Json labels_json(const hcloud::Labels& labels) {
  Json out = Json::object();
  for (const auto& [k, v] : labels) {
    out[k] = v;
  }
  return out;
}

Json rules_json(const std::vector<hcloud::FirewallRule>& rules) {
  Json out = Json::array();
  for (const auto& r : rules) {
    Json j{{"direction", r.direction},
           {"protocol", r.protocol},
           {"source_ips", r.source_ips},
           {"destination_ips", r.destination_ips}};
    if (r.port) {
      j["port"] = *r.port;
    }
    out.push_back(std::move(j));
  }
  return out;
}

// A JSON document holding verbatim response bodies, each as a JSON string
// (so its bytes survive exactly), for steps that made several requests.
std::string bodies_document(const std::string& endpoint, const std::string& what,
                            const std::vector<std::string>& bodies) {
  Json doc{{"format", "custody-hcloud-responses/v1"},
           {"endpoint", endpoint},
           {"what", what},
           {"fetched_at", format_rfc3339_ms(now_ms())},
           {"tool", fmt::format("{} {}", k_tool_name, k_tool_version)},
           {"bodies", bodies}};
  return doc.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Appends a response_action entry with the exchanges made since the last one.
struct Recorder {
  ResponseContext& ctx;
  std::string action;
  Json target;
  Json request = Json::object();
  int64_t started_ms = now_ms();

  Result<uint64_t> record(StepRecord& out, const std::string& outcome, const Json& provider_actions,
                          const Json& resources, const std::vector<std::string>& evidence,
                          const std::string& error) {
    Json exchanges = Json::array();
    for (const auto& x : ctx.client.take_exchanges()) {
      exchanges.push_back(exchange_json(x));
    }
    Json fields{{"action", action},
                {"outcome", outcome},
                {"provider", "hetzner"},
                {"endpoint", ctx.endpoint},
                {"target", target},
                {"request", request},
                {"provider_actions", provider_actions},
                {"resources", resources},
                {"exchanges", exchanges},
                {"evidence", evidence},
                {"warnings", out.warnings},
                {"error", error.substr(0, 4000)},
                {"started_ms", started_ms},
                {"finished_ms", std::max(started_ms, now_ms())}};
    CUSTODY_TRY_ASSIGN(const vault::Appended a,
                       ctx.vault.record_response(ctx.who, ctx.incident, std::move(fields)));
    out.seqs.push_back(a.entry.seq);
    return a.entry.seq;
  }

  // Stores `bytes` as an api_export item and returns its id.
  Result<std::string> evidence(StepRecord& out, const std::string& name, const std::string& source,
                               const std::string& method, std::string bytes,
                               int64_t collected_ms, const char* kind = "api_export") {
    vault::AddBytesOptions o;
    o.bytes = std::move(bytes);
    o.name = name;
    o.incident = ctx.incident;
    o.source = source;
    o.method = method;
    o.kind = kind;
    o.collected_ms = collected_ms;
    CUSTODY_TRY_ASSIGN(const Json item, ctx.vault.add_bytes(ctx.who, o));
    const auto id = item.at("id").get<std::string>();
    out.items.push_back(id);
    return id;
  }
};

std::string server_source(int64_t id) {
  return fmt::format("hetzner:server/{}", id);
}

} // namespace

Result<SnapshotRecord> record_snapshot(ResponseContext& ctx, int64_t server_id) {
  SnapshotRecord out;
  out.server_id = server_id;
  CUSTODY_TRY_ASSIGN(const Json inc, ctx.vault.incident(ctx.incident));
  if (inc.at("status") == "closed") {
    return fail(Errc::invalid_input, fmt::format("refused: incident {} is closed", ctx.incident));
  }
  Recorder rec{ctx, "snapshot", Json{{"server_id", server_id}}};
  auto started = hcloud::start_snapshot(ctx.client, server_id, ctx.incident, rec.started_ms);
  if (!started) {
    // Nothing was created (or we cannot know): record the failed request,
    // never a snapshot.
    out.error = started.error().message;
    CUSTODY_TRY(rec.record(out, "failed", Json::array(), Json::object(), {}, out.error));
    return out;
  }
  out.description = started->description;
  out.image_id = started->created.image.id;
  out.action_id = started->created.action.id;
  rec.request = Json{{"type", "snapshot"},
                     {"description", started->description},
                     {"labels", labels_json(started->labels)}};
  // The server's state just before the snapshot request, byte for byte.
  CUSTODY_TRY_ASSIGN(const std::string server_item,
                     rec.evidence(out, fmt::format("hetzner-server-{}.json", server_id),
                                  server_source(server_id),
                                  fmt::format("Hetzner Cloud API GET /servers/{} (verbatim "
                                              "response, before the snapshot request)",
                                              server_id),
                                  started->server_body, rec.started_ms));
  CUSTODY_TRY(rec.record(out, "requested", Json::array({action_json(started->created.action)}),
                         Json{{"image_id", started->created.image.id}}, {server_item}, ""));

  auto finished = hcloud::finish_snapshot(ctx.client, *started, ctx.wait);
  if (!finished) {
    out.error = finished.error().message;
    Json actions = Json::array();
    if (auto last = ctx.client.get_action(started->created.action.id); last) {
      actions.push_back(action_json(last->value));
    }
    CUSTODY_TRY(rec.record(out, "failed", actions, Json{{"image_id", started->created.image.id}},
                           {}, out.error));
    return out;
  }
  const int64_t collected = finished->action.finished_ms.value_or(now_ms());
  const double gb = finished->image.image_size_gb.value_or(0.0);
  // Hetzner reports sizes in GB; the item records bytes (1 GB = 10^9 bytes).
  const auto bytes = static_cast<uint64_t>(std::llround(gb * 1e9));
  vault::ExternalItemOptions snap;
  snap.incident = ctx.incident;
  snap.name = fmt::format("Snapshot ID: {}", finished->image.id);
  snap.source = server_source(server_id);
  snap.location = fmt::format("Hetzner Cloud image {} ({})", finished->image.id,
                              started->description);
  snap.size = bytes;
  snap.method = fmt::format("Hetzner Cloud create_image type snapshot, action {}", finished->action.id);
  snap.notes = fmt::format("Server disk snapshot of server {} ({}); image_size {} GB, disk {} GB, "
                           "as reported by Hetzner",
                           server_id, started->server.name, gb, finished->image.disk_size_gb);
  snap.collected_ms = collected;
  CUSTODY_TRY_ASSIGN(const Json snap_item, ctx.vault.record_external(ctx.who, snap));
  out.snapshot_item = snap_item.at("id").get<std::string>();
  out.items.push_back(out.snapshot_item);
  CUSTODY_TRY_ASSIGN(const std::string image_item,
                     rec.evidence(out, fmt::format("hetzner-image-{}.json", finished->image.id),
                                  server_source(server_id),
                                  fmt::format("Hetzner Cloud API GET /images/{} (verbatim "
                                              "response, after the snapshot completed)",
                                              finished->image.id),
                                  finished->image_body, now_ms()));
  CUSTODY_TRY(rec.record(out, "success", Json::array({action_json(finished->action)}),
                         Json{{"image_id", finished->image.id},
                              {"image_size_bytes", bytes},
                              {"image_status", finished->image.status}},
                         {out.snapshot_item, image_item}, ""));
  out.ok = true;
  return out;
}

Result<IsolationRecord> record_isolation(ResponseContext& ctx, int64_t server_id,
                                         const std::string& admin_cidr, bool undo) {
  IsolationRecord out;
  CUSTODY_TRY_ASSIGN(const Json inc, ctx.vault.incident(ctx.incident));
  if (inc.at("status") == "closed") {
    return fail(Errc::invalid_input, fmt::format("refused: incident {} is closed", ctx.incident));
  }
  if (!undo) {
    Recorder rec{ctx, "isolate", Json{{"server_id", server_id}}};
    auto spec = hcloud::build_isolation_firewall(server_id, admin_cidr, ctx.incident, rec.started_ms);
    if (!spec) {
      return tl::unexpected(spec.error()); // bad CIDR: nothing was asked of the provider
    }
    rec.request = Json{{"admin_cidr", admin_cidr},
                       {"firewall_name", spec->name},
                       {"labels", labels_json(spec->labels)},
                       {"rules", rules_json(spec->rules)}};
    hcloud::IsolationOutcome o =
      hcloud::isolate_server(ctx.client, server_id, admin_cidr, ctx.incident, rec.started_ms, ctx.wait);
    out.warnings = o.warnings; // includes hcloud::k_isolation_caveats
    out.removed_firewalls = o.removed_firewalls;
    if (o.firewall) {
      out.firewall_id = o.firewall->id;
    }
    std::vector<std::string> evidence;
    if (!o.bodies.empty()) {
      CUSTODY_TRY_ASSIGN(const std::string item,
                         rec.evidence(out, fmt::format("hetzner-isolate-{}.json", server_id),
                                      server_source(server_id),
                                      "Hetzner Cloud API responses of the isolation (verbatim, "
                                      "in order: server before, firewall, actions, server after)",
                                      bodies_document(ctx.endpoint, "isolate", o.bodies), now_ms()));
      evidence.push_back(item);
    }
    const std::string outcome = o.complete() ? "success" : (o.firewall ? "partial" : "failed");
    Json resources{{"removed_firewalls", o.removed_firewalls}};
    if (o.firewall) {
      resources["firewall_id"] = o.firewall->id;
    }
    out.error = o.error ? o.error->message : std::string();
    CUSTODY_TRY(rec.record(out, outcome, actions_json(o.actions), resources, evidence, out.error));
    out.ok = o.complete();
    return out;
  }

  // Undo: take custody's isolation firewall(s) of this incident off the
  // server, and put back what the last isolation of this server removed.
  Recorder rec{ctx, "unisolate", Json{{"server_id", server_id}}};
  std::vector<int64_t> to_restore;
  {
    // The removed firewall ids are in the last successful isolate entry.
    CUSTODY_TRY_ASSIGN(auto stmt, ctx.vault.ledger().db().prepare(
                                    "SELECT entry FROM ledger ORDER BY seq DESC"));
    for (;;) {
      CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
      if (!row) {
        break;
      }
      auto e = verify::decode_entry(stmt.column_blob(0));
      if (!e || e->type != "response_action" || e->incident != ctx.incident) {
        continue;
      }
      const Json& f = e->fields;
      if (f.at("action") == "isolate" && f.at("target").value("server_id", int64_t{0}) == server_id) {
        for (const auto& id : f.at("resources").value("removed_firewalls", Json::array())) {
          to_restore.push_back(id.get<int64_t>());
        }
        break;
      }
    }
  }
  const std::string selector = fmt::format("{}={},{}=isolation,{}={}", hcloud::k_label_incident,
                                           ctx.incident, hcloud::k_label_purpose,
                                           hcloud::k_label_server, server_id);
  rec.request = Json{{"label_selector", selector}, {"restore_firewalls", to_restore}};
  std::vector<Action> actions;
  std::vector<std::string> bodies;
  std::string error;
  std::vector<int64_t> removed_isolation;
  auto step = [&](auto result) -> bool {
    if (!result) {
      error = result.error().message;
      return false;
    }
    for (const auto& b : result->bodies) {
      bodies.push_back(b);
    }
    return true;
  };
  hcloud::ListOptions by_label;
  by_label.label_selector = selector;
  auto fws = ctx.client.list_firewalls(by_label);
  if (step(fws)) {
    // Restore first, so the server is never left without a firewall.
    for (int64_t id : to_restore) {
      auto applied = ctx.client.apply_firewall(id, {server_id});
      if (!step(applied)) {
        break;
      }
      for (const Action& a : applied->value) {
        auto done = ctx.client.wait_for_action(a.id, ctx.wait);
        if (!step(done)) {
          break;
        }
        actions.push_back(done->value);
      }
      out.restored_firewalls.push_back(id);
    }
    for (const auto& fw : fws->value) {
      if (!error.empty()) {
        break;
      }
      auto removed = ctx.client.remove_firewall(fw.id, {server_id});
      if (!step(removed)) {
        break;
      }
      for (const Action& a : removed->value) {
        auto done = ctx.client.wait_for_action(a.id, ctx.wait);
        if (!step(done)) {
          break;
        }
        actions.push_back(done->value);
      }
      removed_isolation.push_back(fw.id);
    }
    if (fws->value.empty() && error.empty()) {
      out.warnings.push_back(fmt::format("no isolation firewall of {} is applied to server {}",
                                         ctx.incident, server_id));
    }
  }
  std::vector<std::string> evidence;
  if (!bodies.empty()) {
    CUSTODY_TRY_ASSIGN(const std::string item,
                       rec.evidence(out, fmt::format("hetzner-unisolate-{}.json", server_id),
                                    server_source(server_id),
                                    "Hetzner Cloud API responses of the isolation undo (verbatim)",
                                    bodies_document(ctx.endpoint, "unisolate", bodies), now_ms()));
    evidence.push_back(item);
  }
  const bool did_something = !removed_isolation.empty() || !out.restored_firewalls.empty();
  const std::string outcome = error.empty() ? "success" : (did_something ? "partial" : "failed");
  out.error = error;
  CUSTODY_TRY(rec.record(out, outcome, actions_json(actions),
                         Json{{"removed_isolation_firewalls", removed_isolation},
                              {"restored_firewalls", out.restored_firewalls}},
                         evidence, error));
  out.ok = error.empty();
  return out;
}

Result<InventoryRecord> record_inventory(ResponseContext& ctx,
                                         const std::optional<std::filesystem::path>& expected_path,
                                         std::optional<int64_t> since_ms) {
  InventoryRecord out;
  CUSTODY_TRY_ASSIGN(const Json inc, ctx.vault.incident(ctx.incident));
  if (inc.at("status") == "closed") {
    return fail(Errc::invalid_input, fmt::format("refused: incident {} is closed", ctx.incident));
  }
  // Read the expected inventory before calling the API: a typo in it must
  // fail fast, not after minutes of listing.
  std::optional<hcloud::ExpectedInventory> expected;
  std::string expected_text;
  if (expected_path) {
    CUSTODY_TRY_ASSIGN(expected_text, read_small_file(*expected_path, 16 * 1024 * 1024));
    auto parsed = hcloud::parse_expected_inventory(expected_text);
    if (!parsed) {
      return fail(parsed.error().code,
                  fmt::format("{}: {}", expected_path->string(), parsed.error().message));
    }
    expected = std::move(*parsed);
  }
  Recorder rec{ctx, "inventory", Json{{"project", expected ? expected->project : std::string()}}};
  rec.request = Json{{"expected_inventory", expected_path ? expected_path->string() : std::string()},
                     {"since", since_ms ? format_rfc3339_ms(*since_ms) : std::string()}};
  std::vector<std::string> evidence;
  if (expected_path) {
    CUSTODY_TRY_ASSIGN(const std::string item,
                       rec.evidence(out, expected_path->filename().string(), "responder",
                                    "the expected inventory the audit compared against (as given)",
                                    expected_text, rec.started_ms, "file"));
    evidence.push_back(item);
  }
  auto inv = hcloud::fetch_inventory(ctx.client);
  if (!inv) {
    out.error = inv.error().message;
    CUSTODY_TRY(rec.record(out, "failed", Json::array(), Json::object(), evidence, out.error));
    return out;
  }
  out.report = hcloud::compare_inventory(expected.value_or(hcloud::ExpectedInventory{}), *inv, since_ms);
  if (!expected) {
    // With nothing expected, nothing can be unauthorised: keep the listing
    // and what was created since `since`.
    std::erase_if(out.report.findings, [](const hcloud::InventoryFinding& f) {
      return f.kind == hcloud::FindingKind::unauthorized_server
             || f.kind == hcloud::FindingKind::unknown_ssh_key;
    });
  }
  out.counts = Json{{"servers", inv->servers.size()},
                    {"ssh_keys", inv->ssh_keys.size()},
                    {"firewalls", inv->firewalls.size()},
                    {"volumes", inv->volumes.size()},
                    {"images", inv->images.size()}};
  CUSTODY_TRY_ASSIGN(const std::string listing,
                     rec.evidence(out, "hetzner-project-inventory.json", "hetzner:project",
                                  "Hetzner Cloud API: every page of /servers, /ssh_keys, "
                                  "/firewalls, /volumes and /images?type=snapshot,backup "
                                  "(verbatim)",
                                  bodies_document(ctx.endpoint, "inventory", inv->bodies), now_ms()));
  evidence.push_back(listing);
  Json report = out.report.to_json();
  report["counts_by_resource"] = out.counts;
  CUSTODY_TRY_ASSIGN(const std::string report_item,
                     rec.evidence(out, "hetzner-inventory-report.json", "hetzner:project",
                                  "custody inventory report derived from the listing",
                                  report.dump(2) + "\n", now_ms()));
  evidence.push_back(report_item);
  Json counts_by_kind = Json::object();
  for (auto kind : {hcloud::FindingKind::unauthorized_server, hcloud::FindingKind::unknown_ssh_key,
                    hcloud::FindingKind::server_renamed, hcloud::FindingKind::missing_server,
                    hcloud::FindingKind::missing_ssh_key, hcloud::FindingKind::created_since}) {
    counts_by_kind[std::string(hcloud::to_string(kind))] = out.report.count(kind);
  }
  Json flagged = Json::array();
  for (const auto& f : out.report.findings) {
    if ((f.kind == hcloud::FindingKind::unauthorized_server
         || f.kind == hcloud::FindingKind::unknown_ssh_key)
        && flagged.size() < 100) {
      flagged.push_back(Json{{"kind", std::string(hcloud::to_string(f.kind))},
                             {"resource", f.resource},
                             {"id", f.id ? Json(*f.id) : Json(nullptr)},
                             {"name", f.name}});
    }
  }
  CUSTODY_TRY(rec.record(out, "success", Json::array(),
                         Json{{"counts", out.counts},
                              {"findings", counts_by_kind},
                              {"flagged", flagged},
                              {"clean", out.report.clean()}},
                         evidence, ""));
  out.ok = true;
  return out;
}

Result<AnalysisServerRecord> record_analysis_server(ResponseContext& ctx,
                                                    const AnalysisServerOptions& o) {
  AnalysisServerRecord out;
  CUSTODY_TRY_ASSIGN(const Json inc, ctx.vault.incident(ctx.incident));
  if (inc.at("status") == "closed") {
    return fail(Errc::invalid_input, fmt::format("refused: incident {} is closed", ctx.incident));
  }
  if (o.ssh_keys.empty()) {
    return fail(Errc::invalid_input,
                "give at least one --ssh-key: without one Hetzner mails a root password");
  }
  Recorder rec{ctx, "analysis_server", Json{{"image", o.image}}};
  hcloud::CreateServerRequest req;
  req.name = o.name.empty() ? fmt::format("forensic-analysis-{}-{}", ctx.incident,
                                          format_utc_compact(rec.started_ms))
                            : o.name;
  std::transform(req.name.begin(), req.name.end(), req.name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  out.name = req.name;
  req.server_type = o.server_type;
  // A numeric image is a snapshot id, anything else a name.
  if (!o.image.empty() && std::all_of(o.image.begin(), o.image.end(), ::isdigit)) {
    req.image = static_cast<int64_t>(std::stoll(o.image));
  } else {
    req.image = o.image;
  }
  req.location = o.location;
  for (const auto& k : o.ssh_keys) {
    if (!k.empty() && std::all_of(k.begin(), k.end(), ::isdigit)) {
      req.ssh_keys.emplace_back(static_cast<int64_t>(std::stoll(k)));
    } else {
      req.ssh_keys.emplace_back(k);
    }
  }
  req.firewalls = {o.firewall_id};
  CUSTODY_TRY_ASSIGN(req.labels, hcloud::incident_labels(ctx.incident, "analysis"));
  rec.request = Json{{"name", req.name},
                     {"server_type", o.server_type},
                     {"image", o.image},
                     {"location", o.location},
                     {"ssh_keys", o.ssh_keys},
                     {"firewalls", Json::array({o.firewall_id})},
                     {"labels", labels_json(req.labels)}};
  auto created = ctx.client.create_server(req);
  if (!created) {
    out.error = created.error().message;
    CUSTODY_TRY(rec.record(out, "failed", Json::array(), Json::object(), {}, out.error));
    return out;
  }
  out.server_id = created->value.server.id;
  rec.target = Json{{"server_id", *out.server_id}, {"image", o.image}};
  std::vector<Action> actions;
  std::vector<int64_t> ids{created->value.action.id};
  for (const Action& a : created->value.next_actions) {
    ids.push_back(a.id);
  }
  for (int64_t id : ids) {
    auto done = ctx.client.wait_for_action(id, ctx.wait);
    if (!done) {
      out.error = done.error().message;
      if (auto last = ctx.client.get_action(id); last) {
        actions.push_back(last->value);
      }
      break;
    }
    actions.push_back(done->value);
  }
  std::vector<std::string> evidence;
  auto server = ctx.client.get_server(*out.server_id);
  Json resources{{"server_id", *out.server_id}, {"name", req.name}};
  if (server) {
    out.ipv4 = server->value.ipv4.value_or("");
    resources["ipv4"] = out.ipv4;
    resources["status"] = server->value.status;
    CUSTODY_TRY_ASSIGN(const std::string item,
                       rec.evidence(out, fmt::format("hetzner-analysis-server-{}.json", *out.server_id),
                                    server_source(*out.server_id),
                                    fmt::format("Hetzner Cloud API GET /servers/{} after creation "
                                                "(verbatim)",
                                                *out.server_id),
                                    server->bodies.front(), now_ms()));
    evidence.push_back(item);
  } else if (out.error.empty()) {
    out.error = server.error().message;
  }
  CUSTODY_TRY(rec.record(out, out.error.empty() ? "success" : "partial", actions_json(actions),
                         resources, evidence, out.error));
  out.ok = out.error.empty();
  return out;
}

} // namespace custody::collector
