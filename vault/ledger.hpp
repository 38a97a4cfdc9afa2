// Ledger: the writer of the custody ledger (one SQLite file per vault).
//
// Every append runs in one BEGIN IMMEDIATE transaction: read the tip, refuse
// if the clock is earlier than the last entry, build the entries (the builder
// sees the projections inside the transaction, so ids such as INC-...-N are
// assigned without races), check each against the rules (verify::apply_entry),
// sign it with the actor's key, insert it and its projection rows, commit.
// Nothing is written unless everything succeeds. Checkpoints are signed by the
// vault's ledger key in a separate transaction after the append, and only
// after the writer has checked that the ledger still matches the previous
// checkpoint (a log must never sign a checkpoint inconsistent with an earlier
// one). The format is specified in schemas/FORMAT.md.
//
// Thread-safety: one Ledger per thread. Any number of processes may append to
// the same vault at once; SQLite's write lock serializes them.
#pragma once

#include "common/ed25519.hpp"
#include "common/note.hpp"
#include "common/result.hpp"
#include "common/sqlite.hpp"
#include "verify/entry.hpp"
#include "verify/projection.hpp"

#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace custody::vault {

using verify::Json;

// The person acting, with their private key.
struct Signer {
  std::string actor;
  SigningKey key;
};

// An entry to append: its type, incident ("" for none) and type fields.
struct Draft {
  std::string type;
  std::string incident;
  Json fields;
};

struct Appended {
  verify::Entry entry;
  std::string bytes;
  Hash256 leaf{};
};

struct CheckpointInfo {
  note::Checkpoint checkpoint;
  std::string note; // the signed note, as stored and as given to the auditor
  int64_t t_ms = 0;
};

// A projection store over the vault's SQLite tables (used inside a
// transaction). Each find() decodes the row into a document the store keeps
// until it is destroyed, so keep a store for one transaction.
class SqlProjection final : public verify::ProjectionStore {
public:
  explicit SqlProjection(sql::Db& db)
    : m_db(&db) {}
  Result<const Json*> find(verify::Table table, const std::string& key) override;
  Result<void> put(verify::Table table, const std::string& key, Json doc) override;
  Result<void> modify(verify::Table table, const std::string& key,
                      const std::function<void(Json&)>& change) override;

private:
  Result<std::optional<Json>> read(verify::Table table, const std::string& key);

  sql::Db* m_db;
  std::deque<Json> m_found; // the documents find() returned
};

class Ledger {
public:
  using Builder = std::function<Result<std::vector<Draft>>(verify::ProjectionStore&, int64_t)>;

  // Creates the database `db_path` (which must not exist), applies
  // schemas/ledger.sql and appends the genesis entry (vault_init) signed by
  // `first`, then signs checkpoint 1 with `ledger_key`.
  static Result<Ledger> create(const std::filesystem::path& db_path, const std::string& origin,
                               const SigningKey& ledger_key, const Signer& first,
                               const std::string& host);
  // Opens an existing ledger for appending; checks it is a custody database.
  static Result<Ledger> open(const std::filesystem::path& db_path);

  // Appends the drafts `build` returns, all in one transaction, signed by `signer`.
  Result<std::vector<Appended>> append(const Signer& signer, const Builder& build);
  // Appends one draft.
  Result<Appended> append(const Signer& signer, Draft draft);

  // Signs and stores a checkpoint of the current size if the ledger grew since
  // the last one; returns the latest checkpoint either way.
  Result<CheckpointInfo> checkpoint(const SigningKey& ledger_key);
  // Returns the latest stored checkpoint, if any.
  Result<std::optional<CheckpointInfo>> latest_checkpoint();

  // Returns the number of entries.
  Result<uint64_t> size();
  // Returns the document `key` of projection `table`.
  Result<std::optional<Json>> get(verify::Table table, const std::string& key);
  // Returns the documents of `table` for which SQL condition `where` holds
  // (may use ?1 bound to `arg`), ordered by `order_by`.
  Result<std::vector<Json>> query(verify::Table table, const std::string& where,
                                  const std::string& arg, const std::string& order_by);

  [[nodiscard]] const std::string& origin() const {
    return m_origin;
  }
  [[nodiscard]] sql::Db& db() {
    return m_db;
  }

  // Replaces the clock entries are stamped with (UTC ms). For tests that need
  // a clock that goes backwards; the CLI never calls it.
  void set_clock(std::function<int64_t()> clock) {
    m_clock = std::move(clock);
  }

private:
  Ledger(sql::Db db, std::string origin)
    : m_db(std::move(db)),
      m_origin(std::move(origin)) {}

  sql::Db m_db;
  std::string m_origin;
  std::function<int64_t()> m_clock;
};

// Returns the ledger key's verifier-key string for `origin`.
std::string ledger_vkey(const std::string& origin, const SigningKey& ledger_key);

} // namespace custody::vault
