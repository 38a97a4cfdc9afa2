// Vaults for the adversarial verifier tests and the verify benchmark, built
// with the real writer (vault/), plus the tools an attacker with write access
// to the vault directory has: a raw SQLite connection without the defensive
// flag, the ledger key in keys/ledger.pem, and the files themselves.
//
// Test-only code: failures throw std::runtime_error (doctest reports them).
#pragma once

#include "common/ed25519.hpp"
#include "common/note.hpp"
#include "vault/ledger.hpp"
#include "verify/entry.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace custody::test {

// A small vault with every entry type and a few checkpoints:
//   0 vault_init (alice)            checkpoint 1
//   1 key_register bob
//   2 incident_open
//   3 collect E1 (a.log)
//   4 collect E2 (b.log)            checkpoint 5
//   5 access E1   6 access_result E1
//   7 incident_status open -> contained (bob)
//   8 incident_update (bob)
//   9 key_register carol  10 key_revoke carol   checkpoint 11
struct SmallVault {
  std::filesystem::path root; // test directory
  std::filesystem::path dir;  // the vault
  std::filesystem::path keys; // actors' key files
  std::string origin;
  std::string ledger_vkey;
  std::string incident;
  vault::Signer alice;
  vault::Signer bob;
  SigningKey carol;      // registered at 9, revoked at 10
  SigningKey ledger_key; // keys/ledger.pem, as an insider would read it
  std::vector<std::filesystem::path>
      checkpoint_files; // note of every checkpoint, in order
};

// Builds the SmallVault under `root` (which must not exist yet).
SmallVault make_small_vault(const std::filesystem::path& root,
                            const std::string& origin = "custody.test/small");

struct BigVaultStats {
  uint64_t entries = 0;
  uint64_t objects = 0;
  uint64_t object_bytes = 0;
  uint64_t checkpoints = 0;
};

// Builds a vault at `dir` with `entries` entries (at least 20 + `objects`)
// and `objects` distinct evidence objects of `object_size` bytes each, using
// batched appends (Ledger::append with a builder returning many drafts). The
// mix: key registrations, 10 incidents, one collect per object, status
// changes, updates, and access/access_result pairs for the rest.
BigVaultStats make_big_vault(const std::filesystem::path& dir,
                             const std::filesystem::path& keys,
                             uint64_t entries,
                             uint64_t objects,
                             uint64_t object_size);

// A raw read-write SQLite connection, as the owner of the file has (no
// defensive flag, no triggers unless you keep them).
class RawDb {
public:
  explicit RawDb(const std::filesystem::path& db);
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb();

  void exec(const std::string& sql);
  // Drops the append-only triggers.
  void drop_triggers();
  // Returns column `column` (blob or text) of `table` where `where`.
  std::string get(const std::string& table,
                  const std::string& column,
                  const std::string& where);
  // Sets column `column` of the rows where `where` to `value` (bound as a
  // blob when `blob`, else as text).
  void set(const std::string& table,
           const std::string& column,
           const std::string& where,
           const std::string& value,
           bool blob);
  // Inserts a ledger row.
  void insert_entry(uint64_t seq,
                    const std::string& bytes,
                    const std::string& kid,
                    const std::string& sig);
  int64_t count(const std::string& table);
  // Creates `path`: an SQLite database that is not a custody ledger.
  static void create_plain(const std::filesystem::path& path);

private:
  sqlite3* m_db = nullptr;
};

// An entry forged by someone holding `key`: appended after the current tip
// of `db` (seq, prev and t_ms follow the tip) and signed with `key`.
struct Forged {
  uint64_t seq = 0;
  std::string bytes;
  std::string kid;
  std::string sig;
};
Forged forge_entry(const std::filesystem::path& db,
                   const std::string& origin,
                   const std::string& actor,
                   const SigningKey& key,
                   const std::string& type,
                   const std::string& incident,
                   const verify::Json& fields);

// Appends `f` to the ledger `db` as the writer would, minus every check:
// inserts the row and, when `update_projections`, applies the entry to the
// projection tables (vault::SqlProjection), so that the vault is consistent
// except for whatever makes the entry invalid.
void insert_forged(const std::filesystem::path& db,
                   const Forged& f,
                   bool update_projections = true);

// Signs a checkpoint note (origin, size, root) with `key`.
std::string sign_checkpoint(const std::string& origin,
                            uint64_t size,
                            const Hash256& root,
                            const SigningKey& key);

// Records every file under `dir`: content hash, size, mode, mtime and ctime.
std::map<std::string, std::string>
snapshot_tree(const std::filesystem::path& dir);

// Copies directory `from` to `to` recursively, keeping modes.
void copy_tree(const std::filesystem::path& from,
               const std::filesystem::path& to);

} // namespace custody::test
