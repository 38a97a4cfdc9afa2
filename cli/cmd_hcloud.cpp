// snapshot, isolate, inventory, analysis-server: response steps on Hetzner
// Cloud, each recorded in the custody ledger (collector/hcloud_response.hpp).
// The API token comes from HCLOUD_TOKEN, HETZNER_API_TOKEN or --token-file,
// never from the command line.
#include "cli/context.hpp"
#include "collector/hcloud_config.hpp"
#include "collector/hcloud_response.hpp"
#include "common/text.hpp"
#include "common/time.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace custody::cli {

namespace {

namespace hcloud = collector::hcloud;

struct HcloudOptions {
  std::string incident;
  std::string endpoint;
  std::string token_file;
  int wait_minutes = 30;
};

void add_hcloud_options(CLI::App* sub, HcloudOptions& o) {
  sub->add_option("--incident", o.incident, "Incident id")->required();
  sub->add_option("--endpoint", o.endpoint, "Hetzner Cloud API URL")
    ->option_text("URL [$HCLOUD_ENDPOINT, default https://api.hetzner.cloud/v1]");
  sub->add_option("--token-file", o.token_file,
                  "File holding the API token (mode 0600); else $HCLOUD_TOKEN or "
                  "$HETZNER_API_TOKEN. Never pass a token on the command line");
  sub->add_option("--wait", o.wait_minutes, "Give up waiting for Hetzner actions after N minutes")
    ->check(CLI::Range(1, 24 * 60));
}

// Everything a recorded step needs, opened in order: vault, signer, token, client.
struct Session {
  vault::Vault vault;
  vault::Signer who;
  hcloud::Client client;
  std::string endpoint;
};

Result<Session> open_session(const Options& opt, const HcloudOptions& h) {
  CUSTODY_TRY_ASSIGN(Acting acting, open_acting(opt));
  CUSTODY_TRY_ASSIGN(const std::string endpoint,
                     hcloud::resolve_endpoint(h.endpoint.empty() ? std::nullopt
                                                                 : std::optional<std::string>(h.endpoint)));
  auto token = hcloud::load_token(h.token_file.empty() ? std::nullopt
                                                       : std::optional<std::filesystem::path>(h.token_file));
  if (!token) {
    return tl::unexpected(token.error());
  }
  hcloud::ClientOptions co;
  co.endpoint = endpoint;
  CUSTODY_TRY_ASSIGN(hcloud::Client client, hcloud::Client::create(std::move(token->token), co));
  spdlog::debug("Hetzner API {} (token from {})", endpoint, token->origin);
  return Session{std::move(acting.vault), std::move(acting.signer), std::move(client), endpoint};
}

collector::ResponseContext context(Session& s, const HcloudOptions& h) {
  hcloud::WaitOptions wait;
  wait.timeout = std::chrono::minutes(h.wait_minutes);
  if (::isatty(STDERR_FILENO) != 0) {
    wait.on_progress = [](const hcloud::Action& a) {
      std::fprintf(stderr, "\r  %s %lld: %s %d%%   ", a.command.c_str(),
                   static_cast<long long>(a.id), a.status.c_str(), a.progress);
      std::fflush(stderr);
    };
  }
  return collector::ResponseContext{s.client, s.vault, s.who, h.incident, s.endpoint, wait};
}

// Prints warnings, signs the checkpoint and maps the step to an exit code.
int finish_step(Session& s, const collector::StepRecord& r, bool json, Json summary) {
  if (::isatty(STDERR_FILENO) != 0) {
    std::fprintf(stderr, "\r%60s\r", "");
  }
  for (const auto& w : r.warnings) {
    spdlog::warn("{}", escape_for_terminal(w));
  }
  summary["ok"] = r.ok;
  summary["error"] = r.error;
  summary["entries"] = r.seqs;
  summary["items"] = r.items;
  summary["warnings"] = r.warnings;
  if (json) {
    print_json(summary);
  }
  const int rc = finish_change(s.vault);
  if (!r.ok) {
    return error(fmt::format("{} (recorded as entry {})", r.error,
                             r.seqs.empty() ? 0 : r.seqs.back()));
  }
  return rc;
}

void setup_snapshot(CLI::App& app, Context& ctx) {
  struct Args {
    HcloudOptions h;
    int64_t server = 0;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("snapshot", "Snapshot a Hetzner server's disk (create_image) and "
                                             "record it as evidence");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  add_hcloud_options(sub, a->h);
  sub->add_option("--server", a->server, "Server id")->required()->check(CLI::PositiveNumber);
  sub->footer("The server's JSON is stored as evidence; the snapshot is recorded as an item held "
              "at Hetzner (its bytes stay there). A failed action is recorded as a failure and "
              "exits 2.");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto s = open_session(ctx.opt, a->h);
      if (!s) {
        return error(s.error());
      }
      auto rc_ctx = context(*s, a->h);
      auto r = collector::record_snapshot(rc_ctx, a->server);
      if (!r) {
        return error(r.error());
      }
      if (!ctx.opt.json && r->ok) {
        out(fmt::format("Snapshot {} of server {} is available: {} (description {})\n",
                        r->image_id.value_or(0), a->server, r->snapshot_item, r->description));
      } else if (!ctx.opt.json && r->image_id) {
        out(fmt::format("Snapshot {} of server {} was requested (action {}) but did not complete\n",
                        *r->image_id, a->server, r->action_id.value_or(0)));
      }
      Json summary{{"server_id", a->server},
                   {"image_id", r->image_id ? Json(*r->image_id) : Json(nullptr)},
                   {"action_id", r->action_id ? Json(*r->action_id) : Json(nullptr)},
                   {"description", r->description},
                   {"snapshot_item", r->snapshot_item}};
      return finish_step(*s, *r, ctx.opt.json, summary);
    };
  });
}

void setup_isolate(CLI::App& app, Context& ctx) {
  struct Args {
    HcloudOptions h;
    int64_t server = 0;
    std::string admin_ip;
    bool undo = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("isolate", "Isolate a Hetzner server: SSH from the admin IP only, "
                                            "outbound closed by default");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  add_hcloud_options(sub, a->h);
  sub->add_option("--server", a->server, "Server id")->required()->check(CLI::PositiveNumber);
  sub->add_option("--admin-ip", a->admin_ip, "The responder's address or CIDR allowed to SSH in");
  sub->add_flag("--undo", a->undo, "Remove this incident's isolation firewall and restore the "
                                   "firewalls the isolation removed");
  sub->footer("Connections established before the firewall may survive; private networks are not "
              "filtered. Reboot or power off the server if that matters.");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      if (!a->undo && a->admin_ip.empty()) {
        return error("--admin-ip is required (the address allowed to SSH in)");
      }
      auto s = open_session(ctx.opt, a->h);
      if (!s) {
        return error(s.error());
      }
      auto rc_ctx = context(*s, a->h);
      auto r = collector::record_isolation(rc_ctx, a->server, a->admin_ip, a->undo);
      if (!r) {
        return error(r.error());
      }
      if (!ctx.opt.json) {
        if (a->undo) {
          out(fmt::format("Server {}: isolation removed{}\n", a->server,
                          r->restored_firewalls.empty()
                            ? ""
                            : fmt::format(", firewalls {} restored",
                                          fmt::join(r->restored_firewalls, ", "))));
        } else if (r->firewall_id) {
          out(fmt::format("Server {} isolated by firewall {}{}\n", a->server, *r->firewall_id,
                          r->removed_firewalls.empty()
                            ? ""
                            : fmt::format(" (removed firewalls {}; isolate --undo restores them)",
                                          fmt::join(r->removed_firewalls, ", "))));
        }
      }
      Json summary{{"server_id", a->server},
                   {"undo", a->undo},
                   {"firewall_id", r->firewall_id ? Json(*r->firewall_id) : Json(nullptr)},
                   {"removed_firewalls", r->removed_firewalls},
                   {"restored_firewalls", r->restored_firewalls}};
      return finish_step(*s, *r, ctx.opt.json, summary);
    };
  });
}

void setup_inventory(CLI::App& app, Context& ctx) {
  struct Args {
    HcloudOptions h;
    std::string expected, since;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("inventory", "Audit the Hetzner project after a token compromise: "
                                              "every server, key, firewall, volume and snapshot");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  add_hcloud_options(sub, a->h);
  sub->add_option("--expected", a->expected,
                  "Expected inventory (JSON, schemas/expected-inventory.schema.json)");
  sub->add_option("--since", a->since, "Suspected compromise time, UTC: list what was created since");
  sub->footer("Exit 1 when an unauthorised server or unknown SSH key is found. The full listing "
              "and the report are stored as evidence.");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto since = parse_time_option(a->since, "--since");
      if (!since) {
        return error(since.error());
      }
      auto s = open_session(ctx.opt, a->h);
      if (!s) {
        return error(s.error());
      }
      auto rc_ctx = context(*s, a->h);
      auto r = collector::record_inventory(
        rc_ctx, a->expected.empty() ? std::nullopt : std::optional<std::filesystem::path>(a->expected),
        *since);
      if (!r) {
        return error(r.error());
      }
      if (!ctx.opt.json && r->ok) {
        out(fmt::format("Project: {} servers, {} SSH keys, {} firewalls, {} volumes, {} snapshots/"
                        "backups\n",
                        r->counts.value("servers", 0), r->counts.value("ssh_keys", 0),
                        r->counts.value("firewalls", 0), r->counts.value("volumes", 0),
                        r->counts.value("images", 0)));
        for (const auto& f : r->report.findings) {
          out(fmt::format("  {:<20} {:<9} {:<12} {}\n", hcloud::to_string(f.kind), f.resource,
                          f.id ? std::to_string(*f.id) : std::string("-"),
                          escape_for_terminal(f.detail)));
        }
        out(r->report.clean() ? "No unauthorised server or unknown SSH key found.\n"
                              : "FINDINGS: unauthorised servers or unknown SSH keys (see above).\n");
      }
      Json summary{{"counts", r->counts}, {"report", r->report.to_json()}};
      const int rc = finish_step(*s, *r, ctx.opt.json, summary);
      if (rc == k_exit_ok && !r->report.clean()) {
        return k_exit_finding;
      }
      return rc;
    };
  });
}

void setup_analysis_server(CLI::App& app, Context& ctx) {
  struct Args {
    HcloudOptions h;
    collector::AnalysisServerOptions o;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("analysis-server", "Create the isolated analysis server from a "
                                                    "forensic snapshot");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  add_hcloud_options(sub, a->h);
  sub->add_option("--image", a->o.image, "Snapshot image id")->required();
  sub->add_option("--firewall", a->o.firewall_id, "Firewall id to apply (e.g. the isolation one)")
    ->required();
  sub->add_option("--type", a->o.server_type, "Server type")->capture_default_str();
  sub->add_option("--location", a->o.location, "Location")->capture_default_str();
  sub->add_option("--ssh-key", a->o.ssh_keys, "SSH key id or name for root (repeatable; required, "
                                              "so no root password is mailed)")
    ->required();
  sub->add_option("--name", a->o.name, "Server name (default forensic-analysis-<incident>-<stamp>)");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto s = open_session(ctx.opt, a->h);
      if (!s) {
        return error(s.error());
      }
      auto rc_ctx = context(*s, a->h);
      auto r = collector::record_analysis_server(rc_ctx, a->o);
      if (!r) {
        return error(r.error());
      }
      if (!ctx.opt.json && r->server_id) {
        out(fmt::format("Analysis server {} ({}) {}, IPv4 {}\n", *r->server_id, r->name,
                        r->ok ? "is running" : "was created but is not ready",
                        r->ipv4.empty() ? "-" : r->ipv4));
      }
      Json summary{{"server_id", r->server_id ? Json(*r->server_id) : Json(nullptr)},
                   {"name", r->name},
                   {"ipv4", r->ipv4}};
      return finish_step(*s, *r, ctx.opt.json, summary);
    };
  });
}

} // namespace

void setup_hcloud_commands(CLI::App& app, Context& ctx) {
  setup_snapshot(app, ctx);
  setup_isolate(app, ctx);
  setup_inventory(app, ctx);
  setup_analysis_server(app, ctx);
}

} // namespace custody::cli
