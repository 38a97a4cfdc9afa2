// The verifier's pieces that need no vault: the trusted-keys file format
// (FORMAT.md §10.2), the object path, and the `verify` entry's rules
// (FORMAT.md §4). Attacks on whole vaults are in tests/adversarial/.
#include "verify/verifier.hpp"

#include "common/note.hpp"
#include "verify/projection.hpp"

#include <doctest/doctest.h>

using namespace custody;
using namespace custody::verify;

TEST_CASE("verify::parse_trusted_keys reads origin, ledger and actor lines") {
  const auto ledger = *SigningKey::generate();
  const auto alice = *SigningKey::generate();
  const std::string vkey =
      note::format_vkey("custody.test/v", ledger.public_key());
  const std::string text = "# pinned on 2026-12-03 from the ticket\n"
                           "\n"
                           "origin custody.test/v\n"
                           "ledger " + vkey + "\n"
                           "actor alice " + alice.public_key().fingerprint() + "\n"
                           "  actor\tbob " + to_base64(ledger.public_key().raw()) + "  \r\n";
  auto keys = parse_trusted_keys(text);
  REQUIRE(keys);
  CHECK(keys->origin == "custody.test/v");
  CHECK(keys->ledger_vkey == vkey);
  REQUIRE(keys->actors.size() == 2);
  CHECK(keys->actors[0].actor == "alice");
  CHECK(keys->actors[0].kid == alice.public_key().fingerprint());
  CHECK(keys->actors[1].actor == "bob");
  CHECK(keys->actors[1].kid
        == ledger.public_key().fingerprint()); // base64 key -> its kid

  // format_trusted_keys writes what parse_trusted_keys reads.
  auto again = parse_trusted_keys(format_trusted_keys(*keys));
  REQUIRE(again);
  CHECK(again->origin == keys->origin);
  CHECK(again->ledger_vkey == keys->ledger_vkey);
  CHECK(again->actors.size() == 2);

  // A ledger key alone pins its origin (its name).
  auto only_ledger = parse_trusted_keys("ledger " + vkey + "\n");
  REQUIRE(only_ledger);
  CHECK(only_ledger->origin == "custody.test/v");
  CHECK(parse_trusted_keys("")->actors.empty());
}

TEST_CASE("verify::parse_trusted_keys rejects anything else, naming the line") {
  const auto ledger = *SigningKey::generate();
  const std::string vkey =
      note::format_vkey("custody.test/v", ledger.public_key());
  const std::string kid(64, 'a');
  const std::pair<std::string, std::string> cases[] = {
      {"origin a\norigin b\n", "line 2: origin is given twice"},
      {"origin has+plus\n", "invalid origin"},
      {"origin\n", "expected: origin <origin>"},
      {"ledger nonsense\n", "malformed verifier key"},
      {"ledger " + vkey + "\nledger " + vkey + "\n", "ledger is given twice"},
      {"origin other\nledger " + vkey + "\n",
       "the ledger key is named 'custody.test/v'"},
      {"actor -bad " + kid + "\n", "invalid actor name"},
      {"actor alice 1234\n", "must be a kid"},
      {"actor alice " + std::string(64, 'A') + "\n", "must be a kid"},
      {"actor alice " + kid + "\nactor bob " + kid + "\n", "is given twice"},
      {"actor alice\n", "expected: actor <name>"},
      {"checkpoint 5\n", "unknown directive 'checkpoint'"},
      {"origin \xff\n", "not UTF-8"},
  };
  for (const auto& [text, expect] : cases) {
    CAPTURE(text);
    auto r = parse_trusted_keys(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
    CHECK(r.error().message.find(expect) != std::string::npos);
  }
}

TEST_CASE("verify::object_path is objects/sha256/<2 hex>/<62 hex>") {
  const std::string hex = to_hex(sha256("x"));
  CHECK(object_path("/v", hex).string()
        == "/v/objects/sha256/" + hex.substr(0, 2) + "/" + hex.substr(2));
}

namespace {

// A ledger folded up to an open incident, for the verify entry's rules.
struct World {
  MemoryProjection store;
  SigningKey key = *SigningKey::generate();
  SigningKey ledger = *SigningKey::generate();
  uint64_t seq = 0;
  int64_t t = 1764777600000;
  std::string inc = "INC-2025-12-03-1";

  Result<void>
  add(const std::string& type, const std::string& incident, Json fields) {
    Entry e;
    e.origin = "custody.test/v";
    e.seq = seq;
    e.type = type;
    e.t_ms = t;
    e.actor = "alice";
    e.kid = key.public_key().fingerprint();
    e.incident = incident;
    e.fields = std::move(fields);
    CUSTODY_TRY(encode_entry(e));
    CUSTODY_TRY(apply_entry(e, store));
    ++seq;
    return {};
  }
  World() {
    REQUIRE(add("vault_init",
                "",
                Json{{"ledger_key",
                      note::format_vkey("custody.test/v", ledger.public_key())},
                     {"public_key", to_base64(key.public_key().raw())},
                     {"tool", "custody"},
                     {"tool_version", "t"},
                     {"host", "h"}}));
    REQUIRE(add("incident_open",
                inc,
                Json{{"id", inc},
                     {"severity", "P1"},
                     {"title", "t"},
                     {"detected_at_ms", t},
                     {"reporter", "a"},
                     {"commander", "a"},
                     {"affected_systems", Json::array()},
                     {"affected_customers", Json::array()},
                     {"playbook", ""},
                     {"description", ""},
                     {"root_cause", ""}}));
  }
  Json verify_fields(uint64_t size) {
    return Json{{"ledger_size", size},
                {"root", to_hex(sha256("r"))},
                {"findings", 0},
                {"warnings", 0},
                {"first_bad_seq", nullptr},
                {"summary", "verify: OK"},
                {"rehash", true},
                {"stored_checkpoints", 1},
                {"latest_checkpoint", 2},
                {"external_checkpoints", Json::array()},
                {"objects", 0},
                {"bytes_hashed", 0},
                {"trust", "first-use"},
                {"tool", "custody"},
                {"tool_version", "t"}};
  }
};

} // namespace

TEST_CASE(
    "projection: a verify entry records the last verification; its incident is "
    "optional") {
  World w;
  REQUIRE(w.add("verify", "", w.verify_fields(2)));
  auto meta = *w.store.get(Table::meta, "verify");
  REQUIRE(meta);
  CHECK(meta->at("seq") == 2);
  CHECK(meta->at("ledger_size") == 2);
  CHECK(meta->at("incident") == "");
  REQUIRE(w.add("verify", w.inc, w.verify_fields(3)));
  CHECK((*w.store.get(Table::meta, "verify"))->at("incident") == w.inc);
}

TEST_CASE(
    "projection refuses a verify entry that claims later entries or an unknown "
    "incident") {
  World w;
  auto future =
      w.add("verify", "", w.verify_fields(3)); // entry 2 cannot cover 3 entries
  REQUIRE_FALSE(future);
  CHECK(future.error().message.find("only the entries before it exist")
        != std::string::npos);
  auto unknown = w.add("verify", "INC-2025-12-03-9", w.verify_fields(2));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("unknown incident") != std::string::npos);
}
