// The custody rules of verify/projection.cpp (schemas/FORMAT.md §"Rules").
#include "verify/projection.hpp"

#include "common/note.hpp"

#include <doctest/doctest.h>

#include <memory>

using namespace custody;
using namespace custody::verify;

namespace {

const char* const k_origin = "custody.test/v1";
constexpr int64_t k_t0 = 1764777600000; // 2025-12-03T16:00:00Z

struct World {
  MemoryProjection store;
  SigningKey ledger = *SigningKey::generate();
  SigningKey alice = *SigningKey::generate();
  SigningKey bob = *SigningKey::generate();
  uint64_t seq = 0;
  int64_t t = k_t0;
  int refusals = 0; // entries apply_entry refused

  Result<void> add(const std::string& actor, const SigningKey& key, const std::string& type,
                   const std::string& incident, Json fields) {
    Entry e;
    e.origin = k_origin;
    e.seq = seq;
    e.type = type;
    e.t_ms = t;
    e.actor = actor;
    e.kid = key.public_key().fingerprint();
    e.incident = incident;
    e.fields = std::move(fields);
    CUSTODY_TRY(encode_entry(e));
    CUSTODY_TRY_ASSIGN(const PublicKey signer, signer_key(e, store));
    if (!(signer == key.public_key())) {
      return fail(Errc::invalid_input, "signer mismatch");
    }
    // apply_entry's contract: a refused entry leaves the store unchanged (the
    // verifier relies on it instead of undoing writes).
    auto before = std::make_unique<MemoryProjection>();
    for (Table table : k_all_tables) {
      for (const auto& [row_key, doc] : store.rows(table)) {
        REQUIRE(before->put(table, row_key, doc));
      }
    }
    auto applied = apply_entry(e, store);
    if (!applied) {
      ++refusals;
      CHECK_MESSAGE(store == *before, "a refused ", type, " entry changed the store");
      return applied;
    }
    ++seq;
    t += 1000;
    return {};
  }

  void init() {
    REQUIRE(add("alice", alice, "vault_init", "",
                Json{{"ledger_key", note::format_vkey(k_origin, ledger.public_key())},
                     {"public_key", to_base64(alice.public_key().raw())},
                     {"tool", "custody"},
                     {"tool_version", "test"},
                     {"host", "h"}}));
  }
  Json open_fields(const std::string& id) {
    return Json{{"id", id},           {"severity", "P1"},          {"title", "ssh brute force"},
                {"detected_at_ms", t - 5000}, {"reporter", "alice"}, {"commander", "alice"},
                {"affected_systems", {"hetzner:server/4294967297"}},
                {"affected_customers", Json::array()}, {"playbook", "vps-compromise"},
                {"description", ""}, {"root_cause", ""}};
  }
  Json status(const std::string& from, const std::string& to) {
    return Json{{"from", from}, {"to", to}, {"at_ms", t}, {"note", ""}};
  }
  Json collect(const std::string& inc, int n) {
    return Json{{"item", inc + "-E" + std::to_string(n)}, {"n", n}, {"kind", "log_export"},
                {"sha256", to_hex(sha256("x"))}, {"size", 1}, {"source", "vercel"},
                {"method", "file ingest"}, {"tool", "custody"}, {"tool_version", "t"},
                {"collected_ms", t}, {"location", "vault"}, {"original_name", "a.log"},
                {"notes", ""}};
  }
};

} // namespace

TEST_CASE("projection: a full incident lifecycle builds the runbook's record") {
  World w;
  w.init();
  const std::string inc = "INC-2025-12-03-1";
  CHECK(*next_incident_id(w.t, w.store) == inc);
  REQUIRE(w.add("alice", w.alice, "incident_open", inc, w.open_fields(inc)));
  CHECK(*next_incident_id(w.t, w.store) == "INC-2025-12-03-2");
  REQUIRE(w.add("alice", w.alice, "collect", inc, w.collect(inc, 1)));
  REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status("open", "contained")));
  REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status("contained", "resolved")));
  REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status("resolved", "closed")));
  const Json doc = **w.store.get(Table::incidents, inc);
  CHECK(doc["status"] == "closed");
  CHECK(doc["evidence_count"] == 1);
  CHECK(doc["history"].size() == 3);
  CHECK(doc["contained_at"].is_string());
  CHECK(doc["closed_at"].is_string());
  CHECK(doc["last_seq"] == 5);
  const Json item = **w.store.get(Table::items, inc + "-E1");
  CHECK(item["collected_by"] == "alice");
  CHECK(item["sha256"] == to_hex(sha256("x")));
}

TEST_CASE("projection refuses invalid status transitions, and reopen clears milestones") {
  World w;
  w.init();
  const std::string inc = "INC-2025-12-03-1";
  REQUIRE(w.add("alice", w.alice, "incident_open", inc, w.open_fields(inc)));
  auto skip = w.add("alice", w.alice, "incident_status", inc, w.status("open", "closed"));
  REQUIRE_FALSE(skip);
  CHECK(skip.error().message.find("invalid status transition open -> closed") != std::string::npos);
  auto stale = w.add("alice", w.alice, "incident_status", inc, w.status("contained", "resolved"));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().message.find("is open, not contained") != std::string::npos);
  REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status("open", "contained")));
  REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status("contained", "open")));
  const Json doc = **w.store.get(Table::incidents, inc);
  CHECK(doc["status"] == "open");
  CHECK(doc["contained_at"].is_null());
  CHECK(doc["history"].size() == 2);
}

TEST_CASE("projection refuses evidence for a closed incident and wrong item numbers") {
  World w;
  w.init();
  const std::string inc = "INC-2025-12-03-1";
  REQUIRE(w.add("alice", w.alice, "incident_open", inc, w.open_fields(inc)));
  auto wrong_n = w.add("alice", w.alice, "collect", inc, w.collect(inc, 2));
  REQUIRE_FALSE(wrong_n);
  CHECK(wrong_n.error().message.find("not the next item") != std::string::npos);
  for (auto [from, to] : {std::pair{"open", "contained"}, {"contained", "resolved"},
                          {"resolved", "closed"}}) {
    REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status(from, to)));
  }
  auto closed = w.add("alice", w.alice, "collect", inc, w.collect(inc, 1));
  REQUIRE_FALSE(closed);
  CHECK(closed.error().message.find("is closed") != std::string::npos);
}

TEST_CASE("projection: keys are registered by registered actors and revocation is final") {
  World w;
  w.init();
  const std::string bob_kid = w.bob.public_key().fingerprint();
  // Bob cannot sign before he is registered.
  auto early = w.add("bob", w.bob, "incident_open", "INC-2025-12-03-1",
                     w.open_fields("INC-2025-12-03-1"));
  REQUIRE_FALSE(early);
  CHECK(early.error().message.find("not registered") != std::string::npos);
  REQUIRE(w.add("alice", w.alice, "key_register", "",
                Json{{"subject", "bob"}, {"kid", bob_kid},
                     {"public_key", to_base64(w.bob.public_key().raw())}, {"comment", ""}}));
  REQUIRE(w.add("bob", w.bob, "incident_open", "INC-2025-12-03-1",
                w.open_fields("INC-2025-12-03-1")));
  // Alice's key cannot sign as bob.
  auto impostor = w.add("bob", w.alice, "incident_status", "INC-2025-12-03-1",
                        w.status("open", "contained"));
  REQUIRE_FALSE(impostor);
  CHECK(impostor.error().message.find("registered to alice") != std::string::npos);
  REQUIRE(w.add("alice", w.alice, "key_revoke", "",
                Json{{"subject", "bob"}, {"kid", bob_kid}, {"reason", "left"}}));
  auto revoked = w.add("bob", w.bob, "incident_status", "INC-2025-12-03-1",
                       w.status("open", "contained"));
  REQUIRE_FALSE(revoked);
  CHECK(revoked.error().message.find("revoked") != std::string::npos);
  auto last = w.add("alice", w.alice, "key_revoke", "",
                    Json{{"subject", "alice"}, {"kid", w.alice.public_key().fingerprint()},
                         {"reason", "x"}});
  REQUIRE_FALSE(last);
  CHECK(last.error().message.find("last active key") != std::string::npos);
}

TEST_CASE("projection: incident ids are sequential per UTC day and checked") {
  World w;
  w.init();
  REQUIRE(w.add("alice", w.alice, "incident_open", "INC-2025-12-03-1",
                w.open_fields("INC-2025-12-03-1")));
  auto gap = w.add("alice", w.alice, "incident_open", "INC-2025-12-03-3",
                   w.open_fields("INC-2025-12-03-3"));
  REQUIRE_FALSE(gap);
  CHECK(gap.error().message.find("not the next id") != std::string::npos);
  w.t += 24 * 3600 * 1000; // next UTC day starts again at 1
  CHECK(*next_incident_id(w.t, w.store) == "INC-2025-12-04-1");
  auto wrong_day = w.add("alice", w.alice, "incident_open", "INC-2025-12-03-2",
                         w.open_fields("INC-2025-12-03-2"));
  CHECK_FALSE(wrong_day);
}

TEST_CASE("projection: vault_init only at seq 0 and only with a matching ledger key name") {
  World w;
  w.seq = 1;
  CHECK_FALSE(w.add("alice", w.alice, "vault_init", "",
                    Json{{"ledger_key", note::format_vkey(k_origin, w.ledger.public_key())},
                         {"public_key", to_base64(w.alice.public_key().raw())},
                         {"tool", "custody"}, {"tool_version", "t"}, {"host", "h"}}));
  w.seq = 0;
  auto other_name = w.add("alice", w.alice, "vault_init", "",
                          Json{{"ledger_key", note::format_vkey("other.origin", w.ledger.public_key())},
                               {"public_key", to_base64(w.alice.public_key().raw())},
                               {"tool", "custody"}, {"tool_version", "t"}, {"host", "h"}});
  REQUIRE_FALSE(other_name);
  CHECK(other_name.error().message.find("not the origin") != std::string::npos);
}

TEST_CASE("projection refuses bad accesses, results, updates and responses without a trace") {
  World w;
  w.init();
  const std::string inc = "INC-2025-12-03-1";
  const std::string other = "INC-2025-12-03-2";
  REQUIRE(w.add("alice", w.alice, "incident_open", inc, w.open_fields(inc)));
  REQUIRE(w.add("alice", w.alice, "incident_open", other, w.open_fields(other)));
  REQUIRE(w.add("alice", w.alice, "key_register", "",
                Json{{"subject", "bob"}, {"kid", w.bob.public_key().fingerprint()},
                     {"public_key", to_base64(w.bob.public_key().raw())}, {"comment", ""}}));
  REQUIRE(w.add("alice", w.alice, "collect", inc, w.collect(inc, 1)));
  const std::string item = inc + "-E1";
  auto access = [&](const std::string& id) {
    return Json{{"item", id}, {"action", "export"}, {"purpose", "timeline"},
                {"destination", "/cases/a.log"}, {"host", "ws"}};
  };
  auto result = [&](uint64_t access_seq, const std::string& id) {
    return Json{{"access_seq", access_seq}, {"item", id}, {"outcome", "ok"},
                {"sha256", to_hex(sha256("x"))}, {"size", 1}, {"detail", ""}};
  };
  // An access to an unknown item, or to an item of another incident.
  auto unknown = w.add("alice", w.alice, "access", inc, access(inc + "-E9"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("unknown evidence item") != std::string::npos);
  auto foreign = w.add("alice", w.alice, "access", other, access(item));
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().message.find("belongs to " + inc) != std::string::npos);
  // A valid access, then results: by someone else, for another item, twice.
  const uint64_t access_seq = w.seq;
  REQUIRE(w.add("alice", w.alice, "access", inc, access(item)));
  CHECK((**w.store.get(Table::items, item)).at("access_count") == 1);
  auto not_theirs = w.add("bob", w.bob, "access_result", inc, result(access_seq, item));
  REQUIRE_FALSE(not_theirs);
  CHECK(not_theirs.error().message.find("only they can record") != std::string::npos);
  auto wrong_item = w.add("alice", w.alice, "access_result", inc, result(access_seq, inc + "-E2"));
  REQUIRE_FALSE(wrong_item);
  CHECK(wrong_item.error().message.find("was for " + item) != std::string::npos);
  auto no_access = w.add("alice", w.alice, "access_result", inc, result(access_seq + 50, item));
  REQUIRE_FALSE(no_access);
  CHECK(no_access.error().message.find("unknown access") != std::string::npos);
  REQUIRE(w.add("alice", w.alice, "access_result", inc, result(access_seq, item)));
  CHECK((**w.store.get(Table::accesses, access_key(access_seq))).at("outcome") == "ok");
  auto twice = w.add("alice", w.alice, "access_result", inc, result(access_seq, item));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message.find("already has a result") != std::string::npos);
  // A response action naming an unknown item, or an item of another incident.
  auto response = [&](const std::string& evidence) {
    return Json{{"action", "snapshot"}, {"outcome", "success"}, {"provider", "hetzner"},
                {"endpoint", "http://127.0.0.1:1/v1"}, {"target", Json::object()},
                {"request", Json::object()}, {"provider_actions", Json::array()},
                {"resources", Json::object()}, {"exchanges", Json::array()},
                {"evidence", Json::array({evidence})}, {"warnings", Json::array()},
                {"error", ""}, {"started_ms", w.t - 10}, {"finished_ms", w.t}};
  };
  auto lost = w.add("alice", w.alice, "response_action", other, response(other + "-E1"));
  REQUIRE_FALSE(lost);
  CHECK(lost.error().message.find("unknown evidence item") != std::string::npos);
  auto elsewhere = w.add("alice", w.alice, "response_action", other, response(item));
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().message.find("belongs to another incident") != std::string::npos);
  REQUIRE(w.add("alice", w.alice, "response_action", inc, response(item)));
  CHECK((**w.store.get(Table::incidents, inc)).at("response_count") == 1);
  // Updates and evidence refused once the incident is closed.
  for (auto [from, to] : {std::pair{"open", "contained"}, {"contained", "resolved"},
                          {"resolved", "closed"}}) {
    REQUIRE(w.add("alice", w.alice, "incident_status", inc, w.status(from, to)));
  }
  auto update = w.add("alice", w.alice, "incident_update", inc,
                      Json{{"set", Json{{"root_cause", "x"}}}, {"reason", "typo"}});
  REQUIRE_FALSE(update);
  CHECK(update.error().message.find("is closed") != std::string::npos);
  auto late = w.add("alice", w.alice, "collect", inc, w.collect(inc, 2));
  REQUIRE_FALSE(late);
  CHECK(w.refusals == 10);
}
