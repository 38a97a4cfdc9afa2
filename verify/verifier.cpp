// How `custody verify` works, and why it is shaped this way.
//
// The verifier is the independent check of everything vault/ writes. It reads
// a vault the way an auditor receives it (a directory, maybe a read-only copy)
// and trusts none of it. The algorithm is specified step by step in
// schemas/FORMAT.md §10; this comment explains the engineering.
//
// Trust first. Before any entry is read, the verifier decides what it trusts:
// the origin and ledger key pinned by the auditor (--trusted-keys), else the
// genesis entry's (trust on first use, reported as a warning). vault.json and
// the genesis entry are cross-checked against each other and against the
// pinned values; a database copied in from another vault fails here even when
// nothing is pinned. Every checkpoint (the vault's own and the auditor's
// copies) is opened with that one ledger key before the fold, so the fold only
// compares roots.
//
// Then one pass over the ledger. Entries are read in seq order in chunks. Two
// parallel passes prepare a chunk: decode + leaf hash (canonical JSON and the
// schemas, the costly part after signatures), then signature verification
// with the key the entry's kid names. Which key that is can be decided before
// the fold because a kid is the SHA-256 of the key itself: any key_register or
// vault_init entry that carries a public key whose fingerprint is that kid
// carries *the* key. Whether the key was registered to that actor and not yet
// revoked at that seq is a property of the ledger state, and is decided in the
// sequential fold (verify/projection.cpp signer_key()); the fold then uses the
// precomputed signature result. Preparation runs on a producer thread and a
// team of helpers that lives for the whole pass (one thread per core in all;
// see Team for why a row is mostly decoded and freed by the same thread), and
// the producer reads the next chunk from SQLite while the team verifies the
// current one. The main thread folds the previous chunk meanwhile, so the fold
// costs little wall time. The process is CPU-bound on Ed25519: everything else
// (decoding, schemas, the fold, integrity_check on the second connection)
// takes CPU from the signature checks, which is why those paths avoid
// allocations and per-entry work that the answers do not need.
//
// The fold applies each entry with verify::apply_entry() to an in-memory
// projection store that can undo the entry's writes: an entry the rules refuse
// is reported and rolled back, and the fold goes on, so one bad entry yields
// one finding rather than hiding the rest. An entry whose signature fails is
// still folded (when it decodes and the rules accept it): its problem is
// reported under its seq, and later entries are judged against the state the
// writer had, which keeps cascades small.
//
// Read-only by construction: nothing here opens a vault file for writing. See
// open_database() for why a WAL database is read from a private copy.
#include "verify/verifier.hpp"

#include "common/atomic_file.hpp"
#include "common/c_handle.hpp"
#include "common/canonical_json.hpp"
#include "common/ed25519.hpp"
#include "common/merkle.hpp"
#include "common/sqlite.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "common/version.hpp"
#include "verify/projection.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "schemas/embedded.hpp"

namespace custody::verify {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t k_application_id = 0x43555354; // 'CUST', schemas/ledger.sql
constexpr int64_t k_user_version = 1;
constexpr size_t k_chunk_entries = 2048;
constexpr size_t k_read_block = 1024 * 1024;
constexpr size_t k_max_checkpoint_file = 64 * 1024;
constexpr size_t k_max_trusted_keys_file = 1024 * 1024;
constexpr auto k_progress_interval = std::chrono::milliseconds(100);

// The append-only triggers of schemas/ledger.sql; a missing or altered one is
// reported as a warning (they only ever stopped honest mistakes).
constexpr std::string_view k_triggers[] = {"ledger_no_update",
                                           "ledger_no_delete",
                                           "ledger_contiguous",
                                           "checkpoints_no_update",
                                           "checkpoints_no_delete",
                                           "checkpoints_grow"};

std::string short_hex(std::string_view hex) {
  return std::string(hex.substr(0, 16));
}

std::string short_hex(const Hash256& h) {
  return short_hex(to_hex(h));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool valid_actor_name(std::string_view s) {
  auto ok = [](char c, bool first) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                       || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '@' || c == '-'));
  };
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (!ok(s[i], i == 0)) {
      return false;
    }
  }
  return true;
}

// A team of `size` threads, the caller and size-1 helpers that live as long
// as the team, that runs one job at a time. run(n, fn) gives each member its
// own slice of [0, n), the same slice every time for the same n; a member that
// finishes its slice takes blocks from the others' (so a member the scheduler
// holds back does not leave a core idle). The ledger pass reuses its chunks of
// rows, so row i of every chunk is mostly decoded, and its previous entry
// freed, by the same thread: the allocator's per-thread caches then serve
// those allocations, where a row freed on another thread goes back through
// shared lists and locks (with a new helper thread per chunk that cost ~3% of
// a 100,000-entry verify, and the thread-local caches of schemas and
// verification contexts were rebuilt for every chunk). An exception thrown by
// a job (or by `first`) is rethrown by run() once every member has stopped.
class Team {
public:
  explicit Team(unsigned size) : m_size(std::max(1U, size)) {
    m_helpers.reserve(m_size - 1);
    for (unsigned member = 1; member < m_size; ++member) {
      m_helpers.emplace_back([this, member] { serve(member); });
    }
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;
  ~Team() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_start.notify_all();
    for (auto& t : m_helpers) {
      t.join();
    }
  }

  // Runs fn(begin, end) over [0, n) in blocks, starting with each member's own
  // slice (this thread's is slice 0), and returns when all are done. This
  // thread first runs `first` (if given), while the others start on theirs.
  template<typename Fn>
  void run(size_t n, const Fn& fn, const std::function<void()>& first = {}) {
    constexpr size_t k_block = 4;
    if (m_size == 1 || n <= k_block) {
      if (first) {
        first();
      }
      fn(size_t{0}, n);
      return;
    }
    struct alignas(64) Slice {
      std::atomic<size_t> next{0};
      size_t end = 0;
    };
    std::vector<Slice> slices(m_size);
    for (unsigned m = 0; m < m_size; ++m) {
      slices[m].next.store(n * m / m_size, std::memory_order_relaxed);
      slices[m].end = n * (m + 1) / m_size;
    }
    const std::function<void(unsigned)> job = [&](unsigned member) {
      for (unsigned k = 0; k < m_size; ++k) {
        Slice& slice = slices[(member + k) % m_size];
        for (;;) {
          const size_t begin = slice.next.fetch_add(k_block, std::memory_order_relaxed);
          if (begin >= slice.end) {
            break;
          }
          fn(begin, std::min(slice.end, begin + k_block));
        }
      }
    };
    {
      std::lock_guard lock(m_mutex);
      m_job = &job;
      m_pending = m_size - 1;
      ++m_generation;
    }
    m_start.notify_all();
    std::exception_ptr mine;
    try {
      if (first) {
        first();
      }
      job(0);
    } catch (...) {
      // The others still use `slices` and `job`: wait for them first.
      mine = std::current_exception();
    }
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending == 0; });
    m_job = nullptr;
    std::exception_ptr theirs = std::exchange(m_failure, nullptr);
    lock.unlock();
    if (mine) {
      std::rethrow_exception(mine);
    }
    if (theirs) {
      std::rethrow_exception(theirs);
    }
  }

private:
  void serve(unsigned member) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(unsigned)>* job = nullptr;
      {
        std::unique_lock lock(m_mutex);
        m_start.wait(lock, [&] { return m_stopping || m_generation != seen; });
        if (m_stopping) {
          return;
        }
        seen = m_generation;
        job = m_job;
      }
      std::exception_ptr failure;
      try {
        (*job)(member);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard lock(m_mutex);
      if (failure && !m_failure) {
        m_failure = failure;
      }
      if (--m_pending == 0) {
        m_done.notify_one();
      }
    }
  }

  unsigned m_size;
  std::mutex m_mutex;
  std::condition_variable m_start;
  std::condition_variable m_done;
  const std::function<void(unsigned)>* m_job = nullptr;
  unsigned m_pending = 0;
  uint64_t m_generation = 0;
  bool m_stopping = false;
  std::exception_ptr m_failure; // the first a helper's job threw
  std::vector<std::thread> m_helpers;
};

// Runs `fn(begin, end)` over [0, n) in blocks on up to `threads` threads (this
// one included), for one-off jobs: a Team that lives for this call.
template<typename Fn>
void parallel_for(size_t n, unsigned threads, const Fn& fn) {
  constexpr size_t k_min_per_thread = 16;
  const size_t useful = std::max<size_t>(1, n / k_min_per_thread);
  Team(static_cast<unsigned>(std::min<size_t>(threads, useful))).run(n, fn);
}

// ---------------------------------------------------------------------------
// Files

struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp stamp_of(const fs::path& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) {
    return s;
  }
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
  return s;
}

// A private directory under $TMPDIR, removed with everything in it on
// destruction.
class TempDir {
public:
  static Result<TempDir> create(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        fmt::format("{}/{}XXXXXX",
                    base != nullptr && *base != '\0' ? base : "/tmp",
                    prefix);
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return fail_errno("create a temporary directory " + tmpl);
    }
    TempDir dir;
    dir.m_path = tmpl;
    return dir;
  }
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept
      : m_path(std::exchange(other.m_path, fs::path())) {}
  TempDir& operator=(TempDir&& other) noexcept {
    if (this != &other) {
      remove();
      m_path = std::exchange(other.m_path, fs::path());
    }
    return *this;
  }
  ~TempDir() {
    remove();
  }
  [[nodiscard]] const fs::path& path() const {
    return m_path;
  }

private:
  void remove() noexcept {
    if (!m_path.empty()) {
      std::error_code ec;
      fs::remove_all(m_path, ec);
      m_path.clear();
    }
  }
  fs::path m_path;
};

Result<void> copy_file_to(const fs::path& from, const fs::path& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!in) {
    return fail_errno("open " + from.string());
  }
  UniqueFd out(
      ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) {
    return fail_errno("create " + to.string());
  }
  std::vector<char> buf(k_read_block);
  for (;;) {
    const ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail_errno("read " + from.string());
    }
    if (n == 0) {
      break;
    }
    CUSTODY_TRY(write_all(out.get(),
                          std::string_view(buf.data(), static_cast<size_t>(n)),
                          to.string()));
  }
  if (out.close() != 0) {
    return fail_errno("close " + to.string());
  }
  return {};
}

// Returns `path` percent-encoded for the path part of an SQLite URI.
std::string uri_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                       || (c >= '0' && c <= '9') || c == '/' || c == '-'
                       || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The database, opened read-only.
//
// Why not simply SQLITE_OPEN_READONLY in place: a reader of a WAL database
// takes its read lock by writing a read mark into the -shm file (and may
// rebuild that index), so even a "read-only" connection changes a file of the
// vault and fails on a read-only copy without one. So:
//   - no -wal file (or an empty one): the database file alone is the whole
//     state; open it in place as file:...?mode=ro&immutable=1, which takes no
//     locks and never touches -shm (SQLite then assumes nobody writes the file:
//     the file's identity, size and times are compared before and after, and
//     a change makes the run fail with an error rather than a wrong verdict);
//   - otherwise: copy ledger.db and ledger.db-wal into a private temporary
//     directory (retrying if either changes during the copy) and open the copy
//     read-only; SQLite builds its -shm index there.
struct OpenedDb {
  sql::Db db;
  TempDir temp;
  std::string how;
  std::string name; // what sql::Db::open was given (a URI or the copy)
  fs::path db_path;
  FileStamp db_stamp;
  FileStamp wal_stamp;
  bool in_place = false;
};

Result<OpenedDb> open_database(const fs::path& vault) {
  const fs::path db_path = vault / "ledger.db";
  const fs::path wal_path = vault / "ledger.db-wal";
  struct stat st {};
  if (::stat(db_path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return fail(Errc::not_found,
                  fmt::format("{} is not a custody vault: {} does not exist",
                              vault.string(),
                              db_path.string()));
    }
    return fail_errno("stat " + db_path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_input,
                fmt::format("{}: not a regular file", db_path.string()));
  }
  {
    UniqueFd probe(::open(db_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!probe) {
      return fail_errno("open " + db_path.string());
    }
    // Every page is read (integrity_check, the ledger, the tables): ask the
    // kernel to start reading the file now, so that a cold cache costs one
    // streaming read instead of a wait on every page. A hint only; it changes
    // nothing on disk.
    constexpr off_t k_readahead_cap = off_t{1} << 30;
    (void)::posix_fadvise(probe.get(), 0, std::min(st.st_size, k_readahead_cap),
                          POSIX_FADV_WILLNEED);
  }
  OpenedDb out;
  out.db_path = db_path;
  const FileStamp wal = stamp_of(wal_path);
  if ((!wal.exists || wal.size == 0)
      && sqlite3_compileoption_used("USE_URI") == 1) {
    out.db_stamp = stamp_of(db_path);
    out.wal_stamp = wal;
    const std::string uri =
        fmt::format("file:{}?mode=ro&immutable=1",
                    uri_path(fs::absolute(db_path).string()));
    auto db = sql::Db::open(uri, sql::Mode::read_only);
    if (db) {
      auto probe = db->exec("SELECT count(*) FROM sqlite_master");
      if (probe) {
        out.db = std::move(*db);
        out.name = uri;
        out.in_place = true;
        out.how = "in place, read-only and immutable (no write-ahead log)";
        return out;
      }
    }
    // Fall through: read it from a copy like a WAL database.
  }
  CUSTODY_TRY_ASSIGN(out.temp, TempDir::create("custody-verify-"));
  const fs::path copy = out.temp.path() / "ledger.db";
  constexpr int k_attempts = 5;
  for (int attempt = 1;; ++attempt) {
    const FileStamp db_before = stamp_of(db_path);
    const FileStamp wal_before = stamp_of(wal_path);
    std::error_code ec;
    fs::remove(out.temp.path() / "ledger.db-wal", ec);
    CUSTODY_TRY(copy_file_to(db_path, copy));
    if (wal_before.exists) {
      CUSTODY_TRY(copy_file_to(wal_path, out.temp.path() / "ledger.db-wal"));
    }
    if (stamp_of(db_path) == db_before && stamp_of(wal_path) == wal_before) {
      break;
    }
    if (attempt == k_attempts) {
      return fail(Errc::conflict,
                  fmt::format("{} changed every time it was copied (a writer "
                              "is active); verify "
                              "a quiescent copy of the vault",
                              db_path.string()));
    }
  }
  CUSTODY_TRY_ASSIGN(out.db, sql::Db::open(copy, sql::Mode::read_only));
  out.name = copy.string();
  out.how =
      "from a private snapshot (ledger.db and its write-ahead log copied to a "
      "temporary "
      "directory; no reader lock touches the vault)";
  return out;
}

Result<int64_t> pragma_int(sql::Db& db, const char* pragma) {
  CUSTODY_TRY_ASSIGN(auto stmt, db.prepare(fmt::format("PRAGMA {}", pragma)));
  CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
  return row ? stmt.column_int(0) : 0;
}

std::string squeeze_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) {
      out.push_back(' ');
    }
    space = false;
    out.push_back(c);
  }
  return out;
}

// Returns the CREATE TRIGGER statement `name` of schemas/ledger.sql (without
// the final ';'), whitespace-squeezed.
std::string expected_trigger_sql(std::string_view name) {
  const auto sql = schemas::find("ledger.sql");
  if (!sql) {
    return {};
  }
  const std::string head = fmt::format("CREATE TRIGGER {} ", name);
  const size_t begin = sql->find(head);
  if (begin == std::string_view::npos) {
    return {};
  }
  const size_t end = sql->find("END;", begin);
  if (end == std::string_view::npos) {
    return {};
  }
  return squeeze_spaces(sql->substr(begin, end + 3 - begin));
}

// Returns SQLite's integrity_check findings for `db` (none when it is ok).
std::vector<Finding> integrity_findings(sql::Db& db) {
  std::vector<Finding> out;
  auto finding = [&](std::string message) {
    Finding f;
    f.code = std::string(code::database);
    f.subject = "ledger.db";
    f.message = std::move(message);
    out.push_back(std::move(f));
  };
  auto stmt = db.prepare("PRAGMA integrity_check(20)");
  if (!stmt) {
    finding("integrity_check failed: " + stmt.error().message);
    return out;
  }
  for (;;) {
    auto row = stmt->step();
    if (!row) {
      finding("integrity_check failed: " + row.error().message);
      break;
    }
    if (!*row) {
      break;
    }
    const std::string msg = stmt->column_text(0);
    if (msg != "ok") {
      finding("SQLite integrity_check: " + msg);
    }
  }
  return out;
}

// Checks that this is a custody ledger we can read (else an Error: exit 2),
// then its append-only guards (warnings). SQLite's integrity_check runs apart
// (integrity_findings(), on its own connection while the ledger is folded).
Result<void>
check_database(sql::Db& db, const fs::path& db_path, Report& report) {
  auto app_id = pragma_int(db, "application_id");
  if (!app_id) {
    return fail(Errc::corrupt,
                fmt::format("{} is not a readable SQLite database: {}",
                            db_path.string(),
                            app_id.error().message));
  }
  if (*app_id != k_application_id) {
    return fail(
        Errc::invalid_input,
        fmt::format(
            "{} is not a custody ledger (application_id {:#x}, expected {:#x})",
            db_path.string(),
            *app_id,
            k_application_id));
  }
  CUSTODY_TRY_ASSIGN(const int64_t version, pragma_int(db, "user_version"));
  if (version != k_user_version) {
    return fail(
        Errc::invalid_input,
        fmt::format("{} has ledger format {}; this verifier reads format {}",
                    db_path.string(),
                    version,
                    k_user_version));
  }
  std::map<std::string, std::string> triggers;
  {
    CUSTODY_TRY_ASSIGN(
        auto stmt,
        db.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"));
    for (;;) {
      CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
      if (!row) {
        break;
      }
      triggers.emplace(stmt.column_text(0),
                       squeeze_spaces(stmt.column_text(1)));
    }
  }
  for (std::string_view name : k_triggers) {
    auto it = triggers.find(std::string(name));
    if (it == triggers.end()) {
      report.other(
          Severity::warning,
          code::append_only_guard,
          "ledger.db",
          fmt::format("the append-only trigger {} is missing (it was dropped); "
                      "only the "
                      "signatures and checkpoints protect this ledger now",
                      name));
    } else if (it->second != expected_trigger_sql(name)) {
      report.other(
          Severity::warning,
          code::append_only_guard,
          "ledger.db",
          fmt::format(
              "the append-only trigger {} differs from schemas/ledger.sql",
              name));
    }
  }
  return {};
}

// ---------------------------------------------------------------------------
// The image of a row's indexed columns: for each column in order, "N" when it
// is NULL, else "V<length>:<text>". The stored tables and the rebuilt
// documents are both reduced to it, so the columns compare as one string.

void append_column(std::string& image, const std::optional<std::string_view>& text) {
  if (!text) {
    image += 'N';
    return;
  }
  image += 'V';
  image += std::to_string(text->size());
  image += ':';
  image += *text;
}

// The image of `doc`: an integer field as its decimal text, a string field as
// itself, anything else (absent, null, other types) as NULL.
std::string column_image(const Json& doc, std::span<const Column> columns) {
  std::string image;
  for (const Column& c : columns) {
    auto it = doc.find(c.field);
    if (it != doc.end() && it->is_number_integer()) {
      append_column(image, std::to_string(it->get<int64_t>()));
    } else if (it != doc.end() && it->is_string()) {
      append_column(image, it->get_ref<const std::string&>());
    } else {
      append_column(image, std::nullopt);
    }
  }
  return image;
}

// Splits an image back into its columns (for messages; `image` is well formed).
std::vector<std::optional<std::string>> split_image(std::string_view image) {
  std::vector<std::optional<std::string>> out;
  size_t i = 0;
  while (i < image.size()) {
    if (image[i] == 'N') {
      out.emplace_back(std::nullopt);
      ++i;
      continue;
    }
    const size_t colon = image.find(':', i);
    const size_t length = std::stoul(std::string(image.substr(i + 1, colon - i - 1)));
    out.emplace_back(std::string(image.substr(colon + 1, length)));
    i = colon + 1 + length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The projection store the fold writes to: MemoryProjection's semantics in
// hash maps (no journal is needed: apply_entry() checks everything before it
// writes, so a refused entry leaves no trace), plus a version counter of the
// keys table (which lets the fold cache signer keys).
//
// Memory: an access document not used for the last `hot_docs` uses of the
// accesses is frozen to its canonical encoding (what compare_projections()
// needs) and the image of its indexed columns; a later find() or modify()
// thaws it. A ledger of mostly accesses thus holds a few hundred bytes per
// access instead of a JSON tree. Pointers that find() returns stay valid for at least `hot_docs`
// further uses, more than one entry's apply_entry() makes.

class FoldStore final : public ProjectionStore {
public:
  struct Doc {
    Json json;          // the document, while hot
    std::string frozen; // its canonical encoding, while frozen
    std::string image;  // its column image, while frozen
    bool is_frozen = false;
    uint64_t stamp = 0; // the use that last touched it
  };
  using Rows = std::unordered_map<std::string, Doc>;
  // Keeps the `hot_docs` most recently used documents as trees (at least 16:
  // apply_entry() holds a few pointers at a time).
  explicit FoldStore(size_t hot_docs) : m_hot_docs(std::max<size_t>(hot_docs, 16)) {}

  Result<const Json*> find(Table table, const std::string& key) override {
    Rows& rows = m_tables.at(static_cast<size_t>(table));
    auto it = rows.find(key);
    if (it == rows.end()) {
      return nullptr;
    }
    thaw(it->second);
    touch(table, it->second);
    return &it->second.json;
  }

  Result<void> put(Table table, const std::string& key, Json doc) override {
    if (table == Table::keys) {
      ++m_keys_version;
    }
    Rows& rows = m_tables.at(static_cast<size_t>(table));
    Doc& d = rows[key];
    d.json = std::move(doc);
    d.frozen.clear();
    d.image.clear();
    d.is_frozen = false;
    touch(table, d);
    return {};
  }

  Result<void> modify(Table table,
                      const std::string& key,
                      const std::function<void(Json&)>& change) override {
    Rows& rows = m_tables.at(static_cast<size_t>(table));
    auto it = rows.find(key);
    if (it == rows.end()) {
      return fail(Errc::not_found,
                  fmt::format("no {} row '{}'", table_name(table), key));
    }
    if (table == Table::keys) {
      ++m_keys_version;
    }
    thaw(it->second);
    touch(table, it->second);
    change(it->second.json);
    return {};
  }

  [[nodiscard]] const Rows& rows(Table table) const {
    return m_tables.at(static_cast<size_t>(table));
  }
  // Thaws every document of `table` (for readers of Doc::json).
  void thaw_all(Table table) {
    for (auto& [key, doc] : m_tables.at(static_cast<size_t>(table))) {
      thaw(doc);
    }
  }
  // Returns the rows of `table` in key order.
  [[nodiscard]] std::vector<const Rows::value_type*> sorted(Table table) const {
    std::vector<const Rows::value_type*> out;
    const Rows& rows = m_tables.at(static_cast<size_t>(table));
    out.reserve(rows.size());
    for (const auto& row : rows) {
      out.push_back(&row);
    }
    std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
      return a->first < b->first;
    });
    return out;
  }
  [[nodiscard]] uint64_t keys_version() const {
    return m_keys_version;
  }

private:
  struct Use {
    Doc* doc;
    uint64_t stamp;
  };

  static void thaw(Doc& d) {
    if (!d.is_frozen) {
      return;
    }
    auto json = cjson::decode(d.frozen);
    if (!json) { // encode() made it, so decode() takes it back: a bug
      throw std::logic_error("a frozen projection document does not decode: "
                             + json.error().message);
    }
    d.json = std::move(*json);
    d.is_frozen = false;
    std::string().swap(d.frozen);
    std::string().swap(d.image);
  }

  // Records a use of `d`, and freezes the document whose last use is now
  // m_hot_docs uses ago. Only access documents are frozen: they are most of
  // the rows and are used twice, by the access and its result; items,
  // incidents and keys are few and used again and again.
  void touch(Table table, Doc& d) {
    if (table != Table::accesses) {
      return;
    }
    d.stamp = ++m_clock;
    m_uses.push_back(Use{&d, d.stamp});
    if (m_uses.size() <= m_hot_docs) {
      return;
    }
    const Use old = m_uses.front();
    m_uses.pop_front();
    if (old.doc->stamp == old.stamp && !old.doc->is_frozen) {
      freeze(*old.doc);
    }
  }

  // Freezes access document `d`; one that does not encode (or would not
  // decode: too large) stays as it is.
  static void freeze(Doc& d) {
    auto frozen = cjson::encode(d.json);
    if (!frozen || frozen->size() > cjson::k_max_size) {
      return;
    }
    d.image = column_image(d.json, projection_columns(Table::accesses));
    d.frozen = std::move(*frozen);
    d.json = Json();
    d.is_frozen = true;
  }

  std::array<Rows, k_all_tables.size()> m_tables;
  size_t m_hot_docs;
  std::deque<Use> m_uses;
  uint64_t m_clock = 0;
  uint64_t m_keys_version = 0;
};

// ---------------------------------------------------------------------------
// The stored projection tables and SQLite's integrity_check, read on a second
// connection while the ledger is folded (so that no core idles meanwhile).

struct StoredRow {
  std::string key;
  std::string doc;
  std::string image; // the columns' image (column_image())
};
using StoredTables = std::array<std::vector<StoredRow>, k_all_tables.size()>;

Result<void> read_table(sql::Db& db, Table table, std::vector<StoredRow>& out) {
  const auto columns = projection_columns(table);
  std::string sql = "SELECT key, doc";
  for (const Column& c : columns) {
    sql += fmt::format(", {}", c.name);
  }
  sql += fmt::format(" FROM {} ORDER BY key", table_name(table));
  CUSTODY_TRY_ASSIGN(auto stmt, db.prepare(sql));
  for (;;) {
    CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
    if (!row) {
      return {};
    }
    StoredRow r;
    r.key = stmt.column_text(0);
    r.doc = stmt.column_text(1);
    for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
      append_column(r.image, stmt.column_is_null(2 + i)
                                 ? std::nullopt
                                 : std::optional<std::string_view>(stmt.column_text(2 + i)));
    }
    out.push_back(std::move(r));
  }
}

struct Background {
  std::vector<Finding> integrity; // integrity_check's findings
  StoredTables tables;
  std::optional<Error> error; // the tables could not be read
};

// Opens `name` (as open_database() did) and fills `out`. Never throws.
void read_in_background(const std::string& name, Background& out) {
  try {
    auto db = sql::Db::open(name, sql::Mode::read_only);
    if (!db) {
      out.error = db.error();
      return;
    }
    // integrity_check looks every table row up in each of its indexes, in
    // table order: with SQLite's default 2 MiB cache the index pages are read
    // again and again (131,000 page reads for a 25,000-page ledger of 100,000
    // entries, 52,000 with 8 MiB). An eighth of the file, 2-128 MiB, keeps
    // them; memory only, the answers are the same.
    const auto pages = pragma_int(*db, "page_count");
    const auto page_size = pragma_int(*db, "page_size");
    if (pages && page_size) {
      constexpr int64_t k_min_kib = 2 * 1024;
      constexpr int64_t k_max_kib = 128 * 1024;
      const int64_t kib = std::clamp(*pages * *page_size / 8 / 1024, k_min_kib, k_max_kib);
      (void)db->exec(fmt::format("PRAGMA cache_size = -{}", kib));
    }
    out.integrity = integrity_findings(*db);
    for (Table table : k_all_tables) {
      auto read = read_table(*db, table, out.tables.at(static_cast<size_t>(table)));
      if (!read) {
        out.error = read.error();
        return;
      }
    }
  } catch (const std::exception& e) {
    out.error = Error{Errc::internal, e.what()};
  }
}

// ---------------------------------------------------------------------------
// Ledger rows and their preparation

struct Row {
  uint64_t seq = 0;
  std::string bytes;    // the entry column
  std::string leaf_col; // the leaf_hash column (a cache)
  std::string kid_col;  // the kid column (a cache)
  std::string sig;      // the sig column

  Hash256 leaf{};             // computed from bytes
  std::optional<Entry> entry; // decoded, when canonical and schema-valid
  std::string error;          // why it did not decode
  const PublicKey* key = nullptr; // the key named by entry->kid, if known
                                  // (owned by the Verifier's CandidateKeys)
  int8_t sig_ok = -1; // -1 unchecked, 0 invalid, 1 valid (with `key`)

  // Forgets the previous row, keeping the strings' capacity.
  void reset() {
    entry.reset();
    error.clear();
    key = nullptr;
    sig_ok = -1;
  }
};

// Keys that entries carry (vault_init, key_register), by fingerprint. A kid
// is the SHA-256 of its key, so the first key found for a kid is the key.
class CandidateKeys {
public:
  void collect(const Entry& e) {
    std::string kid;
    if (e.type == "vault_init") {
      kid = e.kid;
    } else if (e.type == "key_register") {
      kid = e.fields.value("kid", "");
    } else {
      return;
    }
    if (m_keys.count(kid) != 0) {
      return;
    }
    auto raw = from_base64(e.fields.value("public_key", ""));
    if (!raw) {
      return;
    }
    auto key = PublicKey::from_raw(as_bytes(*raw));
    if (!key || key->fingerprint() != kid) {
      return;
    }
    m_keys.emplace(kid, std::make_unique<const PublicKey>(std::move(*key)));
  }
  // Returns the key for `kid`, or nullptr; it lives as long as this object.
  [[nodiscard]] const PublicKey* find(const std::string& kid) const {
    auto it = m_keys.find(kid);
    return it == m_keys.end() ? nullptr : it->second.get();
  }

private:
  std::unordered_map<std::string, std::unique_ptr<const PublicKey>> m_keys;
};

// Decodes a chunk and verifies its signatures on the team; this thread runs
// `meanwhile` (reading the next chunk) while the others start verifying.
void prepare_chunk(std::vector<Row>& rows,
                   CandidateKeys& keys,
                   Team& team,
                   const std::function<void()>& meanwhile) {
  team.run(rows.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Row& r = rows[i];
      r.reset(); // frees a recycled row's entry here, on all cores
      r.leaf = entry_leaf_hash(r.bytes);
      try {
        auto e = decode_entry(r.bytes);
        if (e) {
          r.entry = std::move(*e);
        } else {
          r.error = e.error().message;
        }
      } catch (const std::exception& ex) {
        r.error = fmt::format("cannot be read ({})", ex.what());
      }
    }
  });
  for (const Row& r : rows) {
    if (r.entry) {
      keys.collect(*r.entry);
    }
  }
  team.run(rows.size(), [&](size_t begin, size_t end) {
    thread_local std::string message;
    for (size_t i = begin; i < end; ++i) {
      Row& r = rows[i];
      if (!r.entry) {
        continue;
      }
      r.key = keys.find(r.entry->kid);
      if (r.key) {
        signed_message_into(r.bytes, message);
        r.sig_ok = r.key->verify(as_bytes(message), as_bytes(r.sig)) ? 1 : 0;
      }
    }
  }, meanwhile);
}

// A bounded queue of prepared chunks between the producer and the fold.
class ChunkQueue {
public:
  void push(std::unique_ptr<std::vector<Row>> chunk) {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return m_queue.size() < k_depth; });
    m_queue.push_back(std::move(chunk));
    m_cv.notify_all();
  }
  std::unique_ptr<std::vector<Row>> pop() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return !m_queue.empty(); });
    auto chunk = std::move(m_queue.front());
    m_queue.pop_front();
    m_cv.notify_all();
    return chunk;
  }

  // Hands a folded chunk back for reuse: its strings keep their capacity, so
  // reading the next chunk allocates (almost) nothing.
  void recycle(std::unique_ptr<std::vector<Row>> chunk) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(std::move(chunk));
  }
  // Returns a recycled chunk, or a new one.
  std::unique_ptr<std::vector<Row>> fresh() {
    {
      std::lock_guard lock(m_mutex);
      if (!m_free.empty()) {
        auto chunk = std::move(m_free.back());
        m_free.pop_back();
        return chunk;
      }
    }
    auto chunk = std::make_unique<std::vector<Row>>();
    chunk->reserve(k_chunk_entries);
    return chunk;
  }

private:
  static constexpr size_t k_depth = 2;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::unique_ptr<std::vector<Row>>> m_queue;
  std::vector<std::unique_ptr<std::vector<Row>>> m_free;
};

// ---------------------------------------------------------------------------
// Checkpoints

struct Expectation {
  uint64_t size = 0;
  Hash256 root{};
  std::string
      subject; // "checkpoint 57 (stored)", "checkpoint file cp.note (size 57)"
  std::optional<size_t> external; // index into VerifySummary::external
};

struct OpenedCheckpoint {
  std::optional<note::Checkpoint>
      cp;                // set when signed by the ledger key and well-formed
  std::string_view code; // else the finding's code
  std::string why;       // and message
};

OpenedCheckpoint open_checkpoint(std::string_view text,
                                 const std::optional<note::Verifier>& ledger,
                                 const std::string& origin) {
  OpenedCheckpoint out;
  if (!ledger) {
    out.code = code::checkpoint_signature;
    out.why = "cannot be checked: no trusted ledger key";
    return out;
  }
  auto opened = note::open(text, {*ledger});
  if (!opened) {
    const bool malformed = opened.error().message.starts_with("malformed");
    out.code =
        malformed ? code::checkpoint_malformed : code::checkpoint_signature;
    out.why = malformed
                  ? opened.error().message
                  : fmt::format("{} (trusted ledger key {})",
                                opened.error().message,
                                note::format_vkey(ledger->name, ledger->key));
    return out;
  }
  auto cp = note::parse_checkpoint(opened->text);
  if (!cp) {
    out.code = code::checkpoint_malformed;
    out.why =
        cp.error().message + " (although validly signed by the ledger key)";
    return out;
  }
  if (cp->origin != origin) {
    out.code = code::checkpoint_origin;
    out.why = fmt::format("checkpoint of origin '{}', not of this vault ('{}')",
                          cp->origin,
                          origin);
    return out;
  }
  out.cp = std::move(*cp);
  return out;
}

// ---------------------------------------------------------------------------
// vault.json

struct Identity {
  std::optional<std::string> origin;
  std::optional<std::string> ledger_key;
};

Identity read_identity(const fs::path& vault, Report& report) {
  Identity id;
  const fs::path path = vault / "vault.json";
  auto text = read_small_file(path, 64 * 1024);
  if (!text) {
    report.other(Severity::finding,
                 code::identity,
                 "vault.json",
                 fmt::format("cannot be read: {}", text.error().message));
    return id;
  }
  Json doc;
  if (auto strict = cjson::decode(*text); strict) {
    doc = std::move(*strict);
  } else {
    report.other(Severity::finding,
                 code::identity,
                 "vault.json",
                 "is not canonical JSON: " + strict.error().message);
    doc = Json::parse(*text, nullptr, false);
  }
  if (!doc.is_object()) {
    report.other(Severity::finding,
                 code::identity,
                 "vault.json",
                 "is not a JSON object");
    return id;
  }
  if (auto it = doc.find("origin"); it != doc.end() && it->is_string()) {
    id.origin = it->get<std::string>();
  } else {
    report.other(
        Severity::finding, code::identity, "vault.json", "has no origin");
  }
  if (auto it = doc.find("ledger_key"); it != doc.end() && it->is_string()) {
    id.ledger_key = it->get<std::string>();
  } else {
    report.other(
        Severity::finding, code::identity, "vault.json", "has no ledger_key");
  }
  return id;
}

// ---------------------------------------------------------------------------
// The verifier

class Verifier {
public:
  Verifier(const VerifyOptions& options, Report& report)
      : m_opt(options),
        m_report(report),
        m_threads(options.threads != 0
                      ? options.threads
                      : std::max(1U, std::thread::hardware_concurrency())) {}

  Result<VerifySummary> run();
  // Hands the rebuilt state to a holder that is never freed
  // (VerifyOptions::exiting); the verifier must not be used afterwards.
  void retain_until_exit();

private:
  Result<void> establish_trust();
  Result<void> load_checkpoints();
  Result<void> fold_ledger();
  void
  produce(ChunkQueue& queue, sql::Db& db, std::optional<Error>& read_error);
  void fold_row(Row& row);
  void check_expectations();
  Result<void> compare_projections(const StoredTables& tables);
  Result<void> check_objects();
  void check_store_tree(const std::unordered_set<std::string>& named);
  void progress(Phase phase, uint64_t done, uint64_t total, bool force = false);

  const VerifyOptions& m_opt;
  Report& m_report;
  unsigned m_threads;
  VerifySummary m_sum;
  std::optional<OpenedDb> m_db;

  // Trust anchors.
  std::string m_origin;
  std::optional<note::Verifier> m_ledger;
  std::optional<Entry> m_genesis;
  std::map<std::string, std::string> m_pinned_actors; // kid -> actor

  // Checkpoints to compare with the ledger, sorted by size.
  std::vector<Expectation> m_expect;
  size_t m_next_expect = 0;
  uint64_t m_ledger_rows = 0;

  // Fold state (owned through a pointer: see retain_until_exit()).
  std::unique_ptr<FoldStore> m_store_owner = std::make_unique<FoldStore>(m_opt.hot_docs);
  FoldStore& m_store = *m_store_owner;
  // What the second connection reads while the ledger is folded.
  std::unique_ptr<Background> m_background = std::make_unique<Background>();
  // Keys entries carry, found while the ledger is read; rows point into it
  // until they are folded.
  CandidateKeys m_candidate_keys;
  merkle::CompactRange m_range;
  std::optional<uint64_t> m_last_row_seq;
  Hash256 m_last_leaf = genesis_prev();
  std::optional<std::pair<uint64_t, int64_t>> m_last_time; // seq, t_ms
  // Signer keys by kid, with the actor they are registered to (valid while
  // the keys table is unchanged).
  std::unordered_map<std::string, std::pair<std::string, PublicKey>> m_signer_cache;
  uint64_t m_signer_cache_version = 0;

  Clock::time_point m_last_progress{};
};

void Verifier::progress(Phase phase,
                        uint64_t done,
                        uint64_t total,
                        bool force) {
  if (!m_opt.progress) {
    return;
  }
  const auto now = Clock::now();
  if (!force && now - m_last_progress < k_progress_interval) {
    return;
  }
  m_last_progress = now;
  m_opt.progress(Progress{phase, done, total});
}

Result<VerifySummary> Verifier::run() {
  const auto start = Clock::now();
  m_sum.vault = m_opt.vault.string();
  m_sum.threads = m_threads;
  m_sum.scope = m_opt.incident;
  m_sum.rehashed = m_opt.rehash == Rehash::yes;
  struct stat st {};
  if (::stat(m_opt.vault.c_str(), &st) != 0) {
    return fail_errno("open vault " + m_opt.vault.string());
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::invalid_input,
                fmt::format("{}: not a directory", m_opt.vault.string()));
  }
  CUSTODY_TRY_ASSIGN(OpenedDb opened, open_database(m_opt.vault));
  m_db.emplace(std::move(opened));
  m_sum.db_access = m_db->how;
  const size_t integrity_at = m_report.findings().size();
  CUSTODY_TRY(check_database(m_db->db, m_db->db_path, m_report));
  // integrity_check and the stored tables are read meanwhile (joined on every
  // path: a jthread joins when it goes out of scope).
  Background& background = *m_background;
  std::jthread reader([&] { read_in_background(m_db->name, background); });
  CUSTODY_TRY(establish_trust());
  CUSTODY_TRY(load_checkpoints());
  const auto entries_start = Clock::now();
  CUSTODY_TRY(fold_ledger());
  m_sum.seconds_entries = seconds_since(entries_start);
  reader.join();
  m_report.add_at(integrity_at, std::move(background.integrity));
  if (background.error) {
    return fail(background.error->code,
                "read the projection tables: " + background.error->message);
  }
  CUSTODY_TRY(compare_projections(background.tables));
  if (m_db->in_place) {
    // Immutable mode assumed nobody wrote the file; make sure.
    if (stamp_of(m_db->db_path) != m_db->db_stamp
        || stamp_of(m_opt.vault / "ledger.db-wal") != m_db->wal_stamp) {
      return fail(Errc::conflict,
                  fmt::format("{} changed while it was verified (a writer is "
                              "active); verify a quiescent copy of the vault",
                              m_db->db_path.string()));
    }
  }
  m_db.reset(); // drop the snapshot copy before hashing gigabytes
  const auto objects_start = Clock::now();
  CUSTODY_TRY(check_objects());
  m_sum.seconds_objects = seconds_since(objects_start);
  m_sum.seconds_total = seconds_since(start);
  return m_sum;
}

void Verifier::retain_until_exit() {
  struct Retained {
    std::unique_ptr<FoldStore> store;
    std::unique_ptr<Background> background;
  };
  static std::mutex mutex;
  // Deliberately never destroyed (see VerifyOptions::exiting); reachable from
  // this static, so leak checkers stay quiet.
  static auto* retained = new std::vector<Retained>();
  std::lock_guard lock(mutex);
  retained->push_back(Retained{std::move(m_store_owner), std::move(m_background)});
}

Result<void> Verifier::establish_trust() {
  const TrustedKeys& pinned = m_opt.trusted;
  for (const auto& a : pinned.actors) {
    m_pinned_actors.emplace(a.kid, a.actor);
  }
  m_sum.actors_pinned = pinned.actors.size();
  std::optional<note::Verifier> pinned_ledger;
  if (pinned.ledger_vkey) {
    auto v = note::parse_vkey(*pinned.ledger_vkey);
    if (!v) {
      return fail(Errc::invalid_input,
                  "trusted ledger key: " + v.error().message);
    }
    pinned_ledger = std::move(*v);
  }

  const Identity identity = read_identity(m_opt.vault, m_report);

  // The genesis entry, read on its own: it decides what the rest is checked
  // against.
  {
    CUSTODY_TRY_ASSIGN(
        auto stmt,
        m_db->db.prepare("SELECT seq, entry FROM ledger ORDER BY seq LIMIT 1"));
    CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
    if (row && stmt.column_int(0) == 0) {
      auto e = decode_entry(stmt.column_blob(1));
      if (e && e->type == "vault_init" && e->seq == 0) {
        m_genesis = std::move(*e);
      }
    }
  }
  const std::optional<std::string> genesis_origin =
      m_genesis ? std::optional<std::string>(m_genesis->origin) : std::nullopt;
  const std::optional<std::string> genesis_ledger =
      m_genesis ? std::optional<std::string>(
          m_genesis->fields.at("ledger_key").get<std::string>())
                : std::nullopt;

  // Origin: pinned, else genesis, else vault.json (trust on first use).
  if (pinned.origin) {
    m_origin = *pinned.origin;
    m_sum.origin_pinned = true;
  } else if (genesis_origin) {
    m_origin = *genesis_origin;
  } else if (identity.origin) {
    m_origin = *identity.origin;
  }
  // Ledger key likewise.
  std::string ledger_source;
  if (pinned_ledger) {
    m_ledger = pinned_ledger;
    m_sum.ledger_key_pinned = true;
  } else {
    for (const auto& candidate : {genesis_ledger, identity.ledger_key}) {
      if (!candidate) {
        continue;
      }
      if (auto v = note::parse_vkey(*candidate); v) {
        m_ledger = std::move(*v);
        break;
      }
    }
  }
  if (m_ledger) {
    m_sum.ledger_vkey = note::format_vkey(m_ledger->name, m_ledger->key);
    if (!m_origin.empty() && m_ledger->name != m_origin) {
      m_report.other(
          Severity::finding,
          code::identity,
          "vault",
          fmt::format("the ledger key is named '{}', not after the origin '{}'",
                      m_ledger->name,
                      m_origin));
    }
  } else {
    m_report.other(Severity::finding,
                   code::identity,
                   "vault",
                   "no usable ledger key: neither pinned nor readable from the "
                   "genesis entry or "
                   "vault.json, so no checkpoint can be verified");
  }
  m_sum.origin = m_origin;

  if (!m_sum.origin_pinned || !m_sum.ledger_key_pinned) {
    m_report.other(
        Severity::warning,
        code::trust,
        "trust",
        fmt::format(
            "{} taken from the vault's {} (trust on first use): pin {} with "
            "--trusted-keys so that a vault re-created or replaced under the "
            "same name "
            "is detected",
            !m_sum.origin_pinned && !m_sum.ledger_key_pinned
                ? "origin and ledger key"
                : (!m_sum.origin_pinned ? "origin" : "ledger key"),
            m_genesis ? "genesis entry" : "vault.json",
            !m_sum.origin_pinned && !m_sum.ledger_key_pinned ? "them" : "it"));
  }

  // Cross-checks: vault.json against the genesis entry, pins against both.
  if (!m_genesis) {
    m_report.other(
        Severity::finding,
        code::identity,
        "seq 0",
        "the ledger does not start with a readable vault_init entry");
  } else {
    if (identity.origin && *identity.origin != *genesis_origin) {
      m_report.other(
          Severity::finding,
          code::identity,
          "vault.json",
          fmt::format(
              "names origin '{}' but ledger.db belongs to '{}': the database "
              "comes from another vault",
              *identity.origin,
              *genesis_origin));
    }
    if (identity.ledger_key && *identity.ledger_key != *genesis_ledger) {
      m_report.other(
          Severity::finding,
          code::identity,
          "vault.json",
          fmt::format("names ledger key {} but the genesis entry names {}",
                      *identity.ledger_key,
                      *genesis_ledger));
    }
    if (pinned.origin && *pinned.origin != *genesis_origin) {
      m_report.other(
          Severity::finding,
          code::identity,
          "seq 0",
          fmt::format(
              "the ledger's origin is '{}', not the trusted origin '{}'",
              *genesis_origin,
              *pinned.origin));
    }
    if (pinned_ledger) {
      auto g = note::parse_vkey(*genesis_ledger);
      if (!g || !(g->key == pinned_ledger->key)
          || g->name != pinned_ledger->name) {
        m_report.other(
            Severity::finding,
            code::identity,
            "seq 0",
            fmt::format(
                "the genesis entry names ledger key {}, not the trusted one "
                "({})",
                *genesis_ledger,
                *pinned.ledger_vkey));
      }
    }
    if (!m_pinned_actors.empty()) {
      auto it = m_pinned_actors.find(m_genesis->kid);
      if (it == m_pinned_actors.end() || it->second != m_genesis->actor) {
        m_report.other(
            Severity::finding,
            code::identity,
            "seq 0",
            fmt::format(
                "the vault was created by {} with key {}, which is not a "
                "trusted actor key",
                m_genesis->actor,
                short_hex(m_genesis->kid)));
      }
    }
  }
  if (pinned.origin && identity.origin && *identity.origin != *pinned.origin
      && (!genesis_origin || *identity.origin == *genesis_origin)) {
    m_report.other(Severity::finding,
                   code::identity,
                   "vault.json",
                   fmt::format("names origin '{}', not the trusted origin '{}'",
                               *identity.origin,
                               *pinned.origin));
  }
  return {};
}

Result<void> Verifier::load_checkpoints() {
  CUSTODY_TRY_ASSIGN(auto count,
                     m_db->db.prepare("SELECT COUNT(*) FROM ledger"));
  CUSTODY_TRY(count.step());
  m_ledger_rows = static_cast<uint64_t>(count.column_int(0));

  struct Stored {
    uint64_t size;
    std::string root;
    std::string note;
    int64_t t_ms;
    OpenedCheckpoint opened;
  };
  std::vector<Stored> stored;
  {
    CUSTODY_TRY_ASSIGN(
        auto stmt,
        m_db->db.prepare("SELECT tree_size, root, note, t_ms FROM "
                         "checkpoints ORDER BY tree_size"));
    for (;;) {
      CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
      if (!row) {
        break;
      }
      stored.push_back(Stored{static_cast<uint64_t>(stmt.column_int(0)),
                              stmt.column_blob(1),
                              stmt.column_text(2),
                              stmt.column_int(3),
                              {}});
    }
  }
  parallel_for(stored.size(), m_threads, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      stored[i].opened = open_checkpoint(stored[i].note, m_ledger, m_origin);
    }
  });
  std::optional<std::pair<uint64_t, int64_t>> last; // size, t_ms
  for (const Stored& s : stored) {
    const std::string subject = fmt::format("checkpoint {} (stored)", s.size);
    m_sum.stored_checkpoints += 1;
    m_sum.latest_stored_checkpoint =
        std::max(m_sum.latest_stored_checkpoint, s.size);
    if (last && s.t_ms < last->second) {
      m_report.other(
          Severity::finding,
          code::checkpoint_order,
          subject,
          fmt::format(
              "was signed at {}, before the smaller checkpoint {} ({}): "
              "checkpoints were inserted out of order",
              format_rfc3339_ms(s.t_ms),
              last->first,
              format_rfc3339_ms(last->second)));
    }
    last = std::make_pair(s.size, s.t_ms);
    if (!s.opened.cp) {
      m_report.other(Severity::finding, s.opened.code, subject, s.opened.why);
      continue;
    }
    const note::Checkpoint& cp = *s.opened.cp;
    if (cp.size != s.size) {
      m_report.other(Severity::finding,
                     code::checkpoint_malformed,
                     subject,
                     fmt::format("its signed note is for size {}, not {}",
                                 cp.size,
                                 s.size));
    }
    if (s.root.size() != 32
        || !std::equal(
            s.root.begin(),
            s.root.end(),
            cp.root.begin(),
            [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; })) {
      m_report.other(
          Severity::finding,
          code::checkpoint_malformed,
          subject,
          "the root column differs from the root in its signed note");
    }
    m_expect.push_back(Expectation{cp.size, cp.root, subject, std::nullopt});
  }

  for (const fs::path& file : m_opt.checkpoint_files) {
    CheckpointResult result;
    result.source = file.string();
    const std::string subject =
        fmt::format("checkpoint file {}", file.string());
    auto text = read_small_file(file, k_max_checkpoint_file);
    if (!text) {
      if (text.error().code == Errc::invalid_input) { // larger than the limit
        m_report.other(
            Severity::finding,
            code::checkpoint_malformed,
            subject,
            fmt::format("is larger than {} bytes: not a checkpoint note",
                        k_max_checkpoint_file));
        m_sum.external.push_back(std::move(result));
        continue;
      }
      return fail(text.error().code,
                  "checkpoint file: " + text.error().message);
    }
    OpenedCheckpoint opened = open_checkpoint(*text, m_ledger, m_origin);
    if (!opened.cp) {
      m_report.other(Severity::finding, opened.code, subject, opened.why);
      m_sum.external.push_back(std::move(result));
      continue;
    }
    result.size = opened.cp->size;
    result.root_b64 = to_base64(opened.cp->root);
    result.ok = true; // until the fold disagrees
    m_expect.push_back(
        Expectation{opened.cp->size,
                    opened.cp->root,
                    fmt::format("{} (size {})", subject, opened.cp->size),
                    m_sum.external.size()});
    m_sum.external.push_back(std::move(result));
  }
  std::stable_sort(m_expect.begin(),
                   m_expect.end(),
                   [](const Expectation& a, const Expectation& b) {
                     return a.size < b.size;
                   });

  // Two checkpoints of one size with different roots, both signed by the
  // ledger key: proof that the key signed two histories (RFC 6962 §7.3).
  for (size_t i = 0; i < m_expect.size();) {
    size_t j = i + 1;
    while (j < m_expect.size() && m_expect[j].size == m_expect[i].size) {
      ++j;
    }
    for (size_t k = i + 1; k < j; ++k) {
      if (m_expect[k].root != m_expect[i].root) {
        m_report.other(
            Severity::finding,
            code::equivocation,
            fmt::format("checkpoint size {}", m_expect[i].size),
            fmt::format(
                "the ledger key signed two different trees of this size: {} "
                "has root {} and {} has root {}; this is proof that the "
                "history was rewritten by someone holding the ledger key",
                m_expect[i].subject,
                to_base64(m_expect[i].root),
                m_expect[k].subject,
                to_base64(m_expect[k].root)));
      }
    }
    i = j;
  }
  progress(Phase::checkpoints, stored.size(), stored.size(), true);
  return {};
}

void Verifier::check_expectations() {
  const uint64_t size = m_range.size();
  while (m_next_expect < m_expect.size()
         && m_expect[m_next_expect].size == size) {
    Expectation& x = m_expect[m_next_expect++];
    const Hash256 root = m_range.root();
    if (root != x.root) {
      m_report.other(
          Severity::finding,
          code::checkpoint_root,
          x.subject,
          fmt::format(
              "its signed root {} does not match the root of the ledger's "
              "first {} entries ({}): entries up to {} were changed, removed, "
              "inserted or reordered",
              to_base64(x.root),
              size,
              to_base64(root),
              size));
      if (x.external) {
        m_sum.external.at(*x.external).ok = false;
      }
    }
  }
}

// Reads the ledger in chunks and prepares each (decode, leaf hashes,
// signatures on all cores), pushing them to `queue`, then a null chunk.
void Verifier::produce(ChunkQueue& queue,
                       sql::Db& db,
                       std::optional<Error>& read_error) {
  CandidateKeys& keys = m_candidate_keys;
  Team team(m_threads);
  auto stmt = db.prepare(
      "SELECT seq, entry, leaf_hash, kid, sig FROM ledger ORDER BY seq");
  if (!stmt) {
    read_error = stmt.error();
    queue.push(nullptr);
    return;
  }
  bool done = false;
  // Reads the next rows (up to a chunk) into a recycled chunk.
  auto read_chunk = [&] {
    auto chunk = queue.fresh();
    size_t used = 0;
    while (!done && used < k_chunk_entries) {
      auto row = stmt->step();
      if (!row) {
        read_error = row.error();
        done = true;
        break;
      }
      if (!*row) {
        done = true;
        break;
      }
      if (used == chunk->size()) {
        chunk->emplace_back();
      }
      Row& r = (*chunk)[used++];
      r.seq = static_cast<uint64_t>(stmt->column_int(0));
      stmt->column_blob_into(1, r.bytes);
      stmt->column_blob_into(2, r.leaf_col);
      stmt->column_text_into(3, r.kid_col);
      stmt->column_blob_into(4, r.sig);
    }
    chunk->resize(used);
    return chunk;
  };
  // The next chunk is read while the team verifies the current one.
  auto chunk = read_chunk();
  while (!chunk->empty()) {
    std::unique_ptr<std::vector<Row>> next;
    prepare_chunk(*chunk, keys, team, [&] { next = read_chunk(); });
    queue.push(std::move(chunk));
    chunk = std::move(next);
  }
  queue.push(nullptr);
}

Result<void> Verifier::fold_ledger() {
  const uint64_t total = m_ledger_rows;
  check_expectations(); // size 0
  ChunkQueue queue;
  std::optional<Error> read_error;
  sql::Db& db = m_db->db;
  // Producer: reads chunks and prepares them (all cores) while this thread
  // folds.
  std::thread producer([&] {
    try {
      produce(queue, db, read_error);
    } catch (const std::exception& e) {
      read_error = Error{Errc::internal, e.what()};
      queue.push(nullptr);
    }
  });
  uint64_t done = 0;
  std::optional<Error> fold_error;
  try {
    for (;;) {
      auto chunk = queue.pop();
      if (!chunk) {
        break;
      }
      for (Row& row : *chunk) {
        fold_row(row);
        ++done;
      }
      queue.recycle(std::move(chunk));
      progress(Phase::entries, done, total);
    }
  } catch (const std::exception& e) {
    // A bug, not a finding: stop, but let the producer finish first.
    fold_error = Error{Errc::internal,
                       fmt::format("folding entry {}: {}", done, e.what())};
    while (queue.pop()) {
    }
  }
  producer.join();
  if (fold_error) {
    return tl::unexpected(*fold_error);
  }
  if (read_error) {
    return fail(read_error->code, "read the ledger: " + read_error->message);
  }
  progress(Phase::entries, done, total, true);

  m_sum.entries = m_range.size();
  m_sum.root = m_range.root();
  for (; m_next_expect < m_expect.size(); ++m_next_expect) {
    const Expectation& x = m_expect[m_next_expect];
    m_report.other(
        Severity::finding,
        code::truncated,
        x.subject,
        fmt::format(
            "was signed for {} entries, but the ledger has only {}: entries "
            "were removed from its end (truncation or rollback to an older "
            "copy)",
            x.size,
            m_sum.entries));
    if (x.external) {
      m_sum.external.at(*x.external).ok = false;
    }
  }
  uint64_t covered = 0;
  for (const Expectation& x : m_expect) {
    if (!x.external && x.size <= m_sum.entries) {
      covered = std::max(covered, x.size);
    }
  }
  if (covered < m_sum.entries) {
    m_report.other(
        Severity::warning,
        code::uncovered,
        covered + 1 == m_sum.entries
            ? fmt::format("seq {}", covered)
            : fmt::format("seq {}..{}", covered, m_sum.entries - 1),
        "not covered by any stored checkpoint signed by the ledger key (a "
        "crash after "
        "appending, or entries added without the ledger key): run custody "
        "checkpoint");
  }
  return {};
}

void Verifier::fold_row(Row& row) {
  const uint64_t seq = row.seq;
  const uint64_t position = m_range.size();
  // Contiguity: rows are read in seq order, so a jump is a gap.
  const uint64_t expected_seq = m_last_row_seq ? *m_last_row_seq + 1 : 0;
  if (seq < expected_seq) {
    m_report.entry(
        code::seq_gap,
        seq,
        fmt::format(
            "row seq {} repeats or goes back (expected {}): the table was "
            "rebuilt without its constraints",
            seq,
            expected_seq));
  } else if (seq != expected_seq) {
    m_report.entry(
        code::seq_gap,
        expected_seq,
        seq == expected_seq + 1
            ? fmt::format("entry {} is missing: the next row is seq {}",
                          expected_seq,
                          seq)
            : fmt::format("entries {}..{} are missing: the next row is seq {}",
                          expected_seq,
                          seq - 1,
                          seq));
  }
  m_last_row_seq = seq;

  if (row.leaf_col.size() != 32
      || !std::equal(
          row.leaf.begin(),
          row.leaf.end(),
          row.leaf_col.begin(),
          [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); })) {
    m_report.entry(code::leaf_hash,
                   seq,
                   fmt::format("the leaf_hash column ({}) differs from "
                               "SHA-256(0x00 || entry) ({})",
                               short_hex(to_hex(as_bytes(row.leaf_col))),
                               short_hex(row.leaf)));
  }

  if (!row.entry) {
    m_report.entry(code::entry_malformed,
                   seq,
                   fmt::format("not a valid entry: {}", row.error));
  } else {
    const Entry& e = *row.entry;
    if (e.seq != seq) {
      m_report.entry(
          code::seq_mismatch,
          seq,
          fmt::format(
              "the row holds the entry for seq {}: entries were moved or "
              "reordered",
              e.seq));
    }
    if (e.origin != m_origin) {
      m_report.entry(code::origin,
                     seq,
                     fmt::format("origin '{}' is not this vault's ('{}')",
                                 e.origin,
                                 m_origin));
    }
    if (e.prev != m_last_leaf) {
      m_report.entry(
          code::prev,
          seq,
          fmt::format(
              "prev {} does not name the previous entry (leaf hash {}): an "
              "entry before it was removed, inserted or changed",
              short_hex(e.prev),
              short_hex(m_last_leaf)));
    }
    if (m_last_time && e.t_ms < m_last_time->second) {
      m_report.entry(
          code::time,
          seq,
          fmt::format(
              "recorded at {}, earlier than entry {} ({}): t_ms must not "
              "decrease",
              format_rfc3339_ms(e.t_ms),
              m_last_time->first,
              format_rfc3339_ms(m_last_time->second)));
    }
    m_last_time = std::make_pair(seq, e.t_ms);
    if (row.kid_col != e.kid) {
      m_report.entry(
          code::kid_column,
          seq,
          fmt::format("the kid column ({}) differs from the entry's kid ({})",
                      short_hex(row.kid_col),
                      short_hex(e.kid)));
    }

    // Signer: registered to this actor and not revoked, per the state so far.
    if (m_signer_cache_version != m_store.keys_version()) {
      m_signer_cache.clear();
      m_signer_cache_version = m_store.keys_version();
    }
    std::optional<PublicKey> signer;
    if (auto it = m_signer_cache.find(e.kid); it != m_signer_cache.end()
                                              && it->second.first == e.actor
                                              && e.type != "vault_init") {
      signer = it->second.second;
    } else {
      auto key = signer_key(e, m_store);
      if (!key) {
        m_report.entry(code::key, seq, key.error().message);
      } else {
        signer = std::move(*key);
        if (e.type != "vault_init") {
          m_signer_cache.insert_or_assign(e.kid, std::make_pair(e.actor, *signer));
        }
      }
    }
    if (signer) {
      bool valid = false;
      if (row.key && row.sig_ok >= 0 && row.key->raw() == signer->raw()) {
        valid = row.sig_ok == 1;
      } else {
        valid = signer->verify(as_bytes(signed_message(row.bytes)),
                               as_bytes(row.sig));
      }
      if (!valid) {
        m_report.entry(
            code::signature,
            seq,
            fmt::format("signature does not verify with key {} of {}",
                        short_hex(e.kid),
                        e.actor));
      }
    }
    // Pinned actor keys: a pinned key registered to someone else.
    if (e.type == "key_register" && !m_pinned_actors.empty()) {
      const auto kid = e.fields.value("kid", "");
      const auto subject = e.fields.value("subject", "");
      if (auto it = m_pinned_actors.find(kid);
          it != m_pinned_actors.end() && it->second != subject) {
        m_report.entry(
            code::key,
            seq,
            fmt::format(
                "registers key {} to {}, but the trusted keys pin it to {}",
                short_hex(kid),
                subject,
                it->second));
      }
    }
    // A recorded verification's claim about the tree it verified.
    if (e.type == "verify") {
      const auto size = e.fields.value("ledger_size", uint64_t{0});
      const auto claimed = e.fields.value("root", "");
      if (size == position && claimed != to_hex(m_range.root())) {
        m_report.entry(
            code::verify_record,
            seq,
            fmt::format(
                "records a verification of {} entries with root {}, but their "
                "root is {}",
                size,
                short_hex(claimed),
                short_hex(m_range.root())));
      }
    }

    // The rules. An entry of another origin is not applied (the rules would
    // only repeat the origin finding).
    if (position == 0 || !m_genesis || e.origin == m_genesis->origin) {
      auto applied = apply_entry(e, m_store);
      if (!applied) {
        m_report.entry(code::rule,
                       seq,
                       "refused by the custody rules: "
                           + applied.error().message);
      }
    }
  }

  m_range.append(row.leaf);
  m_last_leaf = row.leaf;
  check_expectations();
}

// Returns the document field names that differ between `stored` and `rebuilt`.
std::string differing_fields(const std::string& stored_text,
                             const Json& rebuilt) {
  const Json stored = Json::parse(stored_text, nullptr, false);
  if (stored.is_discarded()) {
    return "the stored document is not JSON";
  }
  if (!stored.is_object() || !rebuilt.is_object()) {
    return "the stored document is not a JSON object";
  }
  std::vector<std::string> names;
  for (const auto& [k, v] : rebuilt.items()) {
    auto it = stored.find(k);
    if (it == stored.end() || *it != v) {
      names.push_back(k);
    }
  }
  for (const auto& [k, v] : stored.items()) {
    if (!rebuilt.contains(k)) {
      names.push_back(k);
    }
  }
  if (names.empty()) {
    return "the stored document is not in canonical form";
  }
  std::string list;
  for (size_t i = 0; i < names.size() && i < 6; ++i) {
    list += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > 6) {
    list += fmt::format(" and {} more", names.size() - 6);
  }
  return fmt::format("field{} {}", names.size() == 1 ? "" : "s", list);
}

Result<void> Verifier::compare_projections(const StoredTables& tables) {
  // The rows were read while the ledger was folded; they are compared on all
  // cores (encoding the rebuilt documents is the costly part), and findings
  // are added in row order.
  struct Compared {
    bool rebuilt = false; // the ledger produces this row
    std::string differs;  // the doc finding, if any
    std::vector<std::string> column_findings;
  };
  uint64_t tables_done = 0;
  for (Table table : k_all_tables) {
    progress(Phase::projections, tables_done++, k_all_tables.size(), true);
    const auto columns = projection_columns(table);
    const auto& rebuilt = m_store.rows(table);
    const std::vector<StoredRow>& stored = tables.at(static_cast<size_t>(table));
    std::vector<Compared> compared(stored.size());
    parallel_for(stored.size(), m_threads, [&](size_t begin, size_t end) {
      std::string expected; // a hot document's encoding, reused
      for (size_t i = begin; i < end; ++i) {
        const StoredRow& r = stored[i];
        Compared& c_out = compared[i];
        auto it = rebuilt.find(r.key);
        if (it == rebuilt.end()) {
          continue;
        }
        c_out.rebuilt = true;
        const FoldStore::Doc& d = it->second;
        // A frozen document is compared as its encoding and image; only a
        // difference decodes it, for the messages.
        bool doc_same = false;
        bool image_same = false;
        if (d.is_frozen) {
          doc_same = d.frozen == r.doc;
          image_same = d.image == r.image;
        } else {
          expected.clear();
          doc_same = cjson::encode_into(d.json, expected) && expected == r.doc;
          image_same = column_image(d.json, columns) == r.image;
        }
        if (doc_same && image_same) {
          continue;
        }
        Json thawed;
        if (d.is_frozen) {
          auto decoded = cjson::decode(d.frozen); // cannot fail: encode() made it
          if (!decoded) {
            c_out.differs = "(not compared: " + decoded.error().message + ")";
            continue;
          }
          thawed = std::move(*decoded);
        }
        const Json& doc = d.is_frozen ? thawed : d.json;
        if (!doc_same) {
          c_out.differs = differing_fields(r.doc, doc);
        }
        if (image_same) {
          continue;
        }
        const auto want_columns = split_image(column_image(doc, columns));
        const auto got_columns = split_image(r.image);
        for (size_t c = 0; c < columns.size(); ++c) {
          const Json* v = doc.contains(columns[c].field)
                              ? &doc.at(columns[c].field)
                              : nullptr;
          const auto& got = got_columns.at(c);
          if (got != want_columns.at(c)) {
            c_out.column_findings.push_back(fmt::format(
                "column {} of the {} table is '{}', the ledger says {}",
                columns[c].name,
                table_name(table),
                got ? *got : std::string("NULL"),
                v != nullptr ? v->dump() : std::string("null")));
          }
        }
      }
    });
    auto finding = [&](std::string_view code,
                       const std::string& key,
                       std::string message) {
      Finding f;
      f.code = std::string(code);
      if (table == Table::items) {
        f.item = key;
        f.subject = fmt::format("item {}", key);
      } else {
        f.subject = fmt::format("{} row '{}'", table_name(table), key);
      }
      f.message = std::move(message);
      m_report.add(std::move(f));
    };
    // Rebuilt rows the table has (rows come in key order, so a duplicate key
    // of a table rebuilt without its constraints is counted once).
    size_t matched = 0;
    for (size_t i = 0; i < stored.size(); ++i) {
      const StoredRow& r = stored[i];
      const Compared& c = compared[i];
      if (c.rebuilt && (i == 0 || stored[i - 1].key != r.key)) {
        ++matched;
      }
      if (!c.rebuilt) {
        finding(code::projection_extra,
                r.key,
                fmt::format(
                    "the {} table has a row that no ledger entry produced (an "
                    "out-of-band insert)",
                    table_name(table)));
        continue;
      }
      if (!c.differs.empty()) {
        finding(code::projection_differs,
                r.key,
                fmt::format("the {} table differs from the ledger in {} (an "
                            "out-of-band edit)",
                            table_name(table),
                            c.differs));
      }
      for (const auto& message : c.column_findings) {
        finding(code::projection_column, r.key, message);
      }
    }
    if (matched == rebuilt.size()) {
      continue; // the table has every rebuilt row
    }
    std::unordered_set<std::string_view> seen;
    seen.reserve(stored.size());
    for (const StoredRow& r : stored) {
      seen.insert(r.key);
    }
    for (const auto* row : m_store.sorted(table)) {
      const std::string& key = row->first;
      if (seen.count(key) == 0) {
        finding(code::projection_missing,
                key,
                fmt::format("the ledger produces this {} row, but the table "
                            "does not have it (an "
                            "out-of-band delete)",
                            table_name(table)));
      }
    }
  }
  return {};
}

struct ObjectWork {
  std::string sha; // hex
  fs::path path;
  std::vector<std::string> items;
  std::vector<uint64_t> sizes; // recorded size per item
  // Results.
  bool present = false;
  bool regular = false;
  uint64_t size = 0;
  mode_t mode = 0;
  std::string error;
  std::optional<Hash256> digest;
};

Result<void> Verifier::check_objects() {
  if (!m_opt.incident.empty()
      && m_store.rows(Table::incidents).count(m_opt.incident) == 0) {
    return fail(Errc::not_found,
                fmt::format("--incident {}: no such incident in this ledger",
                            m_opt.incident));
  }
  std::unordered_set<std::string> named;
  std::map<std::string, ObjectWork> by_sha;
  m_store.thaw_all(Table::items);
  for (const auto* row : m_store.sorted(Table::items)) {
    const std::string& id = row->first;
    const Json& doc = row->second.json;
    const Json& sha = doc.at("sha256");
    if (!sha.is_string()) {
      if (m_opt.incident.empty() || doc.at("incident") == m_opt.incident) {
        m_sum.items += 1; // a cloud snapshot: no bytes here
      }
      continue;
    }
    const auto hex = sha.get<std::string>();
    named.insert(hex);
    if (!m_opt.incident.empty() && doc.at("incident") != m_opt.incident) {
      continue;
    }
    m_sum.items += 1;
    ObjectWork& w = by_sha[hex];
    w.sha = hex;
    w.path = object_path(m_opt.vault, hex);
    w.items.push_back(id);
    w.sizes.push_back(doc.at("size").get<uint64_t>());
  }
  std::vector<ObjectWork*> work;
  work.reserve(by_sha.size());
  uint64_t total_bytes = 0;
  for (auto& [hex, w] : by_sha) {
    struct stat st {};
    if (::lstat(w.path.c_str(), &st) != 0) {
      w.error = errno == ENOENT ? "" : std::strerror(errno);
      w.present = errno != ENOENT;
      continue;
    }
    w.present = true;
    w.regular = S_ISREG(st.st_mode);
    w.size = static_cast<uint64_t>(st.st_size);
    w.mode = st.st_mode;
    if (w.regular) {
      work.push_back(&w);
      total_bytes += w.size;
    }
  }
  m_sum.objects = by_sha.size();

  if (m_opt.rehash == Rehash::yes) {
    // Largest first, so one big object does not finish last on one core.
    std::sort(
        work.begin(), work.end(), [](const ObjectWork* a, const ObjectWork* b) {
          return a->size > b->size;
        });
    std::atomic<uint64_t> hashed{0};
    std::atomic<size_t> next{0};
    const auto main_thread = std::this_thread::get_id();
    auto hash_one = [&](ObjectWork& w) {
      UniqueFd fd(
          ::open(w.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
      if (!fd) {
        w.error = std::strerror(errno);
        return;
      }
      ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
      std::vector<char> buf(k_read_block);
      Sha256 h;
      for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          w.error = std::strerror(errno);
          return;
        }
        if (n == 0) {
          break;
        }
        h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
        hashed.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        if (std::this_thread::get_id() == main_thread) {
          progress(Phase::objects,
                   hashed.load(std::memory_order_relaxed),
                   total_bytes);
        }
      }
      w.digest = h.final();
    };
    auto worker = [&] {
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= work.size()) {
          return;
        }
        hash_one(*work[i]);
      }
    };
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < m_threads && i < work.size(); ++i) {
      helpers.emplace_back(worker);
    }
    worker();
    for (auto& t : helpers) {
      t.join();
    }
    m_sum.bytes_hashed = hashed.load();
    progress(Phase::objects, m_sum.bytes_hashed, total_bytes, true);
  }

  const fs::path store = m_opt.vault / "objects";
  for (const auto& [hex, w] : by_sha) {
    const std::string rel =
        fmt::format("objects/sha256/{}/{}", hex.substr(0, 2), hex.substr(2));
    for (size_t i = 0; i < w.items.size(); ++i) {
      const std::string& item = w.items[i];
      if (!w.present) {
        m_report.item(
            code::object_missing,
            item,
            fmt::format("its object {} is missing from the store", rel));
        continue;
      }
      if (!w.error.empty() && !w.regular) {
        m_report.item(
            code::object_unreadable,
            item,
            fmt::format("its object {} cannot be examined: {}", rel, w.error));
        continue;
      }
      if (!w.regular) {
        m_report.item(code::object_not_regular,
                      item,
                      fmt::format("its object {} is not a regular file", rel));
        continue;
      }
      if (w.size != w.sizes[i]) {
        m_report.item(
            code::object_size,
            item,
            fmt::format("its object {} has {} bytes, the entry recorded {}",
                        rel,
                        w.size,
                        w.sizes[i]));
      }
      if (m_opt.rehash == Rehash::yes) {
        if (!w.error.empty()) {
          m_report.item(
              code::object_unreadable,
              item,
              fmt::format("its object {} cannot be read: {}", rel, w.error));
        } else if (w.digest && to_hex(*w.digest) != hex) {
          m_report.item(code::object_mismatch,
                        item,
                        fmt::format("its object {} does not match the recorded "
                                    "SHA-256: its bytes "
                                    "hash to {}",
                                    rel,
                                    to_hex(*w.digest)));
        }
      }
    }
    if (w.present && w.regular && (w.mode & 0222U) != 0) {
      m_report.other(
          Severity::warning,
          code::object_mode,
          fmt::format("object {}", short_hex(hex)),
          fmt::format(
              "{} is writable (mode {:04o}); objects are stored read-only",
              rel,
              w.mode & 07777U));
    }
  }
  check_store_tree(named);
  return {};
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Lists a directory's entry names (not "." or ".."), sorted; empty if
// unreadable.
std::vector<std::string> list_dir(const fs::path& dir, std::string* error) {
  std::vector<std::string> names;
  CHandle<DIR, closedir> d(::opendir(dir.c_str()));
  if (!d) {
    if (error != nullptr) {
      *error = std::strerror(errno);
    }
    return names;
  }
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reports files under objects/ that no entry names (the store must hold
// evidence only), and leftovers of interrupted ingests in objects/tmp.
void Verifier::check_store_tree(const std::unordered_set<std::string>& named) {
  const fs::path objects = m_opt.vault / "objects";
  std::string error;
  const auto top = list_dir(objects, &error);
  if (!error.empty()) {
    m_report.other(Severity::warning,
                   code::object_extra,
                   "objects/",
                   fmt::format("cannot be listed: {}", error));
    return;
  }
  for (const std::string& name : top) {
    if (name == "sha256" || name == "tmp") {
      continue;
    }
    m_report.other(Severity::warning,
                   code::object_extra,
                   fmt::format("objects/{}", name),
                   "is not part of the object store layout");
  }
  for (const std::string& leftover : list_dir(objects / "tmp", nullptr)) {
    m_report.other(
        Severity::info,
        code::leftover_tmp,
        fmt::format("objects/tmp/{}", leftover),
        "a leftover of an interrupted ingest (never referenced by the ledger)");
  }
  for (const std::string& dir : list_dir(objects / "sha256", nullptr)) {
    const std::string rel_dir = fmt::format("objects/sha256/{}", dir);
    struct stat st {};
    const fs::path dir_path = objects / "sha256" / dir;
    if (::lstat(dir_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)
        || dir.size() != 2 || !is_lower_hex(dir)) {
      m_report.other(Severity::finding,
                     code::object_extra,
                     rel_dir,
                     "is not an object directory (two lowercase hex digits): "
                     "something other "
                     "than evidence is stored here");
      continue;
    }
    for (const std::string& file : list_dir(dir_path, nullptr)) {
      const std::string hex = dir + file;
      const std::string rel = fmt::format("{}/{}", rel_dir, file);
      if (file.size() != 62 || !is_lower_hex(file)) {
        m_report.other(Severity::finding,
                       code::object_extra,
                       rel,
                       "is not named by a SHA-256 digest: something other than "
                       "evidence is "
                       "stored here");
        continue;
      }
      if (named.count(hex) == 0) {
        m_report.other(Severity::finding,
                       code::object_extra,
                       rel,
                       "is stored, but no ledger entry names this object");
      }
    }
  }
}

} // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
  case Phase::checkpoints:
    return "checkpoints";
  case Phase::entries:
    return "entries";
  case Phase::projections:
    return "projections";
  case Phase::objects:
    return "objects";
  }
  return "?";
}

fs::path object_path(const fs::path& vault, std::string_view sha256_hex) {
  return vault / "objects" / "sha256" / std::string(sha256_hex.substr(0, 2))
         / std::string(sha256_hex.substr(2));
}

Result<TrustedKeys> parse_trusted_keys(std::string_view text) {
  TrustedKeys keys;
  std::set<std::string> kids;
  size_t lineno = 0;
  if (!valid_utf8(text)) {
    return fail(Errc::invalid_input, "trusted keys: not UTF-8 text");
  }
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    auto bad = [&](std::string_view why) {
      return fail(Errc::invalid_input,
                  fmt::format("trusted keys, line {}: {}", lineno, why));
    };
    std::vector<std::string_view> tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size()
             && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
        ++i;
      }
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t'
             && line[i] != '\r') {
        ++i;
      }
      if (i > start) {
        tokens.push_back(line.substr(start, i - start));
      }
    }
    if (tokens.empty() || tokens[0].starts_with("#")) {
      continue;
    }
    const std::string_view directive = tokens[0];
    if (directive == "origin") {
      if (tokens.size() != 2) {
        return bad("expected: origin <origin>");
      }
      if (keys.origin) {
        return bad("origin is given twice");
      }
      if (!note::valid_key_name(tokens[1]) || tokens[1].size() > 200) {
        return bad("invalid origin (no spaces or '+', at most 200 bytes)");
      }
      keys.origin = std::string(tokens[1]);
    } else if (directive == "ledger") {
      if (tokens.size() != 2) {
        return bad("expected: ledger <C2SP verifier key>");
      }
      if (keys.ledger_vkey) {
        return bad("ledger is given twice");
      }
      auto v = note::parse_vkey(tokens[1]);
      if (!v) {
        return bad(v.error().message);
      }
      keys.ledger_vkey = std::string(tokens[1]);
    } else if (directive == "actor") {
      if (tokens.size() != 3) {
        return bad("expected: actor <name> <kid or base64 public key>");
      }
      if (!valid_actor_name(tokens[1])) {
        return bad("invalid actor name");
      }
      std::string kid;
      if (tokens[2].size() == 64 && is_lower_hex(tokens[2])) {
        kid = std::string(tokens[2]);
      } else {
        auto raw = from_base64(tokens[2]);
        if (!raw || raw->size() != 32) {
          return bad(
              "the key must be a kid (64 lowercase hex digits) or a base64 "
              "Ed25519 "
              "public key (32 bytes)");
        }
        auto pub = PublicKey::from_raw(as_bytes(*raw));
        if (!pub) {
          return bad(pub.error().message);
        }
        kid = pub->fingerprint();
      }
      if (!kids.insert(kid).second) {
        return bad(fmt::format("key {} is given twice", short_hex(kid)));
      }
      keys.actors.push_back(TrustedActor{std::string(tokens[1]), kid});
    } else {
      return bad(fmt::format(
          "unknown directive '{}' (expected origin, ledger or actor)",
          directive));
    }
  }
  if (keys.ledger_vkey) {
    const auto v = note::parse_vkey(*keys.ledger_vkey);
    if (keys.origin && v->name != *keys.origin) {
      return fail(
          Errc::invalid_input,
          fmt::format("trusted keys: the ledger key is named '{}', but the "
                      "origin is '{}' "
                      "(a ledger key is named after its vault's origin)",
                      v->name,
                      *keys.origin));
    }
    if (!keys.origin) {
      keys.origin = v->name; // a ledger key pins its origin too
    }
  }
  return keys;
}

Result<TrustedKeys> load_trusted_keys(const fs::path& path) {
  auto text = read_small_file(path, k_max_trusted_keys_file);
  if (!text) {
    return fail(text.error().code, "trusted keys: " + text.error().message);
  }
  auto keys = parse_trusted_keys(*text);
  if (!keys) {
    return fail(keys.error().code,
                fmt::format("{}: {}", path.string(), keys.error().message));
  }
  return keys;
}

std::string format_trusted_keys(const TrustedKeys& keys) {
  std::string out =
      "# custody trusted keys (schemas/FORMAT.md §10.2): keep this file "
      "outside the "
      "vault\n";
  if (keys.origin) {
    out += fmt::format("origin {}\n", *keys.origin);
  }
  if (keys.ledger_vkey) {
    out += fmt::format("ledger {}\n", *keys.ledger_vkey);
  }
  for (const auto& a : keys.actors) {
    out += fmt::format("actor {} {}\n", a.actor, a.kid);
  }
  return out;
}

Result<VerifySummary> verify_vault(const VerifyOptions& options,
                                   Report& report) {
  Verifier verifier(options, report);
  auto summary = verifier.run();
  if (options.exiting) {
    verifier.retain_until_exit();
  }
  return summary;
}

namespace {

std::string human_bytes(uint64_t n) {
  constexpr const char* k_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(k_units)) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n)
                : fmt::format("{:.1f} {}", v, k_units[u]);
}

} // namespace

std::string summary_line(const VerifySummary& s, const Report& report) {
  const uint64_t findings = report.count(Severity::finding);
  const uint64_t warnings = report.count(Severity::warning);
  std::string verdict =
      findings == 0
          ? "OK"
          : fmt::format("FAILED: {} finding{}{}",
                        findings,
                        findings == 1 ? "" : "s",
                        report.first_bad_seq()
                            ? fmt::format(" (first bad entry: seq {})",
                                          *report.first_bad_seq())
                            : std::string());
  std::string objects =
      s.rehashed
          ? fmt::format("{} objects ({} re-hashed)",
                        s.objects,
                        human_bytes(s.bytes_hashed))
          : fmt::format("{} objects (presence and size only)", s.objects);
  size_t external_ok = 0;
  for (const auto& x : s.external) {
    external_ok += x.ok ? 1 : 0;
  }
  return fmt::format(
      "verify: {}: {} entries, {} stored checkpoints, {}/{} external "
      "checkpoints "
      "consistent, {}{}; {} warning{}; {:.1f} s",
      verdict,
      s.entries,
      s.stored_checkpoints,
      external_ok,
      s.external.size(),
      objects,
      s.scope.empty() ? "" : fmt::format(" of {}", s.scope),
      warnings,
      warnings == 1 ? "" : "s",
      s.seconds_total);
}

Json report_json(const VerifySummary& s, const Report& report) {
  Json findings = Json::array();
  for (const Finding& f : report.findings()) {
    findings.push_back(
        Json{{"severity", severity_name(f.severity)},
             {"code", f.code},
             {"seq", f.seq ? Json(*f.seq) : Json(nullptr)},
             {"item", f.item.empty() ? Json(nullptr) : Json(f.item)},
             {"subject", f.subject},
             {"message", f.message}});
  }
  Json suppressed = Json::object();
  for (const auto& [c, n] : report.suppressed()) {
    suppressed[c] = n;
  }
  Json external = Json::array();
  for (const auto& x : s.external) {
    external.push_back(
        Json{{"file", x.source},
             {"size", x.size ? Json(*x.size) : Json(nullptr)},
             {"root", x.root_b64.empty() ? Json(nullptr) : Json(x.root_b64)},
             {"consistent", x.ok}});
  }
  return Json{
      {"format", 1},
      {"tool", k_tool_name},
      {"tool_version", k_tool_version},
      {"vault", s.vault},
      {"ok", report.clean()},
      {"summary", summary_line(s, report)},
      {"trust",
       Json{{"origin", s.origin},
            {"origin_pinned", s.origin_pinned},
            {"ledger_key",
             s.ledger_vkey.empty() ? Json(nullptr) : Json(s.ledger_vkey)},
            {"ledger_key_pinned", s.ledger_key_pinned},
            {"actors_pinned", s.actors_pinned}}},
      {"database", s.db_access},
      {"ledger",
       Json{{"entries", s.entries},
            {"root", to_hex(s.root)},
            {"first_bad_seq",
             report.first_bad_seq() ? Json(*report.first_bad_seq())
                                    : Json(nullptr)}}},
      {"checkpoints",
       Json{{"stored", s.stored_checkpoints},
            {"latest_stored", s.latest_stored_checkpoint},
            {"external", external}}},
      {"objects",
       Json{{"scope", s.scope.empty() ? Json(nullptr) : Json(s.scope)},
            {"items", s.items},
            {"objects", s.objects},
            {"rehash", s.rehashed},
            {"bytes_hashed", s.bytes_hashed}}},
      {"counts",
       Json{{"findings", report.count(Severity::finding)},
            {"warnings", report.count(Severity::warning)},
            {"info", report.count(Severity::info)}}},
      {"findings", findings},
      {"suppressed", suppressed},
      {"timing",
       Json{{"threads", s.threads},
            {"entries_seconds", s.seconds_entries},
            {"objects_seconds", s.seconds_objects},
            {"total_seconds", s.seconds_total}}},
  };
}

} // namespace custody::verify
