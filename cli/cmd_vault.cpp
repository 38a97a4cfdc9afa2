#include "cli/context.hpp"

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "vault/report.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace custody::cli {

namespace {

// ---------------------------------------------------------------------------
// init

void setup_init(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("init", "Create a vault, its ledger key and the first actor's key");
  auto origin = std::make_shared<std::string>();
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  sub->add_option("--origin", *origin,
                  "The vault's identity in checkpoints (default <host>/custody-<random>)");
  sub->footer("The actor's key is created if the --key file does not exist, else reused.");
  sub->callback([&ctx, sub, origin] {
    ctx.run = [&ctx, origin]() -> int {
      auto dir = vault_dir(ctx.opt);
      if (!dir) {
        return error(dir.error());
      }
      auto who = identity(ctx.opt.actor, ctx.opt.key, ctx.opt.passphrase_file);
      if (!who) {
        return error(who.error());
      }
      vault::InitOptions o{*dir, std::move(*who), std::nullopt};
      if (!origin->empty()) {
        o.origin = *origin;
      }
      auto r = vault::Vault::init(o);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(Json{{"vault", r->dir.string()},
                        {"database", r->db.string()},
                        {"origin", r->origin},
                        {"ledger_key_file", r->ledger_key_file.string()},
                        {"ledger_vkey", r->ledger_vkey},
                        {"actor", o.first.actor},
                        {"actor_key_file", r->actor_key_file.string()},
                        {"actor_key_created", r->actor_key_created},
                        {"actor_kid", r->actor_kid},
                        {"checkpoint", r->checkpoint.note}});
        return k_exit_ok;
      }
      out(fmt::format("Created vault {} (origin {})\n", r->dir.string(), r->origin));
      out(fmt::format("  ledger database  {}\n", r->db.string()));
      out(fmt::format("  ledger key       {} (signs checkpoints)\n", r->ledger_key_file.string()));
      out(fmt::format("  verifier key     {}\n", r->ledger_vkey));
      out(fmt::format("  {}'s key{}{} ({}, kid {})\n", o.first.actor,
                      std::string(o.first.actor.size() < 9 ? 9 - o.first.actor.size() : 1, ' '),
                      r->actor_key_file.string(), r->actor_key_created ? "new" : "existing",
                      r->actor_kid.substr(0, 16)));
      out("Keep the verifier key and each checkpoint outside the vault "
          "(custody checkpoint --out FILE).\n");
      return k_exit_ok;
    };
  });
}

// ---------------------------------------------------------------------------
// key

void print_key(const Json& k) {
  out(fmt::format("{}  {:<16} {}  registered {} by {}{}\n", safe(k.at("kid")).substr(0, 16),
                  safe(k.at("actor")), k.at("revoked").get<bool>() ? "REVOKED" : "active ",
                  safe(k.at("registered_at")), safe(k.at("registered_by")),
                  k.at("revoked").get<bool>()
                    ? fmt::format(" (revoked {} by {}: {})", safe(k.at("revoked_at")),
                                  safe(k.at("revoked_by")), safe(k.at("revoke_reason")))
                    : ""));
}

void setup_key(CLI::App& app, Context& ctx) {
  auto* key = app.add_subcommand("key", "Manage per-person Ed25519 keys");
  key->require_subcommand(1);

  struct NewArgs {
    std::string subject, file, by, by_key, public_key, comment;
  };
  auto a = std::make_shared<NewArgs>();
  auto* knew = key->add_subcommand("new", "Create (or register) a person's key; signed by a "
                                          "registered actor");
  add_vault_option(knew, ctx.opt);
  add_json_option(knew, ctx.opt);
  knew->add_option("--actor", a->subject, "The person the new key belongs to")->required();
  knew->add_option("--key", a->file, "Where to write the new private key "
                                     "(default ~/.config/custody/keys/NAME.pem)");
  knew->add_option("--public-key", a->public_key,
                   "Register this public key (PEM) instead of generating a key pair");
  knew->add_option("--by", a->by, "The registered actor who registers the key")
    ->option_text("NAME [$CUSTODY_ACTOR]");
  knew->add_option("--by-key", a->by_key, "That actor's private key file")
    ->option_text("FILE [$CUSTODY_KEY]");
  knew->add_option("--passphrase-file", ctx.opt.passphrase_file,
                   "Passphrase of the registering actor's key, if encrypted")
    ->option_text("FILE [$CUSTODY_PASSPHRASE_FILE]");
  auto new_pass = std::make_shared<std::string>();
  knew->add_option("--new-passphrase-file", *new_pass,
                   "Encrypt the new private key with the passphrase in this file");
  knew->add_option("--comment", a->comment, "Free text stored with the key (role, contact)");
  knew->callback([&ctx, a, new_pass] {
    ctx.run = [&ctx, a, new_pass]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto by = identity(a->by, a->by_key, ctx.opt.passphrase_file);
      if (!by) {
        return error(Error{by.error().code, by.error().message + " (the registering actor: "
                                                                 "--by NAME or CUSTODY_ACTOR)"});
      }
      auto s = vault::load_signer(*by);
      if (!s) {
        return error(s.error());
      }
      vault::KeyNewOptions o;
      o.subject = a->subject;
      o.key_file = a->file.empty() ? vault::default_key_path(a->subject) : std::filesystem::path(a->file);
      o.comment = a->comment;
      if (!a->public_key.empty()) {
        auto pem = read_small_file(a->public_key, 64 * 1024);
        if (!pem) {
          return error(pem.error());
        }
        o.public_key_pem = std::move(*pem);
      }
      auto np = passphrase(*new_pass);
      if (!np) {
        return error(np.error());
      }
      o.passphrase = std::move(*np);
      auto r = v->key_new(*s, o);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(Json{{"actor", a->subject},
                        {"kid", r->kid},
                        {"key_file", r->key_file ? Json(r->key_file->string()) : Json(nullptr)},
                        {"seq", r->entry.entry.seq}});
      } else {
        out(fmt::format("Registered key {} for {} (entry {}, signed by {})\n",
                        r->kid.substr(0, 16), a->subject, r->entry.entry.seq, s->actor));
        if (r->key_file) {
          out(fmt::format("  private key written to {} (mode 0600)\n", r->key_file->string()));
        }
      }
      return finish_change(*v);
    };
  });

  auto* klist = key->add_subcommand("list", "List the keys registered in the ledger");
  add_vault_option(klist, ctx.opt);
  add_json_option(klist, ctx.opt);
  klist->callback([&ctx] {
    ctx.run = [&ctx]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto keys = v->keys();
      if (!keys) {
        return error(keys.error());
      }
      if (ctx.opt.json) {
        print_json(Json{{"ledger_key", v->ledger_vkey()}, {"keys", *keys}});
        return k_exit_ok;
      }
      out(fmt::format("ledger key: {}\n", v->ledger_vkey()));
      for (const Json& k : *keys) {
        print_key(k);
      }
      return k_exit_ok;
    };
  });

  struct RevokeArgs {
    std::string subject, kid, reason;
  };
  auto r = std::make_shared<RevokeArgs>();
  auto* krev = key->add_subcommand("revoke", "Revoke a person's keys: entries signed with them "
                                             "later are invalid");
  add_vault_option(krev, ctx.opt);
  add_identity_options(krev, ctx.opt);
  add_json_option(krev, ctx.opt);
  krev->add_option("name", r->subject, "Whose keys to revoke")->required();
  krev->add_option("--kid", r->kid, "Only the key whose id starts with this prefix");
  krev->add_option("--reason", r->reason, "Why (e.g. 'laptop lost', 'left the team')");
  krev->callback([&ctx, r] {
    ctx.run = [&ctx, r]() -> int {
      auto acting = open_acting(ctx.opt);
      if (!acting) {
        return error(acting.error());
      }
      vault::Vault* v = &acting->vault;
      const vault::Signer* s = &acting->signer;
      auto done = v->key_revoke(*s, r->subject, r->kid, r->reason);
      if (!done) {
        return error(done.error());
      }
      Json revoked = Json::array();
      for (const auto& ap : *done) {
        revoked.push_back(Json{{"kid", ap.entry.fields.at("kid")}, {"seq", ap.entry.seq}});
        if (!ctx.opt.json) {
          out(fmt::format("Revoked key {} of {} (entry {})\n",
                          ap.entry.fields.at("kid").get<std::string>().substr(0, 16), r->subject,
                          ap.entry.seq));
        }
      }
      if (ctx.opt.json) {
        print_json(Json{{"actor", r->subject}, {"revoked", revoked}});
      }
      return finish_change(*v);
    };
  });
}

// ---------------------------------------------------------------------------
// incident

void print_incident(const Json& inc) {
  auto when = [](const Json& v) { return v.is_null() ? std::string("-") : safe(v); };
  auto list = [](const Json& arr) {
    std::string s;
    for (const auto& e : arr) {
      s += (s.empty() ? "" : ", ") + safe(e);
    }
    return s.empty() ? std::string("-") : s;
  };
  out(fmt::format("{}  [{}] {}\n", safe(inc.at("id")), safe(inc.at("severity")),
                  safe(inc.at("title"))));
  out(fmt::format("  status             {}\n", safe(inc.at("status"))));
  out(fmt::format("  detected at        {}\n", when(inc.at("detected_at"))));
  out(fmt::format("  contained at       {}\n", when(inc.at("contained_at"))));
  out(fmt::format("  resolved at        {}\n", when(inc.at("resolved_at"))));
  out(fmt::format("  closed at          {}\n", when(inc.at("closed_at"))));
  out(fmt::format("  affected systems   {}\n", list(inc.at("affected_systems"))));
  out(fmt::format("  affected customers {}\n", list(inc.at("affected_customers"))));
  out(fmt::format("  root cause         {}\n", safe(inc.at("root_cause"))));
  out(fmt::format("  playbook           {}\n", safe(inc.at("playbook"))));
  out(fmt::format("  reporter           {}\n", safe(inc.at("reporter"))));
  out(fmt::format("  commander          {}\n", safe(inc.at("commander"))));
  out(fmt::format("  evidence items     {}\n", inc.at("evidence_count").get<int64_t>()));
  out(fmt::format("  opened             {} by {} (entry {})\n", safe(inc.at("opened_at")),
                  safe(inc.at("opened_by")), inc.at("opened_seq").get<int64_t>()));
  for (const auto& h : inc.at("history")) {
    out(fmt::format("  {} -> {:<9} at {} by {} (entry {}){}\n", safe(h.at("from")),
                    safe(h.at("to")), safe(h.at("at")), safe(h.at("actor")),
                    h.at("seq").get<int64_t>(),
                    h.at("note").get<std::string>().empty() ? "" : ": " + safe(h.at("note"))));
  }
}

void setup_incident(CLI::App& app, Context& ctx) {
  auto* inc = app.add_subcommand("incident", "Open, advance and inspect incidents");
  inc->require_subcommand(1);

  struct OpenArgs {
    std::string severity, title, detected, playbook, reporter, commander, description, root_cause;
    std::vector<std::string> systems, customers;
  };
  auto a = std::make_shared<OpenArgs>();
  auto* open = inc->add_subcommand("open", "Open an incident (id INC-YYYY-MM-DD-N, per UTC day)");
  add_vault_option(open, ctx.opt);
  add_identity_options(open, ctx.opt);
  add_json_option(open, ctx.opt);
  open->add_option("--severity", a->severity, "P0 (critical) .. P3 (low)")
    ->required()
    ->check(CLI::IsMember({"P0", "P1", "P2", "P3"}));
  open->add_option("--title", a->title, "One line describing the incident")->required();
  open->add_option("--detected-at", a->detected, "When it was detected, UTC (default now)");
  open->add_option("--system", a->systems,
                   "Affected system: vercel, appwrite, hetzner, stripe or cloudflare, optionally "
                   "with a resource (hetzner:server/42); repeatable");
  open->add_option("--customer", a->customers, "Affected customer; repeatable");
  open->add_option("--playbook", a->playbook, "Playbook followed");
  open->add_option("--reporter", a->reporter, "Who reported it (default the actor)");
  open->add_option("--commander", a->commander, "Incident commander (default the actor)");
  open->add_option("--description", a->description, "What is known");
  open->add_option("--root-cause", a->root_cause, "Root cause, if already known");
  open->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto acting = open_acting(ctx.opt);
      if (!acting) {
        return error(acting.error());
      }
      vault::Vault* v = &acting->vault;
      const vault::Signer* s = &acting->signer;
      auto detected = parse_time_option(a->detected, "--detected-at");
      if (!detected) {
        return error(detected.error());
      }
      vault::IncidentOpenOptions o{a->severity, a->title,    *detected,   a->systems,
                                   a->customers, a->playbook, a->reporter, a->commander,
                                   a->description, a->root_cause};
      auto r = v->incident_open(*s, o);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(*r);
      } else {
        out(fmt::format("{}\n", safe(r->at("id"))));
      }
      return finish_change(*v);
    };
  });

  struct StatusArgs {
    std::string id, to, at, note, root_cause;
  };
  auto st = std::make_shared<StatusArgs>();
  auto status_run = [&ctx, st]() -> int {
    auto acting = open_acting(ctx.opt);
    if (!acting) {
      return error(acting.error());
    }
    vault::Vault* v = &acting->vault;
    const vault::Signer* s = &acting->signer;
    auto at = parse_time_option(st->at, "--at");
    if (!at) {
      return error(at.error());
    }
    if (!st->root_cause.empty()) {
      auto u = v->incident_update(*s, st->id, Json{{"root_cause", st->root_cause}},
                                  "root cause recorded with the status change");
      if (!u) {
        return error(u.error());
      }
    }
    auto r = v->incident_status(*s, st->id, st->to, *at, st->note);
    if (!r) {
      return error(r.error());
    }
    if (ctx.opt.json) {
      print_json(*r);
    } else {
      out(fmt::format("{} is now {}\n", safe(r->at("id")), safe(r->at("status"))));
    }
    return finish_change(*v);
  };
  auto* status = inc->add_subcommand("status", "Move an incident: open -> contained -> resolved -> "
                                               "closed (or back to open)");
  add_vault_option(status, ctx.opt);
  add_identity_options(status, ctx.opt);
  add_json_option(status, ctx.opt);
  status->add_option("incident", st->id, "Incident id")->required();
  status->add_option("--to", st->to, "New status")
    ->required()
    ->check(CLI::IsMember({"open", "contained", "resolved", "closed"}));
  status->add_option("--at", st->at, "When it happened, UTC (default now)");
  status->add_option("--note", st->note, "Why / what was done");
  status->add_option("--root-cause", st->root_cause, "Record the root cause at the same time");
  status->callback([&ctx, status_run] { ctx.run = status_run; });

  auto* reopen = inc->add_subcommand("reopen", "Reopen an incident (status back to open)");
  add_vault_option(reopen, ctx.opt);
  add_identity_options(reopen, ctx.opt);
  add_json_option(reopen, ctx.opt);
  reopen->add_option("incident", st->id, "Incident id")->required();
  reopen->add_option("--note", st->note, "Why it is reopened");
  reopen->callback([&ctx, st, status_run] {
    st->to = "open";
    ctx.run = status_run;
  });

  struct UpdateArgs {
    std::string id, reason, severity, title, reporter, commander, playbook, description, root_cause;
    std::vector<std::string> systems, customers;
  };
  auto u = std::make_shared<UpdateArgs>();
  auto* update = inc->add_subcommand("update", "Change descriptive fields of the incident record");
  add_vault_option(update, ctx.opt);
  add_identity_options(update, ctx.opt);
  add_json_option(update, ctx.opt);
  update->add_option("incident", u->id, "Incident id")->required();
  update->add_option("--reason", u->reason, "Why the record changes");
  auto* o_sev = update->add_option("--severity", u->severity, "P0..P3")
                  ->check(CLI::IsMember({"P0", "P1", "P2", "P3"}));
  auto* o_title = update->add_option("--title", u->title, "Title");
  auto* o_rep = update->add_option("--reporter", u->reporter, "Reporter");
  auto* o_cmd = update->add_option("--commander", u->commander, "Incident commander");
  auto* o_pb = update->add_option("--playbook", u->playbook, "Playbook");
  auto* o_desc = update->add_option("--description", u->description, "Description");
  auto* o_rc = update->add_option("--root-cause", u->root_cause, "Root cause");
  auto* o_sys = update->add_option("--system", u->systems, "Affected systems (replaces the list)");
  auto* o_cus = update->add_option("--customer", u->customers,
                                   "Affected customers (replaces the list)");
  update->callback([&ctx, u, o_sev, o_title, o_rep, o_cmd, o_pb, o_desc, o_rc, o_sys, o_cus] {
    Json set = Json::object();
    // Only the options given on the command line change the record.
    auto pick = [&set](const CLI::Option* o, const char* field, const Json& value) {
      if (o->count() > 0) {
        set[field] = value;
      }
    };
    pick(o_sev, "severity", u->severity);
    pick(o_title, "title", u->title);
    pick(o_rep, "reporter", u->reporter);
    pick(o_cmd, "commander", u->commander);
    pick(o_pb, "playbook", u->playbook);
    pick(o_desc, "description", u->description);
    pick(o_rc, "root_cause", u->root_cause);
    pick(o_sys, "affected_systems", u->systems);
    pick(o_cus, "affected_customers", u->customers);
    ctx.run = [&ctx, u, set]() -> int {
      if (set.empty()) {
        return error("nothing to update: give at least one field option");
      }
      auto acting = open_acting(ctx.opt);
      if (!acting) {
        return error(acting.error());
      }
      vault::Vault* v = &acting->vault;
      const vault::Signer* s = &acting->signer;
      auto r = v->incident_update(*s, u->id, set, u->reason);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(*r);
      } else {
        out(fmt::format("{} updated\n", safe(r->at("id"))));
      }
      return finish_change(*v);
    };
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = inc->add_subcommand("show", "Show the incident record");
  add_vault_option(show, ctx.opt);
  add_json_option(show, ctx.opt);
  show->add_option("incident", *show_id, "Incident id")->required();
  show->callback([&ctx, show_id] {
    ctx.run = [&ctx, show_id]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto r = v->incident(*show_id);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(*r);
      } else {
        print_incident(*r);
      }
      return k_exit_ok;
    };
  });

  auto list_status = std::make_shared<std::string>();
  auto* list = inc->add_subcommand("list", "List incidents");
  add_vault_option(list, ctx.opt);
  add_json_option(list, ctx.opt);
  list->add_option("--status", *list_status, "Only incidents with this status")
    ->check(CLI::IsMember({"open", "contained", "resolved", "closed"}));
  list->callback([&ctx, list_status] {
    ctx.run = [&ctx, list_status]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto all = v->incidents();
      if (!all) {
        return error(all.error());
      }
      Json shown = Json::array();
      for (const Json& i : *all) {
        if (list_status->empty() || i.at("status") == *list_status) {
          shown.push_back(i);
        }
      }
      if (ctx.opt.json) {
        print_json(shown);
        return k_exit_ok;
      }
      for (const Json& i : shown) {
        out(fmt::format("{:<20} {:<3} {:<10} {:>3} items  {}\n", safe(i.at("id")),
                        safe(i.at("severity")), safe(i.at("status")),
                        i.at("evidence_count").get<int64_t>(), safe(i.at("title"))));
      }
      return k_exit_ok;
    };
  });
}

// ---------------------------------------------------------------------------
// add, export, log, checkpoint

void setup_add(CLI::App& app, Context& ctx) {
  struct Args {
    std::string file, incident, source, notes, kind = "log_export", collected_at;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("add", "Take a file (an exported log, any file) into custody");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  sub->add_option("file", a->file, "The file to ingest (it is copied, never modified)")->required();
  sub->add_option("--incident", a->incident, "Incident id")->required();
  sub->add_option("--source", a->source,
                  "Where it came from: vercel, appwrite, cloudflare, hetzner, stripe, a host name")
    ->required();
  sub->add_option("--notes", a->notes, "Notes for the custody log");
  sub->add_option("--kind", a->kind, "What it is")
    ->check(CLI::IsMember({"log_export", "file", "api_export", "bundle"}));
  sub->add_option("--collected-at", a->collected_at,
                  "When it was acquired, UTC, if before now (e.g. when the export was made)");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto acting = open_acting(ctx.opt);
      if (!acting) {
        return error(acting.error());
      }
      vault::Vault* v = &acting->vault;
      const vault::Signer* s = &acting->signer;
      auto collected = parse_time_option(a->collected_at, "--collected-at");
      if (!collected) {
        return error(collected.error());
      }
      vault::AddOptions o{a->file, a->incident, a->source, a->notes, a->kind, *collected};
      auto r = v->add(*s, o);
      if (!r) {
        return error(r.error());
      }
      if (ctx.opt.json) {
        print_json(*r);
      } else {
        out(fmt::format("{}  sha256 {}  {} bytes\n", safe(r->at("id")), safe(r->at("sha256")),
                        r->at("size").get<int64_t>()));
      }
      return finish_change(*v);
    };
  });
}

void setup_export(CLI::App& app, Context& ctx) {
  struct Args {
    std::string item, to, purpose;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("export", "Give an analyst a verified copy of an item (the access "
                                           "is recorded before any byte is released)");
  add_vault_option(sub, ctx.opt);
  add_identity_options(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  sub->add_option("item", a->item, "Evidence item id (INC-...-E<n>)")->required();
  sub->add_option("--to", a->to, "Destination directory")->required();
  sub->add_option("--purpose", a->purpose, "Why the copy is taken")->required();
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto acting = open_acting(ctx.opt);
      if (!acting) {
        return error(acting.error());
      }
      vault::Vault* v = &acting->vault;
      const vault::Signer* s = &acting->signer;
      auto r = v->export_item(*s, vault::ExportOptions{a->item, a->to, a->purpose});
      if (!r) {
        const int rc = error(r.error());
        (void)finish_change(*v); // the access and its failure are recorded: sign them
        return rc;
      }
      if (ctx.opt.json) {
        print_json(Json{{"item", a->item},
                        {"file", r->file.string()},
                        {"sha256", r->sha256},
                        {"size", r->size},
                        {"access_seq", r->access_seq},
                        {"result_seq", r->result_seq},
                        {"verified", true}});
      } else {
        out(fmt::format("{}  sha256 {} (verified after writing)\n", r->file.string(), r->sha256));
      }
      return finish_change(*v);
    };
  });
}

void setup_log(CLI::App& app, Context& ctx) {
  struct Args {
    std::string incident, format = "md";
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("log", "The chain-of-custody log of an incident (the runbook's "
                                        "table and the access history)");
  add_vault_option(sub, ctx.opt);
  sub->add_option("--incident", a->incident, "Incident id")->required();
  sub->add_option("--format", a->format, "md, csv or json")
    ->check(CLI::IsMember({"md", "markdown", "csv", "json"}));
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto fmt_ = vault::parse_log_format(a->format);
      auto inc = v->incident(a->incident);
      if (!inc) {
        return error(inc.error());
      }
      auto items = v->items(a->incident);
      auto accesses = v->accesses(a->incident);
      if (!items || !accesses || !fmt_) {
        return error(!items ? items.error() : !accesses ? accesses.error() : fmt_.error());
      }
      out(vault::render_custody_log(*inc, *items, *accesses, *fmt_));
      return k_exit_ok;
    };
  });
}

void setup_checkpoint(CLI::App& app, Context& ctx) {
  auto out_file = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("checkpoint", "Print the current signed checkpoint (C2SP "
                                               "tlog-checkpoint); keep copies outside the vault");
  add_vault_option(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  sub->add_option("--out", *out_file, "Also write the checkpoint note to this file");
  sub->callback([&ctx, out_file] {
    ctx.run = [&ctx, out_file]() -> int {
      auto v = open_vault(ctx.opt);
      if (!v) {
        return error(v.error());
      }
      auto cp = v->checkpoint();
      if (!cp) {
        return error(cp.error());
      }
      if (!out_file->empty()) {
        if (auto w = write_file_atomic(*out_file, cp->note, 0644); !w) {
          return error(w.error());
        }
      }
      if (ctx.opt.json) {
        print_json(Json{{"origin", cp->checkpoint.origin},
                        {"size", cp->checkpoint.size},
                        {"root", to_base64(cp->checkpoint.root)},
                        {"signed_at", format_rfc3339_ms(cp->t_ms)},
                        {"note", cp->note},
                        {"vkey", v->ledger_vkey()}});
      } else {
        out(cp->note);
      }
      return k_exit_ok;
    };
  });
}

} // namespace

void setup_vault_commands(CLI::App& app, Context& ctx) {
  setup_init(app, ctx);
  setup_key(app, ctx);
  setup_incident(app, ctx);
  setup_add(app, ctx);
  setup_export(app, ctx);
  setup_log(app, ctx);
  setup_checkpoint(app, ctx);
}

} // namespace custody::cli
