// `custody verify`: the offline auditor's check (verify/verifier.hpp).
//
// Read-only unless --record is given: then, after verifying, the run is
// appended as a `verify` entry signed by the auditor (through the vault
// library, the only place this command writes) and a checkpoint is signed.
// Exit codes: 0 clean (warnings allowed), 1 any finding, 2 could not run.
#include "common/text.hpp"
#include "common/version.hpp"
#include "verify/verifier.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>

#include "cli/context.hpp"

namespace custody::cli {

namespace {

struct VerifyArgs {
  std::vector<std::string> checkpoints;
  std::string trusted_keys;
  std::string origin;
  bool rehash = true;
  std::string incident;
  unsigned threads = 0;
  bool record = false;
  size_t max_per_code = 100;
};

// Renders progress on stderr when it is a terminal: one line, rewritten.
class ProgressLine {
public:
  explicit ProgressLine(bool enabled)
      : m_enabled(enabled) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() {
    clear();
  }
  void show(const verify::Progress& p) {
    if (!m_enabled || p.total == 0) {
      return;
    }
    const double pct =
        100.0 * static_cast<double>(p.done) / static_cast<double>(p.total);
    std::string text;
    if (p.phase == verify::Phase::objects) {
      text =
          fmt::format("verify: re-hashing objects {:.0f}/{:.0f} MiB ({:.0f}%)",
                      static_cast<double>(p.done) / 1048576.0,
                      static_cast<double>(p.total) / 1048576.0,
                      pct);
    } else {
      text = fmt::format("verify: {} {}/{} ({:.0f}%)",
                         verify::phase_name(p.phase),
                         p.done,
                         p.total,
                         pct);
    }
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
    m_shown = true;
  }
  void clear() {
    if (m_shown) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
      m_shown = false;
    }
  }

private:
  bool m_enabled;
  bool m_shown = false;
};

// Appends the run as a `verify` entry signed by the auditor, then signs a
// checkpoint. Returns the exit code of that part.
int record_run(Context& ctx,
               const VerifyArgs& a,
               const verify::VerifySummary& s,
               const verify::Report& report) {
  auto v = open_vault(ctx.opt);
  if (!v) {
    return error(Error{v.error().code, "--record: " + v.error().message});
  }
  auto who = signer(ctx.opt);
  if (!who) {
    return error(Error{who.error().code, "--record: " + who.error().message});
  }
  Json external = Json::array();
  for (const auto& x : s.external) {
    if (x.ok && x.size) {
      external.push_back(*x.size);
    }
  }
  const Json fields{
      {"ledger_size", s.entries},
      {"root", to_hex(s.root)},
      {"findings", report.count(verify::Severity::finding)},
      {"warnings", report.count(verify::Severity::warning)},
      {"first_bad_seq",
       report.first_bad_seq() ? Json(*report.first_bad_seq()) : Json(nullptr)},
      {"summary", verify::summary_line(s, report).substr(0, 2000)},
      {"rehash", s.rehashed},
      {"stored_checkpoints", s.stored_checkpoints},
      {"latest_checkpoint", s.latest_stored_checkpoint},
      {"external_checkpoints", external},
      {"objects", s.objects},
      {"bytes_hashed", s.bytes_hashed},
      {"trust",
       s.origin_pinned && s.ledger_key_pinned ? "pinned" : "first-use"},
      {"tool", k_tool_name},
      {"tool_version", k_tool_version}};
  auto appended =
      v->ledger().append(*who, vault::Draft{"verify", a.incident, fields});
  if (!appended) {
    return error(Error{appended.error().code,
                       "--record: the verification could not be recorded: "
                           + appended.error().message});
  }
  if (!ctx.opt.json) {
    out(fmt::format("recorded as entry {} (verify, signed by {})\n",
                    appended->entry.seq,
                    who->actor));
  }
  return finish_change(*v);
}

int run_verify(Context& ctx, const VerifyArgs& a) {
  auto dir = vault_dir(ctx.opt);
  if (!dir) {
    return error(dir.error());
  }
  verify::VerifyOptions o;
  o.vault = *dir;
  for (const auto& c : a.checkpoints) {
    o.checkpoint_files.emplace_back(c);
  }
  if (!a.trusted_keys.empty()) {
    auto keys = verify::load_trusted_keys(a.trusted_keys);
    if (!keys) {
      return error(keys.error());
    }
    o.trusted = std::move(*keys);
  }
  if (!a.origin.empty()) {
    if (o.trusted.origin && *o.trusted.origin != a.origin) {
      return error(
          fmt::format("--origin {} contradicts the trusted keys' origin {}",
                      a.origin,
                      *o.trusted.origin));
    }
    o.trusted.origin = a.origin;
  }
  if (a.record) {
    // Resolve the auditor's identity before the (possibly long) run.
    auto who = identity(ctx.opt.actor, ctx.opt.key, ctx.opt.passphrase_file);
    if (!who) {
      return error(Error{who.error().code, "--record: " + who.error().message});
    }
  }
  o.rehash = a.rehash ? verify::Rehash::yes : verify::Rehash::no;
  o.incident = a.incident;
  o.threads = a.threads;
  ProgressLine line(::isatty(STDERR_FILENO) == 1 && !ctx.opt.quiet);
  o.progress = [&line](const verify::Progress& p) { line.show(p); };
  o.exiting = true; // this process ends after printing the report

  verify::Report report(a.max_per_code == 0 ? SIZE_MAX : a.max_per_code);
  auto summary = verify::verify_vault(o, report);
  line.clear();
  if (!summary) {
    // Could not run; what was found before that still goes out, for the record.
    for (const auto& f : report.findings()) {
      out(escape_for_terminal(f.line()) + "\n");
    }
    return error(summary.error());
  }
  const bool clean = report.clean();
  if (ctx.opt.json) {
    print_json(verify::report_json(*summary, report));
  } else {
    for (const auto& f : report.findings()) {
      out(escape_for_terminal(f.line()) + "\n");
    }
    for (const auto& [c, n] : report.suppressed()) {
      out(fmt::format("... and {} more '{}' findings not listed\n", n, c));
    }
    out(fmt::format(
        "trust: origin {} ({}), ledger key {} ({}){}\n",
        escape_for_terminal(summary->origin),
        summary->origin_pinned ? "pinned" : "first use",
        summary->ledger_vkey.empty()
            ? "-"
            : escape_for_terminal(summary->ledger_vkey),
        summary->ledger_key_pinned ? "pinned" : "first use",
        summary->actors_pinned == 0
            ? std::string()
            : fmt::format(", {} actor keys pinned", summary->actors_pinned)));
    if (!summary->scope.empty()) {
      out(
          fmt::format("scope: objects and items of {} only; the whole ledger "
                      "chain was verified\n",
                      summary->scope));
    }
    out(escape_for_terminal(verify::summary_line(*summary, report)) + "\n");
  }
  std::fflush(stdout);
  int rc = clean ? k_exit_ok : k_exit_finding;
  if (a.record) {
    const int recorded = record_run(ctx, a, *summary, report);
    if (recorded != k_exit_ok && rc == k_exit_ok) {
      rc = recorded;
    }
  }
  return rc;
}

} // namespace

void setup_verify_commands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<VerifyArgs>();
  auto* sub = app.add_subcommand("verify",
                                 "Verify a vault offline, trusting nothing "
                                 "stored in it (read-only unless --record)");
  add_vault_option(sub, ctx.opt);
  add_json_option(sub, ctx.opt);
  sub->add_option(
         "--checkpoint",
         a->checkpoints,
         "A checkpoint note kept outside the vault (custody checkpoint --out); "
         "repeatable. Detects a truncated or rewritten ledger")
      ->option_text("FILE ...");
  sub->add_option("--trusted-keys",
                  a->trusted_keys,
                  "Pinned origin, ledger key and actor keys (FORMAT.md §10.2); "
                  "nothing in the vault "
                  "overrides them")
      ->option_text("FILE");
  sub->add_option("--origin",
                  a->origin,
                  "Pin the vault's origin (same as 'origin' in --trusted-keys)")
      ->option_text("ORIGIN");
  sub->add_flag(
      "--rehash,!--no-rehash",
      a->rehash,
      "Re-hash every object (default), or only check presence and size");
  sub->add_option("--incident",
                  a->incident,
                  "Check only this incident's items and objects (the whole "
                  "ledger chain is still "
                  "verified)")
      ->option_text("INC");
  sub->add_option(
         "--threads", a->threads, "Worker threads (default: one per core)")
      ->option_text("N");
  sub->add_option(
         "--max-per-code",
         a->max_per_code,
         "List at most this many findings of one kind (0 = all; default 100)")
      ->option_text("N");
  sub->add_flag("--record",
                a->record,
                "Record this run as a verify entry signed by the auditor "
                "(--actor), then sign a "
                "checkpoint; without it nothing is written");
  add_identity_options(sub, ctx.opt);
  sub->footer(
      "Exit codes: 0 verified (warnings allowed), 1 at least one finding, 2 "
      "could not run.");
  sub->callback([&ctx, a] {
    ctx.run = [&ctx, a]() -> int { return run_verify(ctx, *a); };
  });
}

} // namespace custody::cli
