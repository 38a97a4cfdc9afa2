#include "common/time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

namespace custody {

namespace {

constexpr int64_t k_ns_per_s = 1'000'000'000;
constexpr int64_t k_s_per_day = 86'400;

// Floor division for possibly negative numerators.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

} // namespace

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (m + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int64_t y, int m) {
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && is_leap(y)) {
    return 29;
  }
  return k_days[m - 1];
}

namespace {

// Splits `secs` (seconds since the epoch, UTC) into civil fields (nanos 0).
CivilTime civil_from_seconds(int64_t secs) {
  CivilTime t;
  const int64_t days = floor_div(secs, k_s_per_day);
  const int64_t sod = secs - days * k_s_per_day;
  t.hour = static_cast<int>(sod / 3600);
  t.minute = static_cast<int>((sod % 3600) / 60);
  t.second = static_cast<int>(sod % 60);

  const int64_t z = days + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  return t;
}

// Writes `v` (0 <= v < 10^width) as `width` digits at `p`.
void put_digits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

} // namespace

CivilTime civil_from_ns(int64_t ns) {
  const int64_t secs = floor_div(ns, k_ns_per_s);
  CivilTime t = civil_from_seconds(secs);
  t.nanos = ns - secs * k_ns_per_s;
  return t;
}

int64_t ns_from_civil(const CivilTime& t) {
  const int64_t days = days_from_civil(t.year, t.month, t.day);
  const int64_t secs = days * k_s_per_day + t.hour * 3600 + t.minute * 60 + t.second;
  return secs * k_ns_per_s + t.nanos;
}

std::string format_rfc3339_ms(int64_t ms) {
  // Split in seconds, not nanoseconds: ms * 10^6 overflows past the year 2262,
  // and a ledger entry's t_ms may be any non-negative int64.
  const int64_t secs = floor_div(ms, 1000);
  const int64_t milli = ms - secs * 1000;
  const CivilTime t = civil_from_seconds(secs);
  if (t.year < 0 || t.year > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.year, t.month, t.day,
                       t.hour, t.minute, t.second, milli);
  }
  // The verifier formats a few timestamps per entry: digits written in place.
  std::string out = "0000-00-00T00:00:00.000Z";
  put_digits(&out[0], t.year, 4);
  put_digits(&out[5], t.month, 2);
  put_digits(&out[8], t.day, 2);
  put_digits(&out[11], t.hour, 2);
  put_digits(&out[14], t.minute, 2);
  put_digits(&out[17], t.second, 2);
  put_digits(&out[20], milli, 3);
  return out;
}

std::string format_rfc3339_ns(int64_t ns) {
  const CivilTime t = civil_from_ns(ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                     t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanos);
}

std::string format_utc_seconds(int64_t ms) {
  const CivilTime t = civil_from_seconds(floor_div(ms, 1000));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                     t.year, t.month, t.day, t.hour, t.minute, t.second);
}

std::string format_utc_day(int64_t ms) {
  const CivilTime t = civil_from_seconds(floor_div(ms, 1000));
  return fmt::format("{:04}-{:02}-{:02}", t.year, t.month, t.day);
}

std::string format_utc_compact(int64_t ms) {
  const CivilTime t = civil_from_seconds(floor_div(ms, 1000));
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}",
                     t.year, t.month, t.day, t.hour, t.minute, t.second);
}

namespace {

class Cursor {
public:
  explicit Cursor(std::string_view s)
    : m_s(s) {}
  bool digits(size_t n, int64_t& out) {
    if (m_pos + n > m_s.size()) {
      return false;
    }
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      const char c = m_s[m_pos + i];
      if (c < '0' || c > '9') {
        return false;
      }
      v = v * 10 + (c - '0');
    }
    m_pos += n;
    out = v;
    return true;
  }
  bool lit(char c) {
    if (m_pos < m_s.size() && m_s[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  [[nodiscard]] bool at_end() const {
    return m_pos == m_s.size();
  }
  [[nodiscard]] char peek() const {
    return m_pos < m_s.size() ? m_s[m_pos] : '\0';
  }
  [[nodiscard]] bool peek_digit() const {
    return m_pos < m_s.size() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9';
  }
  void advance() {
    ++m_pos;
  }

private:
  std::string_view m_s;
  size_t m_pos = 0;
};

} // namespace

namespace {

struct Parsed {
  int64_t secs = 0;  // UTC seconds since the epoch
  int64_t nanos = 0; // 0..999'999'999
};

Result<Parsed> parse_rfc3339(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::invalid_input,
                fmt::format("invalid timestamp '{}': {}", text, why));
  };
  Cursor c(text);
  int64_t y = 0;
  int64_t mo = 0;
  int64_t d = 0;
  int64_t h = 0;
  int64_t mi = 0;
  int64_t s = 0;
  if (!c.digits(4, y) || !c.lit('-') || !c.digits(2, mo) || !c.lit('-')
      || !c.digits(2, d)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!(c.lit('T') || c.lit('t') || c.lit(' '))) {
    return bad("expected 'T' between date and time");
  }
  if (!c.digits(2, h) || !c.lit(':') || !c.digits(2, mi) || !c.lit(':')
      || !c.digits(2, s)) {
    return bad("expected HH:MM:SS");
  }
  int64_t nanos = 0;
  if (c.lit('.') || c.lit(',')) {
    int n = 0;
    while (c.peek_digit()) {
      if (n < 9) {
        nanos = nanos * 10 + (c.peek() - '0');
      }
      ++n;
      c.advance();
    }
    if (n == 0) {
      return bad("empty fraction");
    }
    for (int i = n; i < 9; ++i) {
      nanos *= 10;
    }
  }
  int64_t offset_s = 0;
  if (c.lit('Z') || c.lit('z')) {
    offset_s = 0;
  } else if (c.peek() == '+' || c.peek() == '-') {
    const bool neg = c.peek() == '-';
    c.advance();
    int64_t oh = 0;
    int64_t om = 0;
    if (!c.digits(2, oh)) {
      return bad("bad UTC offset");
    }
    c.lit(':');
    if (!c.digits(2, om) || oh > 23 || om > 59) {
      return bad("bad UTC offset");
    }
    offset_s = (oh * 3600 + om * 60) * (neg ? -1 : 1);
  } else {
    return bad("missing UTC offset ('Z' or +HH:MM)");
  }
  if (!c.at_end()) {
    return bad("trailing characters");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, static_cast<int>(mo))
      || h > 23 || mi > 59 || s > 60) {
    return bad("field out of range");
  }
  if (s == 60) {
    s = 59; // a leap second is folded onto :59 (POSIX time has no leap seconds)
    nanos = 999'999'999;
  }
  const int64_t days = days_from_civil(y, static_cast<int>(mo), static_cast<int>(d));
  return Parsed{days * k_s_per_day + h * 3600 + mi * 60 + s - offset_s, nanos};
}

} // namespace

Result<int64_t> parse_rfc3339_ns(std::string_view text) {
  CUSTODY_TRY_ASSIGN(const Parsed p, parse_rfc3339(text));
  // int64 nanoseconds cover 1677-09-21 .. 2262-04-11.
  constexpr int64_t k_max_secs = INT64_MAX / k_ns_per_s - 1;
  if (p.secs > k_max_secs || p.secs < -k_max_secs) {
    return fail(Errc::invalid_input,
                fmt::format("timestamp '{}' is outside the years 1678-2262", text));
  }
  return p.secs * k_ns_per_s + p.nanos;
}

Result<int64_t> parse_rfc3339_ms(std::string_view text) {
  CUSTODY_TRY_ASSIGN(const Parsed p, parse_rfc3339(text));
  return p.secs * 1000 + p.nanos / 1'000'000;
}

} // namespace custody
