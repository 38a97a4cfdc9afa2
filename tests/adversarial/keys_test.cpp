// Entries signed by keys that may not sign them (schemas/FORMAT.md §3.2;
// custody-anchors §4 T10, T13): each forged entry is otherwise perfect (right
// seq, prev, time, schema and rules) and appended after the tip, so the key
// finding is the only thing that can catch it.
#include <doctest/doctest.h>

#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace code = custody::verify::code;
namespace fs = std::filesystem;

namespace {

// An incident_update: valid for any registered, unrevoked key.
verify::Json update_fields() {
  return verify::Json{{"set", verify::Json{{"description", "forged"}}},
                      {"reason", "x"}};
}

Outcome append_and_verify(const SmallVault& s, const Forged& f) {
  insert_forged(s.dir / "ledger.db", f);
  return run_verify(audit_options(s));
}

} // namespace

TEST_SUITE("keys") {
  TEST_CASE(
      "verify: an entry signed by an unregistered key is a key finding at its "
      "seq") {
    const SmallVault s = make_small_vault(case_dir("unregistered") / "v");
    const auto mallory = *SigningKey::generate();
    const Forged f = forge_entry(s.dir / "ledger.db",
                                 s.origin,
                                 "mallory",
                                 mallory,
                                 "incident_update",
                                 s.incident,
                                 update_fields());
    const Outcome r = append_and_verify(s, f);
    INFO(r.text());
    REQUIRE(f.seq == 11);
    CHECK(r.has(code::key, 11));
    CHECK(r.report.first_bad_seq() == 11u);
    REQUIRE(r.findings().size() == 1);
    CHECK(r.findings()[0].message.find("not registered") != std::string::npos);
  }

  TEST_CASE(
      "verify: an entry signed with a registered key under another actor's "
      "name is refused") {
    const SmallVault s = make_small_vault(case_dir("wrong-actor") / "v");
    // Bob's genuine key, but the entry claims to be alice's.
    const Forged f = forge_entry(s.dir / "ledger.db",
                                 s.origin,
                                 "alice",
                                 s.bob.key,
                                 "incident_update",
                                 s.incident,
                                 update_fields());
    const Outcome r = append_and_verify(s, f);
    INFO(r.text());
    CHECK(r.has(code::key, 11));
    REQUIRE(r.findings().size() == 1);
    CHECK(r.findings()[0].message.find("registered to bob, not to alice")
          != std::string::npos);
  }

  TEST_CASE(
      "verify: an entry signed by a revoked key after its revocation is a key "
      "finding") {
    const SmallVault s = make_small_vault(case_dir("revoked") / "v");
    // carol's key was registered at 9 and revoked at 10; she still has it.
    const Forged f = forge_entry(s.dir / "ledger.db",
                                 s.origin,
                                 "carol",
                                 s.carol,
                                 "incident_update",
                                 s.incident,
                                 update_fields());
    const Outcome r = append_and_verify(s, f);
    INFO(r.text());
    CHECK(r.has(code::key, 11));
    REQUIRE(r.findings().size() == 1);
    CHECK(r.findings()[0].message.find("revoked at entry 10")
          != std::string::npos);
  }

  TEST_CASE("verify: keys and entries of another origin are not this vault's") {
    const fs::path root = case_dir("other-origin");
    const SmallVault a = make_small_vault(root / "a", "custody.test/vault-a");
    const SmallVault b = make_small_vault(root / "b", "custody.test/vault-b");
    SUBCASE("a key registered only in vault a signs an entry for vault b") {
      // a's bob is registered in a; b has its own bob with another key.
      const Forged f = forge_entry(b.dir / "ledger.db",
                                   b.origin,
                                   "bob",
                                   a.bob.key,
                                   "incident_update",
                                   b.incident,
                                   update_fields());
      const Outcome r = append_and_verify(b, f);
      INFO(r.text());
      CHECK(r.has(code::key, 11));
      REQUIRE(r.findings().size() == 1);
      CHECK(r.findings()[0].message.find("not registered in this vault")
            != std::string::npos);
    }
    SUBCASE(
        "an entry made for vault a, signed by a registered key of b, appended "
        "to b") {
      const Forged f = forge_entry(b.dir / "ledger.db",
                                   a.origin,
                                   "alice",
                                   b.alice.key,
                                   "incident_update",
                                   b.incident,
                                   update_fields());
      // The rules refuse to fold a foreign entry, so the attacker cannot make
      // the projection tables agree with it either: those stay as they were.
      insert_forged(b.dir / "ledger.db", f, false);
      const Outcome r = run_verify(audit_options(b));
      INFO(r.text());
      CHECK(r.has(code::origin, 11));
      CHECK(r.report.first_bad_seq() == 11u);
      for (const auto& finding : r.findings()) {
        CHECK(
            (finding.code == code::origin || finding.code == code::uncovered));
      }
    }
    SUBCASE("a genuine entry of vault a replayed into vault b") {
      // Row 11 of b gets a's genuine entry 8 (signed by a's bob).
      RawDb ra(a.dir / "ledger.db");
      const std::string bytes = ra.get("ledger", "entry", "seq = 8");
      const std::string sig = ra.get("ledger", "sig", "seq = 8");
      const std::string kid = ra.get("ledger", "kid", "seq = 8");
      {
        RawDb rb(b.dir / "ledger.db");
        rb.insert_entry(11, bytes, kid, sig);
      }
      const Outcome r = run_verify(audit_options(b));
      INFO(r.text());
      CHECK(r.has(code::seq_mismatch, 11));
      CHECK(r.has(code::origin, 11));
      CHECK(r.has(code::prev, 11));
      CHECK(r.has(code::key, 11));
    }
  }

  TEST_CASE(
      "verify: a pinned key registered to someone else, and an unpinned "
      "genesis key") {
    const SmallVault s = make_small_vault(case_dir("pinned-actors") / "v");
    auto o = audit_options(s);
    SUBCASE("the trusted keys say bob's key is dave's") {
      o.trusted.actors.push_back(
          verify::TrustedActor{"dave", s.bob.key.public_key().fingerprint()});
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has(code::key, 1)); // entry 1 registers it to bob
      CHECK(r.findings().size() == 1);
    }
    SUBCASE("the genesis key is not among the trusted actor keys") {
      o.trusted.actors = {
          verify::TrustedActor{"alice", s.bob.key.public_key().fingerprint()}};
      const Outcome r = run_verify(o);
      INFO(r.text());
      CHECK(r.has_subject(code::identity, "seq 0"));
    }
  }

} // TEST_SUITE
