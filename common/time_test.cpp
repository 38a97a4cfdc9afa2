#include "common/time.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <vector>

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

TEST_CASE("common::format_rfc3339_ms agrees with the civil fields and parses back") {
  // A sweep over years 0000..9999 (a fixed LCG), leap days, and the ends;
  // the earlier formatter went through nanoseconds and overflowed outside
  // 1678..2261.
  uint64_t x = 88172645463325252ULL;
  std::vector<int64_t> values = {0, -1, 951782400000, 951868799999, -62167219200000,
                                 253402300799999};
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    values.push_back(-62167219200000 + static_cast<int64_t>(x % 315537897600000ULL));
  }
  // civil_from_ns() needs ms * 10^6 to fit in int64 (years 1678..2261).
  constexpr int64_t k_ns_safe = INT64_MAX / 1'000'000;
  for (int64_t ms : values) {
    CAPTURE(ms);
    const std::string text = format_rfc3339_ms(ms);
    REQUIRE(parse_rfc3339_ms(text) == ms); // days_from_civil(), the other direction
    if (ms > -k_ns_safe && ms < k_ns_safe) {
      const CivilTime t = civil_from_ns(ms * 1'000'000);
      REQUIRE(text == fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month,
                                  t.day, t.hour, t.minute, t.second, t.nanos / 1'000'000));
    }
  }
  // Beyond the year 9999, and where ms * 10^6 would overflow int64.
  CHECK(format_rfc3339_ms(253402300800000) == "10000-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(INT64_MAX) == "292278994-08-17T07:12:55.807Z");
  CHECK(format_utc_seconds(INT64_MAX) == "292278994-08-17 07:12:55");
  CHECK(format_utc_day(INT64_MAX) == "292278994-08-17");
  CHECK(format_utc_compact(-62167219200000) == "00000101000000");
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
