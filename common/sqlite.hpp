// Thin RAII wrappers over SQLite3: a connection, prepared statements, and a
// transaction whose destructor rolls back unless commit() succeeded.
//
// Connections opened for writing use the settings the custody ledger needs
// (schemas/FORMAT.md §"Storage"): WAL, synchronous=FULL, foreign keys,
// trusted_schema=OFF, SQLITE_DBCONFIG_DEFENSIVE and a busy timeout. Read-only
// connections open with SQLITE_OPEN_READONLY and never write (the verifier).
//
// Thread-safety: one Db per thread; SQLite is built serialized on Debian but
// custody never shares a connection.
#pragma once

#include "common/c_handle.hpp"
#include "common/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace custody::sql {

enum class Mode { read_write_create, read_write, read_only };

class Stmt;

class Db {
public:
  // Opens `path`. Mode::read_only opens with SQLITE_OPEN_READONLY (no WAL
  // recovery writes from us; SQLite may still need the -shm file).
  static Result<Db> open(const std::filesystem::path& path, Mode mode,
                         int busy_timeout_ms = 30000);

  // Runs one or more SQL statements without results.
  Result<void> exec(std::string_view sql);
  // Prepares `sql`.
  Result<Stmt> prepare(std::string_view sql);
  // Returns "what: <sqlite error message>" for the last error.
  [[nodiscard]] std::string error_message(std::string_view what) const;
  [[nodiscard]] sqlite3* handle() const {
    return m_db.get();
  }
  [[nodiscard]] const std::filesystem::path& path() const {
    return m_path;
  }

private:
  CHandle<sqlite3, sqlite3_close_v2> m_db;
  std::filesystem::path m_path;
};

class Stmt {
public:
  explicit Stmt(Db& db, sqlite3_stmt* stmt)
    : m_db(&db),
      m_stmt(stmt) {}

  Stmt& bind(int index, int64_t value);
  Stmt& bind(int index, std::string_view text);
  Stmt& bind_blob(int index, std::span<const uint8_t> blob);
  Stmt& bind_null(int index);

  // Steps once: true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion, expecting no rows.
  Result<void> run();
  // Resets for re-execution with new bindings.
  void reset();

  [[nodiscard]] int64_t column_int(int col) const;
  [[nodiscard]] std::string column_text(int col) const;
  [[nodiscard]] std::string column_blob(int col) const;
  // As column_text()/column_blob(), into `out` (reusing its capacity).
  void column_text_into(int col, std::string& out) const;
  void column_blob_into(int col, std::string& out) const;
  [[nodiscard]] bool column_is_null(int col) const;

private:
  Db* m_db;
  CHandle<sqlite3_stmt, sqlite3_finalize> m_stmt;
};

// BEGIN IMMEDIATE on construction (so the busy timeout applies, unlike a
// deferred transaction upgrading to a writer); ROLLBACK on destruction unless
// commit() succeeded.
class Transaction {
public:
  static Result<Transaction> begin_immediate(Db& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> commit();

private:
  explicit Transaction(Db& db)
    : m_db(&db) {}
  Db* m_db;
  bool m_open = true;
};

} // namespace custody::sql
