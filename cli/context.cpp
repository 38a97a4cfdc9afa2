#include "cli/context.hpp"

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "common/version.hpp"
#include "vault/report.hpp"
#include "vault/vault.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>

namespace custody::cli {

int error(const Error& e) {
  spdlog::error("{}", escape_for_terminal(e.message));
  return k_exit_error;
}

int error(std::string_view message) {
  spdlog::error("{}", escape_for_terminal(message));
  return k_exit_error;
}

void out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void print_json(const Json& j) {
  out(j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

// Human output of text that came from the ledger or the user: never let it
// drive the terminal.
std::string safe(const Json& v) {
  return escape_for_terminal(v.is_string() ? v.get<std::string>() : v.dump());
}

void add_vault_option(CLI::App* sub, Options& opt) {
  sub->add_option("--vault", opt.vault, "Vault directory")->option_text("DIR [$CUSTODY_VAULT]");
}

void add_json_option(CLI::App* sub, Options& opt) {
  sub->add_flag("--json", opt.json, "Machine-readable JSON on stdout");
}

void add_identity_options(CLI::App* sub, Options& opt) {
  sub->add_option("--actor", opt.actor, "Who is acting (a registered actor name)")
    ->option_text("NAME [$CUSTODY_ACTOR]");
  sub->add_option("--key", opt.key, "The actor's private key file")
    ->option_text("FILE [$CUSTODY_KEY, default ~/.config/custody/keys/NAME.pem]");
  sub->add_option("--passphrase-file", opt.passphrase_file,
                  "File holding the key's passphrase, if the key is encrypted (never pass a "
                  "passphrase on the command line)")
    ->option_text("FILE [$CUSTODY_PASSPHRASE_FILE]");
}

std::string option_or_env(const std::string& value, const char* env) {
  // Options shared by several subcommands are bound to one variable, so the
  // environment is consulted here rather than by CLI11 (which would let an
  // unused subcommand's default overwrite the chosen one's value).
  if (!value.empty()) {
    return value;
  }
  const char* e = std::getenv(env);
  return e != nullptr ? std::string(e) : std::string();
}

Result<std::filesystem::path> vault_dir(const Options& opt) {
  const std::string dir = option_or_env(opt.vault, "CUSTODY_VAULT");
  if (dir.empty()) {
    return fail(Errc::invalid_input, "no vault given: use --vault DIR or set CUSTODY_VAULT");
  }
  return std::filesystem::path(dir);
}

Result<std::optional<Secret>> passphrase(const std::string& file) {
  if (file.empty()) {
    return std::optional<Secret>();
  }
  CUSTODY_TRY_ASSIGN(Secret s, read_secret_file(file));
  return std::optional<Secret>(std::move(s));
}

Result<vault::Identity> identity(const std::string& actor_opt, const std::string& key_opt,
                                 const std::string& passphrase_opt) {
  const std::string actor = option_or_env(actor_opt, "CUSTODY_ACTOR");
  const std::string key = option_or_env(key_opt, "CUSTODY_KEY");
  const std::string passphrase_file = option_or_env(passphrase_opt, "CUSTODY_PASSPHRASE_FILE");
  if (actor.empty()) {
    return fail(Errc::invalid_input, "no actor given: use --actor NAME or set CUSTODY_ACTOR");
  }
  CUSTODY_TRY(vault::check_actor_name(actor));
  vault::Identity who;
  who.actor = actor;
  who.key_file = key.empty() ? vault::default_key_path(actor) : std::filesystem::path(key);
  CUSTODY_TRY_ASSIGN(who.passphrase, passphrase(passphrase_file));
  return who;
}

Result<vault::Signer> signer(const Options& opt) {
  CUSTODY_TRY_ASSIGN(const vault::Identity who, identity(opt.actor, opt.key, opt.passphrase_file));
  return vault::load_signer(who);
}

Result<vault::Vault> open_vault(const Options& opt) {
  CUSTODY_TRY_ASSIGN(const auto dir, vault_dir(opt));
  return vault::Vault::open(dir);
}

Result<Acting> open_acting(const Options& opt) {
  CUSTODY_TRY_ASSIGN(vault::Vault v, open_vault(opt));
  CUSTODY_TRY_ASSIGN(vault::Signer s, signer(opt));
  return Acting{std::move(v), std::move(s)};
}

Result<std::optional<int64_t>> parse_time_option(const std::string& value, std::string_view name) {
  if (value.empty()) {
    return std::optional<int64_t>();
  }
  auto ms = parse_rfc3339_ms(value);
  if (!ms) {
    return fail(Errc::invalid_input,
                fmt::format("{}: {} (give UTC, e.g. 2026-12-03T01:30:00Z)", name, ms.error().message));
  }
  return std::optional<int64_t>(*ms);
}

namespace {

// Signs a checkpoint after a change; a failure here is reported but the change
// itself is already durable.
int checkpoint_after(vault::Vault& v, uint64_t last_seq) {
  auto cp = v.checkpoint();
  if (!cp) {
    return error(fmt::format("entry {} was recorded, but signing a checkpoint failed: {}",
                             last_seq, cp.error().message));
  }
  spdlog::debug("checkpoint {} signed", cp->checkpoint.size);
  return k_exit_ok;
}

Result<uint64_t> last_seq(vault::Vault& v) {
  CUSTODY_TRY_ASSIGN(const uint64_t n, v.ledger().size());
  return n == 0 ? 0 : n - 1;
}

} // namespace

int finish_change(vault::Vault& v) {
  auto seq = last_seq(v);
  if (!seq) {
    return error(seq.error());
  }
  return checkpoint_after(v, *seq);
}

} // namespace custody::cli
