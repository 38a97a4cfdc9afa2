// The offline verifier: proves, without trusting anything stored in a vault,
// that every ledger entry is genuine, in place and complete, that every
// checkpoint is honest, that the projection tables say what the ledger says,
// and that every evidence object still has the bytes its entry recorded.
//
// Trust. The verifier trusts only its inputs from outside the vault: the
// trusted-keys file (origin, ledger key, actor keys) and the checkpoint notes
// the auditor kept (tickets, mails, another host). Whatever is pinned there,
// nothing in the vault overrides (immudb CVE-2022-39199). Whatever is not
// pinned is taken from the genesis entry on first use and reported as such.
// vault.json is only cross-checked against the genesis entry, never believed.
//
// Read-only. The database is opened SQLITE_OPEN_READONLY and never written:
// in place with `immutable=1` when it has no write-ahead log, else from a
// private snapshot copy of ledger.db and ledger.db-wal (a reader of a WAL
// database writes to the -shm file, which would change the vault). No file in
// the vault is created, modified or renamed; the algorithm is specified in
// schemas/FORMAT.md §10.
//
// This library never links vault/ (the writer): it re-implements what it
// needs (the object path, the database checks) so that it stays an
// independent check of the writer.
//
// Thread-safety: verify_vault() uses worker threads internally and may be
// called from several threads at once for different reports.
#pragma once

#include "common/digest.hpp"
#include "common/note.hpp"
#include "common/result.hpp"
#include "verify/entry.hpp"
#include "verify/report.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custody::verify {

// An actor key pinned by the auditor: `kid` (lowercase hex SHA-256 of the raw
// Ed25519 key) belongs to `actor`.
struct TrustedActor {
  std::string actor;
  std::string kid;
};

// The auditor's pinned trust inputs (schemas/FORMAT.md §10.2). Empty members
// are not pinned.
struct TrustedKeys {
  std::optional<std::string> origin;
  std::optional<std::string>
      ledger_vkey; // C2SP verifier key "<origin>+<hash>+<key>"
  std::vector<TrustedActor> actors;
};

// Parses the trusted-keys file format:
//   # comment
//   origin <origin>
//   ledger <C2SP verifier key>
//   actor <name> <kid: 64 hex digits | base64 of the raw 32-byte key>
// Fails (Errc::invalid_input, naming the line) on anything else.
Result<TrustedKeys> parse_trusted_keys(std::string_view text);
// Reads and parses the trusted-keys file `path`.
Result<TrustedKeys> load_trusted_keys(const std::filesystem::path& path);
// Returns a trusted-keys file pinning `origin`, `ledger_vkey` and `actors`.
std::string format_trusted_keys(const TrustedKeys& keys);

enum class Rehash { yes, no };

enum class Phase { checkpoints, entries, projections, objects };
// Returns "checkpoints", "entries", "projections" or "objects".
const char* phase_name(Phase phase);

struct Progress {
  Phase phase = Phase::entries;
  uint64_t done = 0;
  uint64_t total = 0; // entries, or bytes for the objects phase
};

struct VerifyOptions {
  std::filesystem::path vault;
  std::vector<std::filesystem::path>
      checkpoint_files; // copies kept outside the vault
  TrustedKeys trusted;
  Rehash rehash = Rehash::yes;
  std::string
      incident; // "" = every item; else only this incident's items and objects
  unsigned threads = 0; // 0 = one per core
  // Called from the verifying thread now and then (at most every ~100 ms).
  std::function<void(const Progress&)> progress;
  // The caller exits soon after verify_vault() returns (the CLI): the state
  // rebuilt from the ledger is then left for the OS to reclaim at exit rather
  // than freed node by node (about a million JSON nodes for 100,000 entries:
  // a single-threaded tail of ~0.3 s). It stays reachable, so leak checkers
  // do not report it. Leave false in a process that verifies many vaults.
  bool exiting = false;
  // Access documents the fold keeps as JSON trees (the most recently used);
  // the others are kept as their canonical encoding until used again
  // (FORMAT.md §10.4). Memory only: findings do not depend on it. At least 16.
  size_t hot_docs = 8192;
};

struct CheckpointResult {
  std::string source; // "stored" or the file name
  std::optional<uint64_t> size;
  std::string root_b64;
  bool ok =
      false; // signed by the trusted ledger key and consistent with the ledger
};

struct VerifySummary {
  std::string vault;
  std::string origin;      // the origin entries were checked against
  std::string ledger_vkey; // the key checkpoints were checked with ("" if none)
  bool origin_pinned = false;
  bool ledger_key_pinned = false;
  size_t actors_pinned = 0;
  std::string db_access; // how the database was opened (FORMAT.md §10.3)
  uint64_t entries = 0;  // rows read = tree size
  Hash256 root{};        // RFC 6962 root of all entries read
  uint64_t stored_checkpoints = 0;
  uint64_t latest_stored_checkpoint = 0;
  std::vector<CheckpointResult> external;
  uint64_t items = 0;   // items in scope
  uint64_t objects = 0; // distinct objects checked
  uint64_t bytes_hashed = 0;
  bool rehashed = false;
  std::string scope; // incident, or "" for all
  unsigned threads = 1;
  double seconds_entries = 0;
  double seconds_objects = 0;
  double seconds_total = 0;
};

// Verifies the vault `options.vault`, adding every finding to `report`.
// Returns an Error only when verification could not run (no vault, no or
// unreadable database, not a custody database, unreadable checkpoint file, an
// unknown --incident, the database changing underneath): exit code 2.
Result<VerifySummary> verify_vault(const VerifyOptions& options,
                                   Report& report);

// Returns the path of object `sha256_hex` in `vault`: objects/sha256/<2
// hex>/<62 hex>.
std::filesystem::path object_path(const std::filesystem::path& vault,
                                  std::string_view sha256_hex);

// Returns the machine-readable report (schemas/verify-report.schema.json).
Json report_json(const VerifySummary& summary, const Report& report);
// Returns the one-line human summary ("verify: OK: ..." / "verify: FAILED:
// ...").
std::string summary_line(const VerifySummary& summary, const Report& report);

} // namespace custody::verify
