#include "common/sqlite.hpp"

#include <fmt/format.h>

#include <utility>

namespace custody::sql {

Result<Db> Db::open(const std::filesystem::path& path, Mode mode, int busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
  case Mode::read_write_create:
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    break;
  case Mode::read_write:
    flags |= SQLITE_OPEN_READWRITE;
    break;
  case Mode::read_only:
    flags |= SQLITE_OPEN_READONLY;
    break;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db;
  db.m_db.reset(raw);
  db.m_path = path;
  if (rc != SQLITE_OK) {
    return fail(Errc::io, fmt::format("open database {}: {}", path.string(),
                                      raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  int ignored = 0;
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, &ignored);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &ignored);
  if (mode != Mode::read_only) {
    CUSTODY_TRY(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                        "PRAGMA foreign_keys=ON;"));
  } else {
    CUSTODY_TRY(db.exec("PRAGMA query_only=ON;"));
  }
  return db;
}

Result<void> Db::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const Errc code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? Errc::conflict
                      : (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB
                        ? Errc::corrupt
                        : Errc::io;
    return fail(code, fmt::format("{}: {}", m_path.string(), msg));
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc =
    sqlite3_prepare_v2(m_db.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    const Errc code = (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB
                        ? Errc::corrupt
                        : Errc::io;
    return fail(code, error_message(fmt::format("prepare '{}'", sql.substr(0, 60))));
  }
  return Stmt(*this, raw);
}

std::string Db::error_message(std::string_view what) const {
  return fmt::format("{} ({}): {}", what, m_path.string(), sqlite3_errmsg(m_db.get()));
}

Stmt& Stmt::bind(int index, int64_t value) {
  sqlite3_bind_int64(m_stmt.get(), index, value);
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view text) {
  sqlite3_bind_text(m_stmt.get(), index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_blob(int index, std::span<const uint8_t> blob) {
  sqlite3_bind_blob(m_stmt.get(), index, blob.data(), static_cast<int>(blob.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  sqlite3_bind_null(m_stmt.get(), index);
  return *this;
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(m_stmt.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  const int primary = rc & 0xff;
  const Errc code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Errc::conflict
                    : primary == SQLITE_CONSTRAINT                     ? Errc::conflict
                    : primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? Errc::corrupt
                                                                           : Errc::io;
  return fail(code, m_db->error_message("sqlite step"));
}

Result<void> Stmt::run() {
  for (;;) {
    CUSTODY_TRY_ASSIGN(const bool row, step());
    if (!row) {
      return {};
    }
  }
}

void Stmt::reset() {
  sqlite3_reset(m_stmt.get());
  sqlite3_clear_bindings(m_stmt.get());
}

int64_t Stmt::column_int(int col) const {
  return sqlite3_column_int64(m_stmt.get(), col);
}

std::string Stmt::column_text(int col) const {
  std::string out;
  column_text_into(col, out);
  return out;
}

std::string Stmt::column_blob(int col) const {
  std::string out;
  column_blob_into(col, out);
  return out;
}

void Stmt::column_text_into(int col, std::string& out) const {
  const auto* p = sqlite3_column_text(m_stmt.get(), col);
  const int n = sqlite3_column_bytes(m_stmt.get(), col);
  if (p == nullptr) {
    out.clear();
  } else {
    out.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
}

void Stmt::column_blob_into(int col, std::string& out) const {
  const void* p = sqlite3_column_blob(m_stmt.get(), col);
  const int n = sqlite3_column_bytes(m_stmt.get(), col);
  if (p == nullptr) {
    out.clear();
  } else {
    out.assign(static_cast<const char*>(p), static_cast<size_t>(n));
  }
}

bool Stmt::column_is_null(int col) const {
  return sqlite3_column_type(m_stmt.get(), col) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin_immediate(Db& db) {
  CUSTODY_TRY(db.exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept
  : m_db(other.m_db),
    m_open(std::exchange(other.m_open, false)) {}

Transaction::~Transaction() {
  if (m_open) {
    (void)m_db->exec("ROLLBACK");
  }
}

Result<void> Transaction::commit() {
  CUSTODY_TRY(m_db->exec("COMMIT"));
  m_open = false;
  return {};
}

} // namespace custody::sql
