// A clean vault of realistic size verifies clean: 100,000 entries and 1,000
// objects, built with batched appends by the real writer.
#include <doctest/doctest.h>

#include <chrono>

#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace fs = std::filesystem;

TEST_SUITE("big-vault") {
  TEST_CASE(
      "verify: a clean vault with 100,000 entries and 1,000 objects passes") {
    const fs::path root = case_dir("big");
    const auto t0 = std::chrono::steady_clock::now();
    const BigVaultStats stats =
        make_big_vault(root / "v", root / "keys", 100'000, 1'000, 4096);
    const auto t1 = std::chrono::steady_clock::now();
    REQUIRE(stats.entries == 100'000);

    verify::VerifyOptions o;
    o.vault = root / "v";
    const Outcome r = run_verify(o);
    const auto t2 = std::chrono::steady_clock::now();
    INFO(r.text());
    REQUIRE(r.summary);
    CHECK(r.clean());
    CHECK(r.count(verify::Severity::warning) == 1); // trust on first use only
    CHECK(r.summary->entries == 100'000);
    CHECK(r.summary->objects == 1'000);
    CHECK(r.summary->items == 1'000);
    CHECK(r.summary->bytes_hashed == stats.object_bytes);
    CHECK(r.summary->stored_checkpoints == stats.checkpoints + 1);
    MESSAGE("built in ",
            std::chrono::duration<double>(t1 - t0).count(),
            " s; verified in ",
            std::chrono::duration<double>(t2 - t1).count(),
            " s (entries ",
            r.summary->seconds_entries,
            " s, ",
            static_cast<double>(r.summary->entries)
                / r.summary->seconds_entries,
            " entries/s)");
  }

} // TEST_SUITE
