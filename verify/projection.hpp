// Projections: the state a ledger describes (vault identity, keys, incidents,
// evidence items, accesses), folded from its entries in order.
//
// apply_entry() is the single definition of custody's rules. The writer runs it
// inside the append transaction against the SQLite projection tables, so an
// invalid request (a closed incident, a revoked key, a bad status transition)
// is refused before anything is written. The verifier runs it against an
// in-memory store built from the ledger alone, then compares that store with
// the tables in the vault (an out-of-band edit shows up as a difference).
//
// Every projection row is a canonical JSON document under a text key; the
// documents are described in schemas/FORMAT.md §"Projections".
//
// Thread-safety: a ProjectionStore is used by one thread at a time.
#pragma once

#include "common/ed25519.hpp"
#include "common/result.hpp"
#include "verify/entry.hpp"

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace custody::verify {

enum class Table { meta, incidents, items, keys, accesses };
inline constexpr std::array<Table, 5> k_all_tables = {Table::meta, Table::incidents, Table::items,
                                                     Table::keys, Table::accesses};
// Returns the SQL table name of `table`.
const char* table_name(Table table);

// A typed SQL column stored beside a projection document: a copy of the
// document's top-level field `field` (for queries and indexes).
struct Column {
  const char* name;
  const char* field;
};
// Returns the typed columns of `table` (schemas/ledger.sql), in order.
std::span<const Column> projection_columns(Table table);

class ProjectionStore {
public:
  ProjectionStore() = default;
  ProjectionStore(const ProjectionStore&) = delete;
  ProjectionStore& operator=(const ProjectionStore&) = delete;
  virtual ~ProjectionStore() = default;

  // Returns the document stored under `key`, or nullptr. The pointer stays
  // valid until the next put() or modify() on this store.
  virtual Result<const Json*> find(Table table, const std::string& key) = 0;
  // Stores `doc` under `key`, replacing any previous document (callers move
  // the document in: projections are rewritten on every entry).
  virtual Result<void> put(Table table, const std::string& key, Json doc) = 0;
  // Applies `change` to the document stored under `key` in place; fails
  // (Errc::not_found) when there is none. `change` must not fail.
  virtual Result<void> modify(Table table, const std::string& key,
                              const std::function<void(Json&)>& change) = 0;

  // Returns a copy of the document stored under `key`, or nullopt.
  Result<std::optional<Json>> get(Table table, const std::string& key);
};

class MemoryProjection final : public ProjectionStore {
public:
  Result<const Json*> find(Table table, const std::string& key) override;
  Result<void> put(Table table, const std::string& key, Json doc) override;
  Result<void> modify(Table table, const std::string& key,
                      const std::function<void(Json&)>& change) override;

  [[nodiscard]] const std::map<std::string, Json>& rows(Table table) const {
    return m_tables.at(static_cast<size_t>(table));
  }
  friend bool operator==(const MemoryProjection& a, const MemoryProjection& b) {
    return a.m_tables == b.m_tables;
  }

private:
  std::array<std::map<std::string, Json>, k_all_tables.size()> m_tables;
};

// Returns the key of the access row for access entry `seq` (zero-padded).
std::string access_key(uint64_t seq);

// Returns the public key that must have signed `entry`: for the genesis entry
// the key it introduces; otherwise the registered key `entry.kid`, which must
// belong to `entry.actor` and not be revoked. Fails (Errc::invalid_input) with
// the reason otherwise.
Result<PublicKey> signer_key(const Entry& entry, ProjectionStore& store);

// Checks `entry` against the rules for its type given the state in `store`,
// then updates `store`. Every check comes before the first write, so a refused
// entry (Errc::invalid_input) leaves `store` unchanged: the verifier reports it
// and goes on without undoing anything (projection_test.cpp checks this for
// every refusal it provokes). A failing store (an SQL error) may leave it
// partly written; the writer rolls its transaction back.
Result<void> apply_entry(const Entry& entry, ProjectionStore& store);

// Returns the next incident id for the UTC day of `t_ms` ("INC-YYYY-MM-DD-N").
Result<std::string> next_incident_id(int64_t t_ms, ProjectionStore& store);

// Returns the vault document (origin, ledger key, ...), or an error before genesis.
Result<Json> vault_doc(ProjectionStore& store);

} // namespace custody::verify
