// vault::Vault operations: init layout, keys, incidents, add and export
// (access recorded before bytes are released; copies verified after writing).
#include "vault/vault.hpp"

#include "common/time.hpp"
#include "tests/testutil.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace custody;
using namespace custody::vault;
using verify::Table;

namespace {

struct Fixture {
  std::filesystem::path dir = test::case_dir("vault");
  InitResult init;
  Signer alice;
  Vault v;

  Fixture()
    : init(*Vault::init(InitOptions{dir / "v", Identity{"alice", dir / "keys" / "alice.pem", {}},
                                    std::string("custody.test/v")})),
      alice(*load_signer(Identity{"alice", dir / "keys" / "alice.pem", {}})),
      v(*Vault::open(dir / "v")) {}

  std::string incident() {
    auto r = v.incident_open(alice, IncidentOpenOptions{"P1", "VPS 42 compromised", {}, {"hetzner"},
                                                        {}, "", "", "", "", ""});
    REQUIRE(r);
    return (*r)["id"].get<std::string>();
  }
  std::filesystem::path file(const std::string& name, const std::string& content) {
    test::write_file(dir / name, content);
    return dir / name;
  }
};

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

} // namespace

TEST_CASE("vault::Vault::init creates the documented layout with safe modes") {
  Fixture f;
  CHECK(f.init.origin == "custody.test/v");
  CHECK(f.init.actor_key_created);
  CHECK(mode_of(f.dir / "v") == 0700);
  CHECK(mode_of(f.dir / "v" / "keys" / "ledger.pem") == 0600);
  CHECK(mode_of(f.dir / "v" / "vault.json") == 0444);
  CHECK(mode_of(f.dir / "keys" / "alice.pem") == 0600);
  CHECK(mode_of(f.dir / "v" / "objects" / "sha256") == 0700);
  const std::string identity = test::read_file(f.dir / "v" / "vault.json");
  CHECK(identity.find("\"origin\":\"custody.test/v\"") != std::string::npos);
  CHECK(identity.find(f.init.ledger_vkey) != std::string::npos);
  auto genesis = *f.v.ledger().db().prepare("SELECT entry FROM ledger WHERE seq = 0");
  REQUIRE(*genesis.step());
  const auto t0 = verify::decode_entry(genesis.column_blob(0))->t_ms;
  CHECK(identity.find("\"created_at\":\"" + format_rfc3339_ms(t0) + "\"") != std::string::npos);
  // A second init on a non-empty directory is refused and changes nothing.
  auto again = Vault::init(InitOptions{f.dir / "v", Identity{"bob", f.dir / "bob.pem", {}}, {}});
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("not an empty directory") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.dir / "bob.pem"));
}

TEST_CASE("vault::Vault::init reuses an existing key and refuses bad names and origins") {
  const auto dir = test::case_dir("vault-init");
  auto key = *SigningKey::generate();
  REQUIRE(key.save(dir / "carol.pem", std::nullopt));
  auto r = Vault::init(InitOptions{dir / "v", Identity{"carol", dir / "carol.pem", {}}, {}});
  REQUIRE(r);
  CHECK_FALSE(r->actor_key_created);
  CHECK(r->actor_kid == key.public_key().fingerprint());
  CHECK_FALSE(Vault::init(InitOptions{dir / "v2", Identity{"bad name", dir / "x.pem", {}}, {}}));
  auto bad_origin = Vault::init(InitOptions{dir / "v3", Identity{"carol", dir / "carol.pem", {}},
                                            std::string("has space")});
  REQUIRE_FALSE(bad_origin);
  CHECK_FALSE(std::filesystem::exists(dir / "v3")); // cleaned up
}

TEST_CASE("vault::Vault registers and revokes keys; only registered actors sign") {
  Fixture f;
  auto bob = f.v.key_new(f.alice, KeyNewOptions{"bob", f.dir / "keys" / "bob.pem", {}, {}, "analyst"});
  REQUIRE(bob);
  REQUIRE(bob->key_file);
  CHECK(mode_of(*bob->key_file) == 0600);
  const Signer bob_signer = *load_signer(Identity{"bob", *bob->key_file, {}});
  CHECK(f.v.incident_open(bob_signer, IncidentOpenOptions{"P3", "by bob", {}, {}, {}, "", "", "", "", ""}));
  auto revoked = f.v.key_revoke(f.alice, "bob", "", "left the team");
  REQUIRE(revoked);
  CHECK(revoked->size() == 1);
  auto after = f.v.incident_open(bob_signer, IncidentOpenOptions{"P3", "x", {}, {}, {}, "", "", "", "", ""});
  REQUIRE_FALSE(after);
  CHECK(after.error().message.find("revoked") != std::string::npos);
  auto keys = f.v.keys();
  REQUIRE(keys);
  CHECK(keys->size() == 2);
  // Registering the same key twice is refused.
  auto dup = f.v.key_new(f.alice, KeyNewOptions{"bob2", f.dir / "k.pem", {},
                                                bob_signer.key.public_key().to_pem(), ""});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message.find("already registered") != std::string::npos);
}

TEST_CASE("vault::Vault::add records the runbook's custody fields and stores the bytes once") {
  Fixture f;
  const std::string inc = f.incident();
  auto item = f.v.add(f.alice, AddOptions{f.file("auth.log", "line1\nline2\n"), inc, "host-42",
                                          "via scp", "log_export", std::nullopt});
  REQUIRE(item);
  CHECK((*item)["id"] == inc + "-E1");
  CHECK((*item)["sha256"] == to_hex(sha256("line1\nline2\n")));
  CHECK((*item)["size"] == 12);
  CHECK((*item)["collected_by"] == "alice");
  CHECK((*item)["source"] == "host-42");
  CHECK((*item)["notes"] == "via scp");
  CHECK((*item)["location"].get<std::string>().starts_with("vault:custody.test/v/objects/sha256/"));
  CHECK((*item)["original_name"].get<std::string>().ends_with("/auth.log"));
  auto second = f.v.add(f.alice, AddOptions{f.file("copy.log", "line1\nline2\n"), inc, "host-42",
                                            "", "log_export", std::nullopt});
  REQUIRE(second);
  CHECK((*second)["id"] == inc + "-E2");
  size_t objects = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(f.dir / "v" / "objects" / "sha256")) {
    objects += e.is_regular_file() ? 1U : 0U;
  }
  CHECK(objects == 1);
  CHECK((*f.v.incident(inc))["evidence_count"] == 2);
}

TEST_CASE("vault::Vault::add refuses bad input and leaves the ledger unchanged") {
  Fixture f;
  const std::string inc = f.incident();
  const uint64_t before = *f.v.ledger().size();
  SUBCASE("missing file") {
    auto r = f.v.add(f.alice, AddOptions{f.dir / "nope.log", inc, "x", "", "log_export", {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("No such file") != std::string::npos);
  }
  SUBCASE("a directory") {
    auto r = f.v.add(f.alice, AddOptions{f.dir, inc, "x", "", "log_export", {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("not a regular file") != std::string::npos);
  }
  SUBCASE("unknown incident") {
    auto r = f.v.add(f.alice, AddOptions{f.file("a", "a"), "INC-2020-01-01-1", "x", "", "log_export", {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("no incident") != std::string::npos);
  }
  SUBCASE("closed incident") {
    for (const char* to : {"contained", "resolved", "closed"}) {
      REQUIRE(f.v.incident_status(f.alice, inc, to, std::nullopt, ""));
    }
    const uint64_t closed_size = *f.v.ledger().size();
    auto r = f.v.add(f.alice, AddOptions{f.file("b", "b"), inc, "x", "", "log_export", {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("is closed") != std::string::npos);
    CHECK(*f.v.ledger().size() == closed_size);
    return;
  }
  CHECK(*f.v.ledger().size() == before);
}

TEST_CASE("vault::Vault::export_item records the access first and verifies the copy") {
  Fixture f;
  const std::string inc = f.incident();
  REQUIRE(f.v.add(f.alice, AddOptions{f.file("vercel.json", "{\"x\":1}"), inc, "vercel", "",
                                      "api_export", std::nullopt}));
  std::filesystem::create_directories(f.dir / "out");
  auto r = f.v.export_item(f.alice, ExportOptions{inc + "-E1", f.dir / "out", "timeline"});
  REQUIRE(r);
  CHECK(r->file == f.dir / "out" / (inc + "-E1_vercel.json"));
  CHECK(test::read_file(r->file) == "{\"x\":1}");
  CHECK(r->sha256 == to_hex(sha256("{\"x\":1}")));
  CHECK(r->access_seq < r->result_seq);
  CHECK(mode_of(r->file) == 0444);
  auto accesses = f.v.accesses(inc);
  REQUIRE(accesses);
  REQUIRE(accesses->size() == 1);
  CHECK((*accesses)[0]["outcome"] == "ok");
  CHECK((*accesses)[0]["purpose"] == "timeline");
  CHECK((*accesses)[0]["copy_sha256"] == r->sha256);
  // A second export to the same place is refused before anything is recorded.
  const uint64_t before = *f.v.ledger().size();
  auto again = f.v.export_item(f.alice, ExportOptions{inc + "-E1", f.dir / "out", "again"});
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("already exists") != std::string::npos);
  CHECK(*f.v.ledger().size() == before);
}

TEST_CASE("vault::Vault::export_item of a tampered object records a failure and releases nothing") {
  Fixture f;
  const std::string inc = f.incident();
  auto item = f.v.add(f.alice, AddOptions{f.file("e.log", "evidence"), inc, "host", "", "log_export", {}});
  REQUIRE(item);
  const auto obj = f.v.store().object_path(*hash_from_hex((*item)["sha256"].get<std::string>()));
  ::chmod(obj.c_str(), 0644);
  test::write_file(obj, "tampered");
  std::filesystem::create_directories(f.dir / "out");
  auto r = f.v.export_item(f.alice, ExportOptions{inc + "-E1", f.dir / "out", "analysis"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::corrupt);
  CHECK(r.error().message.find("does not match its recorded SHA-256") != std::string::npos);
  CHECK(std::filesystem::is_empty(f.dir / "out"));
  auto accesses = f.v.accesses(inc);
  REQUIRE(accesses->size() == 1);
  CHECK((*accesses)[0]["outcome"] == "failed");
  CHECK((*accesses)[0]["detail"].get<std::string>().find("does not match") != std::string::npos);
}

TEST_CASE("vault::Vault::open refuses a directory that is not a vault, and a foreign database") {
  Fixture f;
  auto none = Vault::open(f.dir / "keys");
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("not a custody vault") != std::string::npos);
  // A ledger copied from another vault does not match this vault's identity.
  auto other = Vault::init(InitOptions{f.dir / "other", Identity{"alice", f.dir / "keys" / "alice.pem", {}},
                                       std::string("custody.test/other")});
  REQUIRE(other);
  std::filesystem::copy_file(f.dir / "other" / "ledger.db", f.dir / "v" / "ledger.db",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(f.dir / "v" / "ledger.db-wal");
  std::filesystem::remove(f.dir / "v" / "ledger.db-shm");
  auto foreign = Vault::open(f.dir / "v");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().message.find("belongs to vault 'custody.test/other'") != std::string::npos);
}
