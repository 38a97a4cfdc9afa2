// Shared pieces of the `custody` subcommands: parsed options, the deferred
// command to run, output helpers (stdout for results, spdlog on stderr for
// errors) and the resolution of vault, actor and key from options and the
// environment. Each cmd_*.cpp file registers one area's subcommands.
#pragma once

#include "cli/commands.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"
#include "vault/vault.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace custody::cli {

using vault::Json;

// Options shared by many subcommands; each subcommand adds the ones it uses so
// that its --help lists exactly what it accepts.
struct Options {
  std::string vault;
  bool json = false;
  std::string actor;
  std::string key;
  std::string passphrase_file;
  int verbosity = 0;
  bool quiet = false;
};

struct Context {
  Options opt;
  std::function<int()> run; // set by the chosen subcommand's parse callback
};

// Logs `e` (escaped for the terminal) and returns k_exit_error.
int error(const Error& e);
int error(std::string_view message);
// Writes `text` to stdout.
void out(std::string_view text);
// Writes `j` to stdout, indented.
void print_json(const Json& j);
// Returns text from the ledger or the user escaped for a terminal.
std::string safe(const Json& v);

void add_vault_option(CLI::App* sub, Options& opt);
void add_json_option(CLI::App* sub, Options& opt);
void add_identity_options(CLI::App* sub, Options& opt);

// Returns `value`, or the environment variable `env` when `value` is empty.
std::string option_or_env(const std::string& value, const char* env);
Result<std::filesystem::path> vault_dir(const Options& opt);
Result<std::optional<Secret>> passphrase(const std::string& file);
// Resolves who acts: `actor` or $CUSTODY_ACTOR, `key` or $CUSTODY_KEY or the
// default path, `passphrase_file` or $CUSTODY_PASSPHRASE_FILE.
Result<vault::Identity> identity(const std::string& actor, const std::string& key,
                                 const std::string& passphrase_file);
Result<vault::Signer> signer(const Options& opt);
Result<vault::Vault> open_vault(const Options& opt);
// The vault and the person acting on it, for the subcommands that sign.
struct Acting {
  vault::Vault vault;
  vault::Signer signer;
};
Result<Acting> open_acting(const Options& opt);
// Parses an RFC 3339 UTC option value; empty means "not given".
Result<std::optional<int64_t>> parse_time_option(const std::string& value, std::string_view name);
// Signs a checkpoint after a change; returns the exit code.
int finish_change(vault::Vault& v);

// Registers init, key, incident, add, export, log and checkpoint.
void setup_vault_commands(CLI::App& app, Context& ctx);
// Registers snapshot, isolate, inventory and analysis-server (cmd_hcloud.cpp).
void setup_hcloud_commands(CLI::App& app, Context& ctx);
// Registers verify (cmd_verify.cpp).
void setup_verify_commands(CLI::App& app, Context& ctx);

} // namespace custody::cli
