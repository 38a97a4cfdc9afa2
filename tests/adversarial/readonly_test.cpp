// custody verify is read-only (schemas/FORMAT.md §10.3): it changes no byte,
// mode, mtime or ctime of any file in the vault, creates nothing there, and
// works on a read-only copy, with or without a write-ahead log.
#include "vault/vault.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace fs = std::filesystem;

namespace {

void chmod_tree(const fs::path& dir, bool writable) {
  const auto perms =
      fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write;
  const auto opts = writable ? fs::perm_options::add : fs::perm_options::remove;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_symlink()) {
      fs::permissions(
          e.path(), writable ? fs::perms::owner_write : perms, opts);
    }
  }
  fs::permissions(dir, writable ? fs::perms::owner_write : perms, opts);
}

// Appends an entry through the writer and keeps the connection open, so
// that the vault has a live -wal file with committed frames not yet copied
// into ledger.db.
struct OpenWriter {
  vault::Vault v;
  explicit OpenWriter(const SmallVault& s)
      : v(*vault::Vault::open(s.dir)) {
    REQUIRE(v.incident_update(s.alice,
                              s.incident,
                              verify::Json{{"description", "in the wal"}},
                              "wal test"));
    REQUIRE(v.checkpoint());
  }
};

} // namespace

TEST_SUITE("readonly") {
  TEST_CASE(
      "verify changes no byte, mode or time of any vault file (database "
      "without a WAL)") {
    const SmallVault s = make_small_vault(case_dir("ro-plain") / "v");
    REQUIRE_FALSE(fs::exists(s.dir / "ledger.db-wal"));
    const auto before = snapshot_tree(s.dir);
    const Outcome r = run_verify(audit_options(s));
    INFO(r.text());
    CHECK(r.clean());
    CHECK(r.summary->db_access.find("in place") != std::string::npos);
    CHECK(snapshot_tree(s.dir) == before);
  }

  TEST_CASE(
      "verify changes no byte of a vault whose writer is still open (WAL and "
      "-shm present)") {
    const SmallVault s = make_small_vault(case_dir("ro-wal") / "v");
    OpenWriter writer(s);
    REQUIRE(fs::exists(s.dir / "ledger.db-wal"));
    REQUIRE(fs::exists(s.dir / "ledger.db-shm"));
    REQUIRE(fs::file_size(s.dir / "ledger.db-wal") > 0);
    const auto before = snapshot_tree(s.dir);
    auto o = audit_options(s);
    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.clean());
    CHECK(r.summary->entries
          == 12); // the entry that is only in the WAL was read
    CHECK(r.summary->db_access.find("snapshot") != std::string::npos);
    CHECK(snapshot_tree(s.dir) == before);
  }

  TEST_CASE(
      "verify works on a read-only copy of a vault, with or without its WAL") {
    const fs::path root = case_dir("ro-copy");
    const SmallVault s = make_small_vault(root / "v");
    SUBCASE("copied at rest") {
      copy_tree(s.dir, root / "copy");
    }
    SUBCASE(
        "copied while a writer had it open (committed frames only in the "
        "-wal)") {
      OpenWriter writer(s);
      copy_tree(s.dir, root / "copy");
      REQUIRE(fs::file_size(root / "copy" / "ledger.db-wal") > 0);
    }
    chmod_tree(root / "copy", false);
    const auto before = snapshot_tree(root / "copy");
    verify::VerifyOptions o = audit_options(s);
    o.vault = root / "copy";
    const Outcome r = run_verify(o);
    const auto after = snapshot_tree(root / "copy");
    chmod_tree(root / "copy", true); // so the test directory can be removed
    INFO(r.text());
    CHECK(r.clean());
    CHECK(r.summary->entries >= 11);
    CHECK(after == before);
  }

  TEST_CASE(
      "verify: a missing vault, a missing database and a non-custody database "
      "cannot be verified (exit 2)") {
    const fs::path root = case_dir("ro-errors");
    verify::VerifyOptions o;
    SUBCASE("no such directory") {
      o.vault = root / "nothing";
      const Outcome r = run_verify(o);
      REQUIRE(r.error);
      CHECK(r.error->message.find("nothing") != std::string::npos);
    }
    SUBCASE("a directory without ledger.db") {
      fs::create_directories(root / "empty");
      o.vault = root / "empty";
      const Outcome r = run_verify(o);
      REQUIRE(r.error);
      CHECK(r.error->code == Errc::not_found);
    }
    SUBCASE("ledger.db that is not a database") {
      fs::create_directories(root / "junk");
      write_file(root / "junk" / "ledger.db", std::string(8192, 'j'));
      o.vault = root / "junk";
      const Outcome r = run_verify(o);
      REQUIRE(r.error);
    }
    SUBCASE("a SQLite database of something else") {
      fs::create_directories(root / "other");
      { RawDb::create_plain(root / "other" / "ledger.db"); }
      o.vault = root / "other";
      const Outcome r = run_verify(o);
      REQUIRE(r.error);
      CHECK(r.error->message.find("not a custody ledger") != std::string::npos);
    }
  }

} // TEST_SUITE
