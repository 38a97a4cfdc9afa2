// The runbook's chain-of-custody table (schemas/FORMAT.md §9).
#include "vault/report.hpp"

#include <doctest/doctest.h>

using namespace custody;
using namespace custody::vault;
using verify::Json;

namespace {
Json incident() {
  return Json{{"id", "INC-2026-12-03-1"}, {"title", "t"}, {"status", "open"},
              {"history", Json::array()}};
}
Json item(const std::string& notes, const std::string& name) {
  return Json{{"id", "INC-2026-12-03-1-E1"}, {"n", 1}, {"kind", "log_export"},
              {"sha256", std::string(64, 'a')}, {"size", 5}, {"source", "vercel"},
              {"collected_by", "alice"}, {"collected_at", "2026-12-03T01:02:03.456Z"},
              {"location", "vault:o/objects/sha256/aa"}, {"original_name", name},
              {"notes", notes}};
}
} // namespace

TEST_CASE("vault::render_custody_log prints the runbook's table in Markdown") {
  const std::string md = render_custody_log(incident(), {item("n", "/x/auth.log")}, {},
                                            LogFormat::markdown);
  CHECK(md.find("| # | Evidence Item | Hash (SHA-256) | Collected By | Date/Time (UTC) | Storage "
                "Location | Notes |") != std::string::npos);
  CHECK(md.find("| 1 | INC-2026-12-03-1-E1: auth.log (log_export, vercel, 5 bytes) | " +
                std::string(64, 'a') + " | alice | 2026-12-03 01:02:03 |") != std::string::npos);
}

TEST_CASE("vault::render_custody_log escapes hostile text for each format") {
  const Json hostile = item("a|b\x1b[31mred\nnext", "/x/evil|name");
  const std::string md = render_custody_log(incident(), {hostile}, {}, LogFormat::markdown);
  CHECK(md.find("\x1b") == std::string::npos);
  CHECK(md.find("a\\|b\\x1b[31mred\\x0anext") != std::string::npos);
  CHECK(md.find("evil\\|name") != std::string::npos);
  const std::string csv = render_custody_log(incident(), {item("x,\"y\"", "/f")}, {}, LogFormat::csv);
  CHECK(csv.find("\"x,\"\"y\"\"\"") != std::string::npos);
  const std::string json = render_custody_log(incident(), {hostile}, {}, LogFormat::json);
  CHECK(Json::parse(json)["evidence"][0]["notes"] == "a|b\x1b[31mred\nnext");
}

TEST_CASE("vault::parse_log_format") {
  CHECK(*parse_log_format("md") == LogFormat::markdown);
  CHECK(*parse_log_format("csv") == LogFormat::csv);
  CHECK_FALSE(parse_log_format("xml"));
}
