// verify::Report: findings are collected, counted by severity and code, and
// capped per code without losing the count (FORMAT.md §10.4).
#include "verify/report.hpp"

#include <doctest/doctest.h>

using namespace custody::verify;

TEST_CASE(
    "verify::Report keeps findings in order and counts them by severity and "
    "code") {
  Report r;
  CHECK(r.clean());
  r.other(Severity::warning, code::trust, "trust", "first use");
  CHECK(r.clean()); // warnings do not fail a verification
  r.entry(
      code::signature, 12, "signature does not verify with key 1a2b of alice");
  r.item(
      code::object_mismatch, "INC-2026-12-03-1-E3", "object sha256 mismatch");
  r.entry(code::prev, 7, "prev does not name the previous entry");
  CHECK_FALSE(r.clean());
  CHECK(r.count(Severity::finding) == 3);
  CHECK(r.count(Severity::warning) == 1);
  CHECK(r.count_code(code::signature) == 1);
  CHECK(r.first_bad_seq() == 7u);
  REQUIRE(r.findings().size() == 4);
  CHECK(r.findings()[1].line()
        == "seq 12: signature does not verify with key 1a2b of alice");
  CHECK(r.findings()[2].line()
        == "item INC-2026-12-03-1-E3: object sha256 mismatch");
  CHECK(r.findings()[2].item == "INC-2026-12-03-1-E3");
  CHECK(r.findings()[0].line() == "warning: trust: first use");
}

TEST_CASE(
    "verify::Report lists at most max_per_code findings of one code and counts "
    "the rest") {
  Report r(2);
  for (uint64_t seq = 10; seq < 15; ++seq) {
    r.entry(code::origin, seq, "wrong origin");
  }
  r.entry(code::prev, 3, "x");
  CHECK(r.findings().size() == 3);
  CHECK(r.count(Severity::finding) == 6);
  CHECK(r.count_code(code::origin) == 5);
  CHECK(r.first_bad_seq() == 3u);
  const auto left_out = r.suppressed();
  REQUIRE(left_out.size() == 1);
  CHECK(left_out.at("origin") == 3);
}

TEST_CASE("verify::Report's first bad seq ignores warnings") {
  Report r;
  Finding f;
  f.severity = Severity::warning;
  f.code = std::string(code::uncovered);
  f.seq = 1;
  r.add(f);
  CHECK_FALSE(r.first_bad_seq());
}
