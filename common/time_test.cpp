#include "common/time.hpp"

#include <doctest/doctest.h>

using namespace custody;

TEST_CASE("common::time formats UTC without consulting TZ") {
  setenv("TZ", "Pacific/Chatham", 1);
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(1735686271123) == "2024-12-31T23:04:31.123Z");
  CHECK(format_utc_seconds(1735686271123) == "2024-12-31 23:04:31");
  CHECK(format_utc_day(1735686271123) == "2024-12-31");
  CHECK(format_utc_compact(1735686271123) == "20241231230431");
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ns(951782400000000001) == "2000-02-29T00:00:00.000000001Z");
  unsetenv("TZ");
}

TEST_CASE("common::parse_rfc3339 accepts Z and offsets, rejects local times") {
  CHECK(*parse_rfc3339_ms("2016-01-30T23:50:00+00:00") == 1454197800000);
  CHECK(*parse_rfc3339_ms("2016-01-30T23:50:00Z") == 1454197800000);
  CHECK(*parse_rfc3339_ms("2016-01-31T01:50:00+02:00") == 1454197800000);
  CHECK(*parse_rfc3339_ms("2016-01-30T18:50:00-0500") == 1454197800000);
  CHECK(*parse_rfc3339_ns("2016-01-30T23:50:00.123456789Z") == 1454197800123456789);
  CHECK(*parse_rfc3339_ns("2016-01-30 23:50:00.5Z") == 1454197800500000000);
  CHECK(*parse_rfc3339_ms("2024-02-29T00:00:00Z") == 1709164800000);
  CHECK_FALSE(parse_rfc3339_ms("2016-01-30T23:50:00"));      // no zone
  CHECK_FALSE(parse_rfc3339_ms("2023-02-29T00:00:00Z"));     // not a leap year
  CHECK_FALSE(parse_rfc3339_ms("2016-13-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2016-01-30T23:50:00Zjunk"));
  CHECK_FALSE(parse_rfc3339_ms(""));
  // Far dates: milliseconds reach them, int64 nanoseconds do not (and must say so).
  CHECK(*parse_rfc3339_ms("2999-01-01T00:00:00Z") == 32472144000000); // date -u -d 2999-01-01 +%s
  CHECK(*parse_rfc3339_ms("1601-01-01T00:00:00Z") == -11644473600000); // date -u -d 1601-01-01 +%s
  auto far = parse_rfc3339_ns("2999-01-01T00:00:00Z");
  REQUIRE_FALSE(far);
  CHECK(far.error().message.find("1678-2262") != std::string::npos);
  CHECK(*parse_rfc3339_ns("2262-01-01T00:00:00Z") == 9214646400000000000); // date -u -d 2262-01-01 +%s
}

TEST_CASE("common::civil round-trips across eras") {
  for (int64_t ns : {int64_t{0}, int64_t{-86'400'000'000'000}, int64_t{4102444800123456789},
                     int64_t{951868800000000000}}) {
    CHECK(ns_from_civil(civil_from_ns(ns)) == ns);
  }
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(1900, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
}
