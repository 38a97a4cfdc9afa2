// Attacks on a vault by someone with write access to its files, and the
// finding each must produce (schemas/FORMAT.md §10; custody-anchors §4
// T2 T3 T4 T5 T6 T7 T8 T9 T13 T19 T22).
#include "common/merkle.hpp"
#include "vault/vault.hpp"
#include "verify/report.hpp"

#include <doctest/doctest.h>
#include <functional>

#include <sys/stat.h>

#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace code = custody::verify::code;
namespace fs = std::filesystem;

namespace {

const verify::TrustedKeys k_none{};

// Returns the hex SHA-256 recorded for item `id`.
std::string item_sha(const SmallVault& s, const std::string& id) {
  RawDb raw(s.dir / "ledger.db");
  return raw.get("items", "sha256", fmt::format("key = '{}'", id));
}

void require_clean(const verify::VerifyOptions& o) {
  const Outcome before = run_verify(o);
  INFO(before.text());
  REQUIRE(before.clean());
}

} // namespace

TEST_SUITE("tamper") {
  TEST_CASE(
      "verify: the untouched vault passes with pins and every checkpoint copy, "
      "without warnings") {
    const SmallVault s = make_small_vault(case_dir("clean") / "v");
    const Outcome o = run_verify(audit_options(s));
    INFO(o.text());
    REQUIRE(o.summary);
    CHECK(o.clean());
    CHECK(o.count(verify::Severity::warning) == 0);
    CHECK(o.summary->entries == 11);
    CHECK(o.summary->stored_checkpoints == 3);
    CHECK(o.summary->external.size() == 3);
    for (const auto& x : o.summary->external) {
      CHECK(x.ok);
    }
    CHECK(o.summary->objects == 2);
    CHECK(o.summary->origin_pinned);
    CHECK(o.summary->ledger_key_pinned);

    // Without pins it still passes, saying that it trusted on first use.
    verify::VerifyOptions tofu;
    tofu.vault = s.dir;
    const Outcome t = run_verify(tofu);
    INFO(t.text());
    CHECK(t.clean());
    CHECK(t.has_subject(code::trust, "trust", true));
    CHECK(t.count(verify::Severity::warning) == 1);
  }

  TEST_CASE(
      "verify: one modified byte of a stored object is an object_mismatch of "
      "its item") {
    const SmallVault s = make_small_vault(case_dir("object-byte") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    const fs::path obj =
        verify::object_path(s.dir, item_sha(s, s.incident + "-E1"));
    std::string bytes = read_file(obj);
    bytes[7] = static_cast<char>(bytes[7] ^ 0x20);
    ::chmod(obj.c_str(), 0644);
    write_file(obj, bytes);
    ::chmod(obj.c_str(), 0444);

    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.has_item(code::object_mismatch, s.incident + "-E1"));
    CHECK(r.findings().size() == 1); // nothing else is wrong
    CHECK(r.report.count_code(code::object_mismatch) == 1);

    // --no-rehash checks presence and size only: a same-size edit passes it.
    auto quick = o;
    quick.rehash = verify::Rehash::no;
    const Outcome q = run_verify(quick);
    INFO(q.text());
    CHECK(q.clean());
    CHECK(q.summary->bytes_hashed == 0);
  }

  TEST_CASE(
      "verify: a missing object, a truncated object and a symlinked object are "
      "named by item") {
    const SmallVault s = make_small_vault(case_dir("object-gone") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    const fs::path e1 =
        verify::object_path(s.dir, item_sha(s, s.incident + "-E1"));
    const fs::path e2 =
        verify::object_path(s.dir, item_sha(s, s.incident + "-E2"));
    SUBCASE("missing") {
      fs::remove(e1);
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_item(code::object_missing, s.incident + "-E1"));
      CHECK(r.findings().size() == 1);
    }
    SUBCASE("shorter") {
      const std::string bytes = read_file(e2);
      ::chmod(e2.c_str(), 0644);
      write_file(e2, bytes.substr(0, bytes.size() - 1));
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_item(code::object_size, s.incident + "-E2"));
      CHECK(r.has_item(code::object_mismatch, s.incident + "-E2"));
      CHECK(r.has_subject(
          code::object_mode, "object", true)); // left writable: a warning
    }
    SUBCASE("replaced by a symlink") {
      const fs::path elsewhere = s.root / "elsewhere";
      fs::copy_file(e1, elsewhere);
      fs::remove(e1);
      fs::create_symlink(elsewhere, e1);
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_item(code::object_not_regular, s.incident + "-E1"));
    }
  }

  TEST_CASE(
      "verify: an extra object that no entry names is a finding; tmp leftovers "
      "are info") {
    const SmallVault s = make_small_vault(case_dir("object-extra") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    const std::string planted = "planted evidence\n";
    const std::string hex = to_hex(sha256(planted));
    fs::create_directories(verify::object_path(s.dir, hex).parent_path());
    write_file(verify::object_path(s.dir, hex), planted);
    write_file(s.dir / "objects" / "tmp" / "ingest-abc123", "partial");

    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.has_subject(code::object_extra, hex.substr(2)));
    CHECK(r.findings().size() == 1);
    CHECK(r.has_subject(code::leftover_tmp, "ingest-abc123", true));
    CHECK(r.count(verify::Severity::info) == 1);

    // A file under objects/sha256 that is not even named by a digest.
    write_file(s.dir / "objects" / "sha256" / hex.substr(0, 2) / "notes.txt",
               "x");
    const Outcome r2 = run_verify(o);
    INFO(r2.text());
    CHECK(r2.has_subject(code::object_extra, "notes.txt"));
  }

  TEST_CASE(
      "verify: deleting a middle row (triggers dropped) is a seq gap at that "
      "seq") {
    const SmallVault s = make_small_vault(case_dir("delete-row") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    {
      RawDb raw(s.dir / "ledger.db");
      raw.drop_triggers();
      raw.exec("DELETE FROM ledger WHERE seq = 5");
    }
    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.has(code::seq_gap, 5));
    CHECK(r.has(code::prev, 6)); // entry 6 names entry 5's leaf, not entry 4's
    CHECK(r.report.first_bad_seq() == 5u);
    // The tree is one leaf short of every checkpoint of size 11.
    CHECK(r.has_subject(code::truncated, "checkpoint 11 (stored)"));
    CHECK(r.has_subject(code::truncated, "checkpoint-11.note"));
    CHECK(r.has_subject(code::append_only_guard, "ledger.db", true));
  }

  TEST_CASE(
      "verify: a row inserted twice into a table rebuilt without its "
      "constraints is found") {
    const SmallVault s = make_small_vault(case_dir("duplicate-row") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    {
      RawDb raw(s.dir / "ledger.db");
      raw.drop_triggers();
      raw.exec(
          "CREATE TABLE copy AS SELECT * FROM ledger; DROP TABLE ledger; "
          "ALTER TABLE copy RENAME TO ledger; INSERT INTO ledger SELECT * FROM "
          "ledger WHERE seq = 4");
    }
    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.has(code::seq_gap, 4));
    CHECK(r.has(code::prev, 4)); // the second copy does not follow the first
    CHECK(r.report.first_bad_seq() == 4u);
    CHECK(r.has_subject(code::checkpoint_root, "checkpoint 11 (stored)"));
    CHECK_FALSE(r.has_subject(code::checkpoint_root, "checkpoint 5 (stored)"));
  }

  TEST_CASE(
      "verify: reordering two rows is a seq mismatch at both and breaks the "
      "checkpoint roots") {
    const SmallVault s = make_small_vault(case_dir("reorder") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    {
      RawDb raw(s.dir / "ledger.db");
      raw.drop_triggers();
      // Swap rows 3 and 4 (the two collect entries) with all their columns.
      raw.exec(
          "UPDATE ledger SET seq = 1000 WHERE seq = 3; UPDATE ledger SET seq = "
          "3 WHERE seq = 4; "
          "UPDATE ledger SET seq = 4 WHERE seq = 1000");
    }
    const Outcome r = run_verify(o);
    INFO(r.text());
    CHECK(r.has(code::seq_mismatch, 3));
    CHECK(r.has(code::seq_mismatch, 4));
    CHECK(r.has(code::prev, 3));
    CHECK(r.report.first_bad_seq() == 3u);
    CHECK(r.has_subject(code::checkpoint_root, "checkpoint 5 (stored)"));
    CHECK(r.has_subject(code::checkpoint_root, "checkpoint-5.note"));
    CHECK(r.has_subject(code::checkpoint_root, "checkpoint 11 (stored)"));
  }

  TEST_CASE(
      "verify: truncating the last rows is detected against an external "
      "checkpoint") {
    const SmallVault s = make_small_vault(case_dir("truncate") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    {
      RawDb raw(s.dir / "ledger.db");
      raw.drop_triggers();
      raw.exec(
          "DELETE FROM ledger WHERE seq >= 8; DELETE FROM checkpoints WHERE "
          "tree_size > 8");
    }
    auto only_external = o;
    only_external.checkpoint_files = {
        s.checkpoint_files.back()}; // checkpoint-11.note
    const Outcome r = run_verify(only_external);
    INFO(r.text());
    CHECK(r.has_subject(code::truncated, "checkpoint-11.note"));
    REQUIRE(r.summary);
    CHECK(r.summary->entries == 8);
    CHECK_FALSE(r.summary->external.at(0).ok);
  }

  TEST_CASE(
      "verify: a vault rolled back to an older valid state passes alone but "
      "not against a newer checkpoint") {
    // The attacker replays an older, validly signed state as current: a copy
    // of the whole vault taken before the last entries.
    const fs::path root = case_dir("rollback");
    SmallVault s = make_small_vault(root / "v");
    copy_tree(s.dir, root / "old");
    {
      auto v = vault::Vault::open(s.dir);
      REQUIRE(v);
      REQUIRE(v->incident_update(
          s.alice, s.incident, verify::Json{{"description", "more"}}, "new"));
      auto cp = v->checkpoint();
      REQUIRE(cp);
      write_file(root / "checkpoint-12.note", cp->note);
    }
    verify::VerifyOptions old;
    old.vault = root / "old";
    old.trusted = trusted_keys_of(s);
    SUBCASE(
        "the old state alone, and with its own older checkpoints, is "
        "consistent") {
      old.checkpoint_files = s.checkpoint_files; // sizes 1, 5, 11
      const Outcome r = run_verify(old);
      INFO(r.text());
      CHECK(r.clean());
    }
    SUBCASE("the auditor's newer checkpoint exposes the rollback") {
      old.checkpoint_files = {s.checkpoint_files.back(),
                              root / "checkpoint-12.note"};
      const Outcome r = run_verify(old);
      INFO(r.text());
      CHECK(r.has_subject(code::truncated, "checkpoint-12.note"));
      CHECK(r.report.count_code(code::truncated) == 1); // checkpoint 11 is fine
      CHECK(r.findings().size() == 1);
    }
  }

  TEST_CASE(
      "verify: a history rewritten and re-signed with every key is a fork "
      "against the auditor's copy") {
    // The insider holds alice's, bob's and the ledger key: entry 8 is changed,
    // 9 and 10 re-chained and re-signed, checkpoint 11 re-signed. The vault is
    // internally consistent again; only the checkpoint kept outside shows it.
    const SmallVault s = make_small_vault(case_dir("fork") / "v");
    auto o = audit_options(s);
    require_clean(o);
    {
      RawDb raw(s.dir / "ledger.db");
      raw.drop_triggers();
      Hash256 prev =
          verify::entry_leaf_hash(raw.get("ledger", "entry", "seq = 7"));
      for (uint64_t seq = 8; seq <= 10; ++seq) {
        auto e = *verify::decode_entry(
            raw.get("ledger", "entry", fmt::format("seq = {}", seq)));
        if (seq == 8) {
          e.fields["reason"] = "nothing to see here";
        }
        e.prev = prev;
        const std::string bytes = *verify::encode_entry(e);
        const SigningKey& key = seq == 8 ? s.bob.key : s.alice.key;
        const Signature sig =
            *key.sign(as_bytes(verify::signed_message(bytes)));
        prev = verify::entry_leaf_hash(bytes);
        const std::string where = fmt::format("seq = {}", seq);
        raw.set("ledger", "entry", where, bytes, true);
        raw.set("ledger",
                "leaf_hash",
                where,
                std::string(prev.begin(), prev.end()),
                true);
        raw.set(
            "ledger", "sig", where, std::string(sig.begin(), sig.end()), true);
      }
      std::vector<Hash256> leaves;
      for (uint64_t seq = 0; seq < 11; ++seq) {
        leaves.push_back(verify::entry_leaf_hash(
            raw.get("ledger", "entry", fmt::format("seq = {}", seq))));
      }
      const Hash256 root = merkle::root_of(leaves);
      raw.set("checkpoints",
              "root",
              "tree_size = 11",
              std::string(root.begin(), root.end()),
              true);
      raw.set("checkpoints",
              "note",
              "tree_size = 11",
              sign_checkpoint(s.origin, 11, root, s.ledger_key),
              false);
    }
    SUBCASE(
        "alone, the forged vault is consistent: why checkpoints must be kept "
        "outside") {
      o.checkpoint_files.clear();
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.clean());
    }
    SUBCASE(
        "against the auditor's checkpoint 11 it is a fork, and the two notes "
        "prove it") {
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::checkpoint_root, "checkpoint-11.note"));
      CHECK(r.has_subject(code::equivocation, "checkpoint size 11"));
      CHECK_FALSE(r.has_subject(code::checkpoint_root, "checkpoint-5.note"));
    }
  }

  TEST_CASE(
      "verify: two checkpoints of one size with different roots are an "
      "equivocation") {
    const SmallVault s = make_small_vault(case_dir("equivocation") / "v");
    auto o = audit_options(s);
    require_clean(o);
    const fs::path bogus = s.root / "bogus-5.note";
    write_file(
        bogus,
        sign_checkpoint(s.origin, 5, sha256("another history"), s.ledger_key));
    SUBCASE("an external note against the stored one") {
      o.checkpoint_files = {bogus};
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::equivocation, "checkpoint size 5"));
      CHECK(r.has_subject(code::checkpoint_root, "bogus-5.note"));
    }
    SUBCASE("two external notes of the same size") {
      const fs::path other = s.root / "bogus-20.note";
      write_file(other,
                 sign_checkpoint(s.origin, 20, sha256("a"), s.ledger_key));
      const fs::path other2 = s.root / "bogus-20b.note";
      write_file(other2,
                 sign_checkpoint(s.origin, 20, sha256("b"), s.ledger_key));
      o.checkpoint_files = {other, other2};
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::equivocation, "checkpoint size 20"));
      CHECK(r.has_subject(code::truncated, "bogus-20.note"));
    }
  }

  TEST_CASE(
      "verify: out-of-band edits of projection tables are named by table, row "
      "and field") {
    const SmallVault s = make_small_vault(case_dir("projection") / "v");
    // Every case runs twice: with the default (every document of this small
    // vault stays a JSON tree) and with documents frozen after 16 uses (most
    // rows are compared as their frozen encoding and column image).
    std::vector<verify::VerifyOptions> runs(2, audit_options(s));
    runs[1].hot_docs = 16;
    for (const auto& o : runs) {
      require_clean(o);
    }
    auto run_both = [&](const std::function<void(const Outcome&)>& check) {
      for (const auto& o : runs) {
        CAPTURE(o.hot_docs);
        check(run_verify(o));
      }
    };
    const std::string e1 = s.incident + "-E1";
    RawDb raw(s.dir / "ledger.db");
    SUBCASE("a document field (the item's storage location)") {
      std::string doc = raw.get("items", "doc", fmt::format("key = '{}'", e1));
      const size_t at = doc.find("\"location\":\"vault:");
      REQUIRE(at != std::string::npos);
      doc.replace(at, 18, "\"location\":\"nas1:");
      raw.set("items", "doc", fmt::format("key = '{}'", e1), doc, false);
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_item(code::projection_differs, e1));
        REQUIRE(r.findings().size() == 1);
        CHECK(r.findings()[0].message.find("field location")
              != std::string::npos);
      });
    }
    SUBCASE("a typed column only") {
      raw.exec(fmt::format("UPDATE items SET sha256 = '{}' WHERE key = '{}'",
                           std::string(64, 'a'),
                           e1));
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_item(code::projection_column, e1));
        CHECK(r.findings().size() == 1);
        REQUIRE(!r.findings().empty());
        CHECK(r.findings()[0].message.find("column sha256 of the items table is 'aaaa")
              != std::string::npos);
      });
    }
    SUBCASE("a typed column set to NULL") {
      raw.exec(fmt::format("UPDATE items SET sha256 = NULL WHERE key = '{}'", e1));
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_item(code::projection_column, e1));
        CHECK(r.findings().size() == 1);
        REQUIRE(!r.findings().empty());
        CHECK(r.findings()[0].message.find("column sha256 of the items table is 'NULL'")
              != std::string::npos);
      });
    }
    SUBCASE("an access document and its item column edited") {
      const std::string access_key = raw.get("accesses", "key", "1 = 1 ORDER BY key LIMIT 1");
      std::string doc = raw.get("accesses", "doc", fmt::format("key = '{}'", access_key));
      const size_t at = doc.find("\"purpose\":\"");
      REQUIRE(at != std::string::npos);
      doc.insert(at + 11, "X");
      raw.set("accesses", "doc", fmt::format("key = '{}'", access_key), doc, false);
      raw.exec(fmt::format("UPDATE accesses SET item = 'INC-2020-01-01-1-E9' WHERE key = '{}'",
                           access_key));
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_subject(code::projection_differs, "accesses row '" + access_key));
        CHECK(r.has_subject(code::projection_column, "accesses row '" + access_key));
        CHECK(r.findings().size() == 2);
        for (const auto& f : r.findings()) {
          if (f.code == code::projection_column) {
            CHECK(f.message.find("column item of the accesses table is 'INC-2020-01-01-1-E9'")
                  != std::string::npos);
          } else {
            CHECK(f.message.find("field purpose") != std::string::npos);
          }
        }
      });
    }
    SUBCASE("a deleted key row") {
      raw.exec("DELETE FROM keys WHERE actor = 'bob'");
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_subject(code::projection_missing,
                            "keys row '" + s.bob.key.public_key().fingerprint()));
        CHECK(r.findings().size() == 1);
      });
    }
    SUBCASE("an inserted incident") {
      raw.exec(
          "INSERT INTO incidents (key, doc, status, opened_seq) VALUES "
          "('INC-2020-01-01-1', '{}', 'closed', 99)");
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_subject(code::projection_extra,
                            "incidents row 'INC-2020-01-01-1'"));
        CHECK(r.findings().size() == 1);
      });
    }
    SUBCASE("the incident status moved back without an entry") {
      std::string doc =
          raw.get("incidents", "doc", fmt::format("key = '{}'", s.incident));
      const size_t at = doc.find("\"status\":\"contained\"");
      REQUIRE(at != std::string::npos);
      doc.replace(at, 20, "\"status\":\"open\"");
      raw.set("incidents",
              "doc",
              fmt::format("key = '{}'", s.incident),
              doc,
              false);
      raw.exec(fmt::format(
          "UPDATE incidents SET status = 'open' WHERE key = '{}'", s.incident));
      run_both([&](const Outcome& r) {
        INFO(r.text());
        CHECK(r.has_subject(code::projection_differs,
                            "incidents row '" + s.incident));
        CHECK(r.has_subject(code::projection_column,
                            "incidents row '" + s.incident));
      });
    }
  }

  TEST_CASE(
      "verify: projection documents frozen during the fold are compared as "
      "exactly as trees") {
    // 600 entries of mostly access/access_result pairs: with hot_docs = 16
    // nearly every access document is frozen during the fold (and compared
    // frozen); the findings must be the same as with every document kept.
    const fs::path root = case_dir("frozen");
    make_big_vault(root / "v", root / "keys", 600, 20, 64);
    verify::VerifyOptions kept;
    kept.vault = root / "v";
    kept.threads = 2;
    kept.hot_docs = 1'000'000;
    verify::VerifyOptions frozen = kept;
    frozen.hot_docs = 16;
    for (const auto* o : {&kept, &frozen}) {
      const Outcome r = run_verify(*o);
      INFO(r.text());
      REQUIRE(r.summary);
      CHECK(r.clean());
    }
    RawDb raw(root / "v" / "ledger.db");
    const std::string first_access =
        raw.get("accesses", "key", "1 = 1 ORDER BY key LIMIT 1");
    const std::string item = raw.get("accesses", "item", fmt::format("key = '{}'", first_access));
    std::string doc = raw.get("accesses", "doc", fmt::format("key = '{}'", first_access));
    const size_t at = doc.find("\"purpose\":\"");
    REQUIRE(at != std::string::npos);
    doc.insert(at + 11, "X");
    raw.set("accesses", "doc", fmt::format("key = '{}'", first_access), doc, false);
    raw.exec(fmt::format("UPDATE accesses SET incident = 'INC-2020-01-01-1' WHERE key = '{}'",
                         first_access));
    raw.exec(fmt::format("UPDATE items SET sha256 = NULL WHERE key = '{}'", item));
    raw.exec("DELETE FROM accesses WHERE key = (SELECT key FROM accesses ORDER BY key "
             "LIMIT 1 OFFSET 3)");
    const Outcome a = run_verify(kept);
    const Outcome b = run_verify(frozen);
    INFO(a.text());
    INFO(b.text());
    CHECK(a.has_subject(code::projection_differs, "accesses row '" + first_access));
    CHECK(a.has_subject(code::projection_column, "accesses row '" + first_access));
    CHECK(a.has_item(code::projection_column, item));
    CHECK(a.has_subject(code::projection_missing, "accesses row '"));
    CHECK(a.findings().size() == 4);
    CHECK(a.text() == b.text());
  }

  TEST_CASE(
      "verify: a database copied from another vault is detected with and "
      "without pins") {
    const fs::path root = case_dir("foreign-db");
    const SmallVault a = make_small_vault(root / "a", "custody.test/vault-a");
    const SmallVault b = make_small_vault(root / "b", "custody.test/vault-b");
    fs::copy_file(a.dir / "ledger.db",
                  b.dir / "ledger.db",
                  fs::copy_options::overwrite_existing);
    SUBCASE("without pins: vault.json disagrees with the genesis entry") {
      verify::VerifyOptions o;
      o.vault = b.dir;
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::identity, "vault.json"));
      CHECK_FALSE(r.clean());
    }
    SUBCASE(
        "with b's pins: origin, genesis key and every checkpoint are foreign") {
      const Outcome r = run_verify(audit_options(b));
      INFO(r.text());
      CHECK(r.has_subject(code::identity, "seq 0"));
      CHECK(r.has(code::origin, 0));
      CHECK(r.report.count_code(code::origin) == 11);
      CHECK(
          r.has_subject(code::checkpoint_signature, "checkpoint 11 (stored)"));
      CHECK(r.has_subject(code::checkpoint_root,
                          "checkpoint-11.note")); // b's own copy
    }
  }

  TEST_CASE(
      "verify: truncated, garbage and foreign checkpoint files are findings, "
      "never a crash") {
    const fs::path root = case_dir("bad-notes");
    const SmallVault s = make_small_vault(root / "v");
    const SmallVault other =
        make_small_vault(root / "other", "custody.test/other");
    auto o = audit_options(s);
    require_clean(o);
    const std::string good = read_file(s.checkpoint_files.back());
    std::string garbage;
    for (int i = 0; i < 300; ++i) {
      garbage.push_back(static_cast<char>((i * 73 + 11) % 256));
    }
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"empty", ""},
        {"half", good.substr(0, good.size() / 2)},
        {"no-signature", good.substr(0, good.find("\n\n") + 2)},
        {"garbage", garbage},
        {"nul", std::string(64, '\0')},
        {"huge", std::string(100 * 1024, 'a')},
        {"text", "this is not a checkpoint\n"},
        {"extension-line",
         *note::sign(note::format_checkpoint(
                         note::Checkpoint{s.origin, 11, sha256("x")})
                         + "extra\n",
                     s.origin,
                     s.ledger_key)},
        {"other-vault", read_file(other.checkpoint_files.back())},
    };
    for (const auto& [name, content] : cases) {
      CAPTURE(name);
      const fs::path file = root / (name + ".note");
      write_file(file, content);
      o.checkpoint_files = {file};
      const Outcome r = run_verify(o);
      INFO(r.text());
      REQUIRE(r.summary);
      const bool named =
          r.has_subject(code::checkpoint_malformed, name + ".note")
          || r.has_subject(code::checkpoint_signature, name + ".note");
      CHECK(named);
      CHECK(r.findings().size() == 1);
      CHECK_FALSE(r.summary->external.at(0).ok);
    }
    SUBCASE(
        "a checkpoint file that does not exist cannot be read: the run fails "
        "(exit 2)") {
      o.checkpoint_files = {root / "nope.note"};
      const Outcome r = run_verify(o);
      REQUIRE(r.error);
      CHECK(r.error->message.find("nope.note") != std::string::npos);
    }
  }

  TEST_CASE(
      "verify: a stored checkpoint whose note or root column was edited is a "
      "finding") {
    const SmallVault s = make_small_vault(case_dir("stored-note") / "v");
    const auto o = audit_options(s);
    require_clean(o);
    RawDb raw(s.dir / "ledger.db");
    raw.drop_triggers();
    SUBCASE("root column") {
      const Hash256 other = sha256("x");
      raw.set("checkpoints",
              "root",
              "tree_size = 5",
              std::string(other.begin(), other.end()),
              true);
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::checkpoint_malformed, "checkpoint 5 (stored)"));
      CHECK(r.findings().size() == 1);
    }
    SUBCASE("a note re-signed by a key other than the ledger key") {
      const auto stranger = *SigningKey::generate();
      const Hash256 root = *hash_from_hex(to_hex(sha256("y")));
      raw.set("checkpoints",
              "note",
              "tree_size = 5",
              sign_checkpoint(s.origin, 5, root, stranger),
              false);
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::checkpoint_signature, "checkpoint 5 (stored)"));
    }
  }

} // TEST_SUITE
