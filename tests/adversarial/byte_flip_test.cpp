// Every byte of a small ledger, flipped one at a time, must be detected
// (custody-anchors §4 T1; immudb's "broken byte at position %d" test skips the
// bytes its check does not cover; this suite skips none). Covered: each
// entry's bytes, signature, and the leaf_hash and kid cache columns; each
// stored checkpoint's note and root column; each checkpoint copy kept outside
// the vault. Each flip runs the verifier in-process and must produce a
// finding about exactly that entry (as the first bad entry) or that checkpoint.
//
// The flip XORs the byte with a mask that rotates through 0x01, 0x20 and
// 0x80: 0x01 turns digits and letters into other digits and letters (the JSON
// often stays canonical, so only the signature can catch it), 0x20 flips
// letter case, 0x80 makes invalid UTF-8.
#include <doctest/doctest.h>

#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace code = custody::verify::code;
namespace fs = std::filesystem;

namespace {

constexpr uint8_t k_masks[] = {0x01, 0x20, 0x80};

std::string flipped(const std::string& s, size_t i) {
  std::string out = s;
  out[i] = static_cast<char>(static_cast<uint8_t>(out[i]) ^ k_masks[i % 3]);
  return out;
}

bool is_checkpoint_code(std::string_view c) {
  return c == code::checkpoint_malformed || c == code::checkpoint_signature
         || c == code::checkpoint_origin || c == code::checkpoint_root
         || c == code::truncated || c == code::equivocation;
}

// Returns true when some finding about a checkpoint names `subject`.
bool checkpoint_finding(const Outcome& o, const std::string& subject) {
  for (const auto& f : o.report.findings()) {
    if (f.severity == verify::Severity::finding && is_checkpoint_code(f.code)
        && f.subject.find(subject) != std::string::npos) {
      return true;
    }
  }
  return false;
}

struct FlipVault {
  SmallVault s;
  verify::VerifyOptions options;
};

FlipVault prepare(const std::string& name) {
  FlipVault v{make_small_vault(case_dir(name) / "v"), {}};
  v.options = audit_options(v.s);
  v.options.threads = 1;
  RawDb raw(v.s.dir / "ledger.db");
  // The attacker's connection: no WAL (so the verifier reads the file in
  // place), no fsync (thousands of flips), and no append-only triggers.
  raw.exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF");
  raw.drop_triggers();
  const Outcome baseline = run_verify(v.options);
  INFO(baseline.text());
  REQUIRE(baseline.clean());
  return v;
}

} // namespace

TEST_SUITE("byte-flip") {
  TEST_CASE(
      "verify detects every flipped byte of every entry, signature and cache "
      "column") {
    FlipVault v = prepare("flip-entries");
    RawDb raw(v.s.dir / "ledger.db");
    raw.exec("PRAGMA synchronous=OFF");
    const int64_t n = raw.count("ledger");
    REQUIRE(n == 11);
    uint64_t flips = 0;
    for (int64_t seq = 0; seq < n; ++seq) {
      const std::string where = fmt::format("seq = {}", seq);
      struct Column {
        const char* name;
        bool blob;
      };
      for (const Column c : {Column{"entry", true},
                             Column{"sig", true},
                             Column{"leaf_hash", true},
                             Column{"kid", false}}) {
        const std::string original = raw.get("ledger", c.name, where);
        for (size_t i = 0; i < original.size(); ++i) {
          raw.set("ledger", c.name, where, flipped(original, i), c.blob);
          const Outcome r = run_verify(v.options);
          ++flips;
          const auto first = r.report.first_bad_seq();
          if (!r.summary || !first || *first != static_cast<uint64_t>(seq)) {
            // Report the first undetected flip precisely, then stop.
            INFO(r.text());
            FAIL_CHECK("flip of ",
                       std::string(c.name),
                       " byte ",
                       i,
                       " of seq ",
                       seq,
                       " was not reported as a problem of that entry");
            return;
          }
        }
        raw.set("ledger", c.name, where, original, c.blob);
      }
    }
    MESSAGE(flips, " flipped bytes, each detected at its entry");
    const Outcome restored = run_verify(v.options);
    CHECK(restored.clean());
  }

  TEST_CASE(
      "verify detects every flipped byte of the stored checkpoints and of the "
      "auditor's copies") {
    FlipVault v = prepare("flip-checkpoints");
    RawDb raw(v.s.dir / "ledger.db");
    raw.exec("PRAGMA synchronous=OFF");
    uint64_t flips = 0;
    for (const uint64_t size : {uint64_t{1}, uint64_t{5}, uint64_t{11}}) {
      const std::string where = fmt::format("tree_size = {}", size);
      const std::string subject = fmt::format("checkpoint {} (stored)", size);
      for (const char* column : {"note", "root"}) {
        const bool blob = std::string_view(column) == "root";
        const std::string original = raw.get("checkpoints", column, where);
        for (size_t i = 0; i < original.size(); ++i) {
          raw.set("checkpoints", column, where, flipped(original, i), blob);
          const Outcome r = run_verify(v.options);
          ++flips;
          if (!r.summary || !checkpoint_finding(r, subject)) {
            INFO(r.text());
            FAIL_CHECK("flip of ",
                       std::string(column),
                       " byte ",
                       i,
                       " of ",
                       subject,
                       " was not detected");
            return;
          }
        }
        raw.set("checkpoints", column, where, original, blob);
      }
    }
    for (const fs::path& file : v.s.checkpoint_files) {
      const std::string original = read_file(file);
      const std::string subject = file.filename().string();
      for (size_t i = 0; i < original.size(); ++i) {
        write_file(file, flipped(original, i));
        const Outcome r = run_verify(v.options);
        ++flips;
        if (!r.summary || !checkpoint_finding(r, subject)) {
          INFO(r.text());
          FAIL_CHECK("flip of byte ", i, " of ", subject, " was not detected");
          return;
        }
      }
      write_file(file, original);
    }
    MESSAGE(flips, " flipped checkpoint bytes, each detected");
    const Outcome restored = run_verify(v.options);
    CHECK(restored.clean());
  }

} // TEST_SUITE
