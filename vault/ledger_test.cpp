// vault::Ledger against schemas/FORMAT.md §3-§7: contiguous signed entries,
// prev links, RFC 6962 checkpoints, append-only triggers, all-or-nothing
// appends and the clock rule.
#include "vault/ledger.hpp"

#include "common/merkle.hpp"
#include "common/time.hpp"
#include "tests/testutil.hpp"

#include <doctest/doctest.h>

using namespace custody;
using namespace custody::vault;
using verify::Table;

namespace {

const char* const k_origin = "custody.test/ledger";

struct Fixture {
  std::filesystem::path dir = test::case_dir("ledger");
  SigningKey ledger_key = *SigningKey::generate();
  Signer alice{"alice", *SigningKey::generate()};
  Ledger ledger = *Ledger::create(dir / "ledger.db", k_origin, ledger_key, alice, "test-host");

  Result<std::string> open() {
    std::string id;
    CUSTODY_TRY(ledger.append(alice, [&](verify::ProjectionStore& s, int64_t now)
                                       -> Result<std::vector<Draft>> {
      CUSTODY_TRY_ASSIGN(id, verify::next_incident_id(now, s));
      return std::vector<Draft>{Draft{"incident_open", id,
                                      Json{{"id", id}, {"severity", "P2"}, {"title", "t"},
                                           {"detected_at_ms", now}, {"reporter", ""},
                                           {"commander", ""}, {"affected_systems", Json::array()},
                                           {"affected_customers", Json::array()},
                                           {"playbook", ""}, {"description", ""},
                                           {"root_cause", ""}}}};
    }));
    return id;
  }
};

struct Row {
  uint64_t seq;
  std::string entry;
  std::string leaf;
  std::string kid;
  std::string sig;
};

std::vector<Row> rows(Ledger& l) {
  auto stmt = *l.db().prepare("SELECT seq, entry, leaf_hash, kid, sig FROM ledger ORDER BY seq");
  std::vector<Row> out;
  while (*stmt.step()) {
    out.push_back(Row{static_cast<uint64_t>(stmt.column_int(0)), stmt.column_blob(1),
                      stmt.column_blob(2), stmt.column_text(3), stmt.column_blob(4)});
  }
  return out;
}

} // namespace

TEST_CASE("vault::Ledger::create writes a signed genesis and checkpoint 1") {
  Fixture f;
  const auto all = rows(f.ledger);
  REQUIRE(all.size() == 1);
  auto e = verify::decode_entry(all[0].entry);
  REQUIRE(e);
  CHECK(e->type == "vault_init");
  CHECK(e->seq == 0);
  CHECK(e->prev == verify::genesis_prev());
  CHECK(e->fields["ledger_key"] == ledger_vkey(k_origin, f.ledger_key));
  CHECK(f.alice.key.public_key().verify(as_bytes(verify::signed_message(all[0].entry)),
                                        as_bytes(all[0].sig)));
  auto cp = f.ledger.latest_checkpoint();
  REQUIRE(cp);
  REQUIRE(cp->has_value());
  CHECK((*cp)->checkpoint.size == 1);
  auto vkey = note::parse_vkey(ledger_vkey(k_origin, f.ledger_key));
  auto opened = note::open((*cp)->note, {*vkey});
  REQUIRE(opened);
  CHECK(note::parse_checkpoint(opened->text)->root == verify::entry_leaf_hash(all[0].entry));
  // Reopening finds the origin from the ledger itself.
  auto again = Ledger::open(f.dir / "ledger.db");
  REQUIRE_MESSAGE(again, (again ? "" : again.error().message));
  CHECK(again->origin() == k_origin);
  CHECK_FALSE(Ledger::create(f.dir / "ledger.db", k_origin, f.ledger_key, f.alice, "h"));
}

TEST_CASE("vault::Ledger appends contiguous, linked, signed entries; checkpoint matches RFC 6962") {
  Fixture f;
  for (int i = 0; i < 6; ++i) {
    REQUIRE(f.open());
  }
  auto cp = f.ledger.checkpoint(f.ledger_key);
  REQUIRE(cp);
  const auto all = rows(f.ledger);
  REQUIRE(all.size() == 7);
  std::vector<Hash256> leaves;
  Hash256 prev = verify::genesis_prev();
  for (const Row& r : all) {
    auto e = verify::decode_entry(r.entry);
    REQUIRE(e);
    CHECK(e->seq == r.seq);
    CHECK(e->prev == prev);
    const Hash256 leaf = verify::entry_leaf_hash(r.entry);
    CHECK(std::string(leaf.begin(), leaf.end()) == r.leaf);
    CHECK(r.kid == f.alice.key.public_key().fingerprint());
    CHECK(f.alice.key.public_key().verify(as_bytes(verify::signed_message(r.entry)),
                                          as_bytes(r.sig)));
    leaves.push_back(leaf);
    prev = leaf;
  }
  CHECK(cp->checkpoint.size == 7);
  CHECK(cp->checkpoint.root == merkle::root_of(leaves));
  // Unchanged ledger: the same checkpoint comes back, no new row.
  auto again = f.ledger.checkpoint(f.ledger_key);
  REQUIRE(again);
  CHECK(again->note == cp->note);
}

TEST_CASE("vault::Ledger appends all of a batch or nothing") {
  Fixture f;
  REQUIRE(f.open());
  const uint64_t before = *f.ledger.size();
  // The second draft breaks a rule (wrong item number): the first must not land either.
  auto r = f.ledger.append(f.alice, [](verify::ProjectionStore&, int64_t now)
                                      -> Result<std::vector<Draft>> {
    const std::string inc = "INC-" + format_utc_day(now) + "-1";
    Json status{{"from", "open"}, {"to", "contained"}, {"at_ms", now}, {"note", ""}};
    Json bad{{"from", "open"}, {"to", "closed"}, {"at_ms", now}, {"note", ""}};
    return std::vector<Draft>{Draft{"incident_status", inc, status},
                              Draft{"incident_status", inc, bad}};
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("refused:") == 0);
  CHECK(*f.ledger.size() == before);
  auto inc = f.ledger.get(Table::incidents, "INC-" + format_utc_day(now_ms()) + "-1");
  REQUIRE(inc);
  CHECK((**inc)["status"] == "open");
}

TEST_CASE("vault::Ledger refuses to append or sign when the clock went backwards") {
  Fixture f;
  REQUIRE(f.open());
  const int64_t earlier = now_ms() - 3'600'000;
  f.ledger.set_clock([earlier] { return earlier; });
  const uint64_t before = *f.ledger.size();
  auto r = f.open();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("clock") != std::string::npos);
  CHECK(r.error().message.find("earlier than the last ledger entry") != std::string::npos);
  CHECK(*f.ledger.size() == before);
  auto cp = f.ledger.checkpoint(f.ledger_key);
  REQUIRE_FALSE(cp);
  CHECK(cp.error().message.find("clock") != std::string::npos);
}

TEST_CASE("vault::Ledger triggers refuse UPDATE, DELETE and gaps") {
  Fixture f;
  REQUIRE(f.open());
  auto& db = f.ledger.db();
  auto upd = db.exec("UPDATE ledger SET kid = kid WHERE seq = 0");
  REQUIRE_FALSE(upd);
  CHECK(upd.error().message.find("append-only") != std::string::npos);
  auto del = db.exec("DELETE FROM ledger WHERE seq = 1");
  REQUIRE_FALSE(del);
  CHECK(del.error().message.find("append-only") != std::string::npos);
  auto gap = db.exec("INSERT INTO ledger (seq, entry, leaf_hash, kid, sig) VALUES "
                     "(5, x'00', zeroblob(32), printf('%064d', 0), zeroblob(64))");
  REQUIRE_FALSE(gap);
  CHECK(gap.error().message.find("contiguous") != std::string::npos);
  CHECK_FALSE(db.exec("DELETE FROM checkpoints"));
  // Defensive mode: the schema cannot be edited through SQL.
  CHECK_FALSE(db.exec("PRAGMA writable_schema = ON; DELETE FROM sqlite_master WHERE name = 'ledger_no_delete'"));
}

TEST_CASE("vault::Ledger never signs a checkpoint inconsistent with the previous one") {
  Fixture f;
  REQUIRE(f.open());
  REQUIRE(f.ledger.checkpoint(f.ledger_key));
  auto& db = f.ledger.db();
  REQUIRE(db.exec("DROP TRIGGER ledger_no_update"));
  SUBCASE("entry bytes rewritten, cached leaf hash recomputed to match") {
    // A careful editor: entry 1 says something else, and its cache agrees.
    auto stmt = *db.prepare("SELECT entry FROM ledger WHERE seq = 1");
    REQUIRE(*stmt.step());
    std::string bytes = stmt.column_blob(0);
    bytes.replace(bytes.find("\"title\":\"t\""), 11, "\"title\":\"x\"");
    const Hash256 leaf = verify::entry_leaf_hash(bytes);
    auto upd = *db.prepare("UPDATE ledger SET entry = ?1, leaf_hash = ?2 WHERE seq = 1");
    upd.bind_blob(1, as_bytes(bytes)).bind_blob(2, leaf);
    REQUIRE(upd.run());
    REQUIRE(f.open()); // the tip is intact, so appending goes on
    auto cp = f.ledger.checkpoint(f.ledger_key);
    REQUIRE_FALSE(cp);
    CHECK(cp.error().code == Errc::corrupt);
    CHECK(cp.error().message.find("no longer match checkpoint 2") != std::string::npos);
  }
  SUBCASE("entry bytes rewritten, cache left alone") {
    REQUIRE(db.exec("UPDATE ledger SET entry = CAST(replace(CAST(entry AS TEXT), '\"title\":\"t\"', "
                    "'\"title\":\"y\"') AS BLOB) WHERE seq = 1"));
    auto cp = f.ledger.checkpoint(f.ledger_key);
    REQUIRE_FALSE(cp);
    CHECK(cp.error().message.find("entry 1 does not match its leaf hash") != std::string::npos);
  }
  SUBCASE("the tip's bytes rewritten: no new entry chains to them") {
    REQUIRE(db.exec("UPDATE ledger SET entry = CAST(replace(CAST(entry AS TEXT), '\"title\":\"t\"', "
                    "'\"title\":\"z\"') AS BLOB) WHERE seq = 1"));
    auto r = f.open();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("entry 1 does not match its leaf hash; refusing to write")
          != std::string::npos);
  }
}

TEST_CASE("vault::Ledger refuses an actor whose key is not registered") {
  Fixture f;
  Signer mallory{"mallory", *SigningKey::generate()};
  auto r = f.ledger.append(mallory, Draft{"key_register", "",
                                          Json{{"subject", "mallory"},
                                               {"kid", mallory.key.public_key().fingerprint()},
                                               {"public_key", to_base64(mallory.key.public_key().raw())},
                                               {"comment", ""}}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("not registered in this vault") != std::string::npos);
  // Alice's key presented under another name is refused too.
  Signer alias{"bob", f.alice.key};
  auto r2 = f.open();
  REQUIRE(r2);
  auto r3 = f.ledger.append(alias, Draft{"incident_update", *r2,
                                         Json{{"set", Json{{"title", "x"}}}, {"reason", ""}}});
  REQUIRE_FALSE(r3);
  CHECK(r3.error().message.find("registered to alice") != std::string::npos);
}
