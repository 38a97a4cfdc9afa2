// Concurrency and crash tests of the custody ledger writer, with real
// processes (fork) and real SIGKILLs, against a real SQLite file.
//   - 4 processes x 200 appends at once: contiguous seq, valid chain and
//     signatures, every acknowledged entry present, incident ids sequential.
//   - kill -9 of an append loop at random points, 20 times: the ledger opens,
//     passes integrity_check, holds no partial entry and loses no entry whose
//     commit was acknowledged (synchronous=FULL, schemas/FORMAT.md §7).
#include "common/merkle.hpp"
#include "tests/testutil.hpp"
#include "vault/ledger.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <random>
#include <set>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace custody;
using namespace custody::vault;

namespace {

const char* const k_origin = "custody.test/stress";

Draft incident_draft(verify::ProjectionStore& store, int64_t now, std::string& id) {
  id = *verify::next_incident_id(now, store);
  return Draft{"incident_open", id,
               Json{{"id", id}, {"severity", "P3"}, {"title", "stress"}, {"detected_at_ms", now},
                    {"reporter", ""}, {"commander", ""}, {"affected_systems", Json::array()},
                    {"affected_customers", Json::array()}, {"playbook", ""}, {"description", ""},
                    {"root_cause", ""}}};
}

// Appends `count` incidents (count < 0: forever), one per transaction, and
// writes each committed seq to `ack_fd` only after commit returned.
[[noreturn]] void append_loop(const std::filesystem::path& db, const Signer& who, int count,
                              int ack_fd, const SigningKey* checkpoint_key) {
  auto ledger = Ledger::open(db);
  if (!ledger) {
    _exit(3);
  }
  for (int i = 0; count < 0 || i < count; ++i) {
    std::string id;
    auto r = ledger->append(who, [&](verify::ProjectionStore& s, int64_t now)
                                   -> Result<std::vector<Draft>> {
      return std::vector<Draft>{incident_draft(s, now, id)};
    });
    if (!r) {
      std::fprintf(stderr, "append failed: %s\n", r.error().message.c_str());
      _exit(4);
    }
    const uint64_t seq = r->front().entry.seq;
    if (::write(ack_fd, &seq, sizeof seq) != sizeof seq) {
      _exit(5);
    }
    if (checkpoint_key != nullptr && i % 7 == 0) {
      if (!ledger->checkpoint(*checkpoint_key)) {
        _exit(6);
      }
    }
  }
  _exit(0);
}

std::vector<uint64_t> read_acks(int fd) {
  std::vector<uint64_t> out;
  uint64_t v = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &v, sizeof v);
    if (n == sizeof v) {
      out.push_back(v);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break; // EOF (or a torn final write, which was never an acknowledgement)
    }
  }
  return out;
}

struct Checked {
  uint64_t size = 0;
  std::map<uint64_t, std::string> actor_of;
};

// Re-reads the whole ledger as an independent reader would: every row
// decodes canonically, seq is contiguous, prev links hold, leaf hashes match,
// signatures verify with the registered key, and the rules fold cleanly.
Checked check_ledger(const std::filesystem::path& db_path) {
  auto db = sql::Db::open(db_path, sql::Mode::read_only);
  REQUIRE(db);
  auto ic = *db->prepare("PRAGMA integrity_check");
  REQUIRE(*ic.step());
  CHECK(ic.column_text(0) == "ok");
  auto stmt = *db->prepare("SELECT seq, entry, leaf_hash, kid, sig FROM ledger ORDER BY seq");
  verify::MemoryProjection state;
  Hash256 prev = verify::genesis_prev();
  Checked out;
  while (*stmt.step()) {
    const auto seq = static_cast<uint64_t>(stmt.column_int(0));
    REQUIRE(seq == out.size);
    const std::string bytes = stmt.column_blob(1);
    auto e = verify::decode_entry(bytes);
    REQUIRE_MESSAGE(e, "entry " << seq << " does not decode");
    CHECK(e->seq == seq);
    CHECK(e->prev == prev);
    const Hash256 leaf = verify::entry_leaf_hash(bytes);
    CHECK(stmt.column_blob(2) == std::string(leaf.begin(), leaf.end()));
    auto key = verify::signer_key(*e, state);
    REQUIRE(key);
    CHECK(key->verify(as_bytes(verify::signed_message(bytes)), as_bytes(stmt.column_blob(4))));
    REQUIRE(verify::apply_entry(*e, state));
    out.actor_of[seq] = e->actor;
    prev = leaf;
    ++out.size;
  }
  return out;
}

} // namespace

TEST_CASE("ledger: 4 processes x 200 appends at once lose nothing and stay contiguous") {
  const auto dir = test::case_dir("concurrency");
  const auto db = dir / "ledger.db";
  auto ledger_key = *SigningKey::generate();
  std::vector<Signer> people;
  for (const char* name : {"alice", "bob", "carol", "dave"}) {
    people.push_back(Signer{name, *SigningKey::generate()});
  }
  {
    auto ledger = Ledger::create(db, k_origin, ledger_key, people[0], "h");
    REQUIRE(ledger);
    for (size_t i = 1; i < people.size(); ++i) {
      REQUIRE(ledger->append(people[0], Draft{"key_register", "",
                                              Json{{"subject", people[i].actor},
                                                   {"kid", people[i].key.public_key().fingerprint()},
                                                   {"public_key", to_base64(people[i].key.public_key().raw())},
                                                   {"comment", ""}}}));
    }
  }
  constexpr int k_per_process = 200;
  std::vector<pid_t> pids;
  std::vector<int> pipes;
  for (const Signer& who : people) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      append_loop(db, who, k_per_process, fds[1], nullptr);
    }
    ::close(fds[1]);
    pids.push_back(pid);
    pipes.push_back(fds[0]);
  }
  std::map<std::string, std::vector<uint64_t>> acked;
  for (size_t i = 0; i < pids.size(); ++i) {
    acked[people[i].actor] = read_acks(pipes[i]);
    ::close(pipes[i]);
    int status = 0;
    REQUIRE(::waitpid(pids[i], &status, 0) == pids[i]);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const Checked c = check_ledger(db);
  CHECK(c.size == 4 + 4 * k_per_process);
  for (const auto& [actor, seqs] : acked) {
    CAPTURE(actor);
    CHECK(seqs.size() == k_per_process);
    for (uint64_t s : seqs) {
      REQUIRE(c.actor_of.count(s) == 1);
      CHECK(c.actor_of.at(s) == actor);
    }
  }
  // Incident ids were assigned inside the write lock: N = 1..800 per UTC day.
  auto reopened = Ledger::open(db);
  REQUIRE(reopened);
  auto incidents = reopened->query(verify::Table::incidents, "", "", "opened_seq");
  REQUIRE(incidents);
  CHECK(incidents->size() == 4 * k_per_process);
  std::map<std::string, int> per_day;
  for (const Json& inc : *incidents) {
    const std::string id = inc["id"].get<std::string>();
    const std::string day = id.substr(4, 10);
    CHECK(id == "INC-" + day + "-" + std::to_string(++per_day[day]));
  }
}

TEST_CASE("ledger: kill -9 at random points, 20 times, loses no acknowledged entry") {
  const auto dir = test::case_dir("crash");
  const auto db = dir / "ledger.db";
  auto ledger_key = *SigningKey::generate();
  const Signer alice{"alice", *SigningKey::generate()};
  REQUIRE(Ledger::create(db, k_origin, ledger_key, alice, "h"));
  std::mt19937 rng(20261203);
  std::set<uint64_t> all_acked;
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      append_loop(db, alice, -1, fds[1], &ledger_key); // also signs checkpoints now and then
    }
    ::close(fds[1]);
    // Let it run for a random time (some rounds die before the first commit).
    ::usleep(static_cast<useconds_t>(std::uniform_int_distribution<int>(1'000, 150'000)(rng)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    for (uint64_t s : read_acks(fds[0])) {
      all_acked.insert(s);
    }
    ::close(fds[0]);

    const Checked c = check_ledger(db);
    for (uint64_t s : all_acked) {
      CHECK_MESSAGE(s < c.size, "acknowledged entry " << s << " lost");
    }
    // The writer recovers: it appends and signs a checkpoint consistent with
    // every earlier one.
    auto ledger = Ledger::open(db);
    REQUIRE(ledger);
    auto cp = ledger->checkpoint(ledger_key);
    REQUIRE_MESSAGE(cp, (cp ? "" : cp.error().message));
    CHECK(cp->checkpoint.size == c.size);
  }
  CHECK(all_acked.size() > 20); // the loop really ran
}
