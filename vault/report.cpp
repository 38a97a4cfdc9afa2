#include "vault/report.hpp"

#include "common/text.hpp"
#include "common/time.hpp"

#include <fmt/format.h>

namespace custody::vault {

using verify::Json;

namespace {

std::string str(const Json& v) {
  if (v.is_null()) {
    return "";
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  return v.dump();
}

// "2026-12-03T01:02:03.456Z" -> "2026-12-03 01:02:03"
std::string utc_seconds(const Json& v) {
  if (!v.is_string()) {
    return "";
  }
  auto ms = parse_rfc3339_ms(v.get<std::string>());
  return ms ? format_utc_seconds(*ms) : v.get<std::string>();
}

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : escape_for_terminal(s)) {
    if (c == '|') {
      out += "\\|";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string csv_cell(const std::string& s) {
  const std::string e = escape_for_terminal(s);
  if (e.find_first_of(",\"\n") == std::string::npos && (e.empty() || (e.front() != ' ' && e.back() != ' '))) {
    return e;
  }
  std::string out = "\"";
  for (char c : e) {
    if (c == '"') {
      out += "\"\"";
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string evidence_label(const Json& item) {
  const std::string name = str(item.at("original_name"));
  const std::string base = name.substr(name.find_last_of('/') == std::string::npos ? 0 : name.find_last_of('/') + 1);
  std::string label = str(item.at("id"));
  if (!base.empty()) {
    label += ": " + base;
  }
  label += fmt::format(" ({}, {}, {} bytes)", str(item.at("kind")), str(item.at("source")),
                       item.at("size").get<int64_t>());
  return label;
}

// The runbook writes "N/A (Hetzner)" for a snapshot whose bytes stay at the
// provider: name the provider from the item's source ("hetzner:server/42").
std::string hash_cell(const Json& item) {
  if (!item.at("sha256").is_null()) {
    return str(item.at("sha256"));
  }
  std::string provider = str(item.at("source")).substr(0, str(item.at("source")).find(':'));
  if (provider == "hetzner") {
    provider = "Hetzner";
  }
  return fmt::format("N/A ({})", provider.empty() ? "held at the provider" : provider);
}

std::string access_result(const Json& a) {
  const std::string outcome = str(a.at("outcome"));
  if (outcome == "ok") {
    return "copy verified (SHA-256 " + str(a.at("copy_sha256")).substr(0, 16) + "...)";
  }
  if (outcome == "failed") {
    return "FAILED: " + str(a.at("detail"));
  }
  return "no result recorded";
}

} // namespace

Result<LogFormat> parse_log_format(const std::string& name) {
  if (name == "md" || name == "markdown") {
    return LogFormat::markdown;
  }
  if (name == "csv") {
    return LogFormat::csv;
  }
  if (name == "json") {
    return LogFormat::json;
  }
  return fail(Errc::invalid_input, fmt::format("unknown format '{}': use md, csv or json", name));
}

std::string render_custody_log(const Json& incident, const std::vector<Json>& items,
                               const std::vector<Json>& accesses, LogFormat format) {
  if (format == LogFormat::json) {
    Json out{{"incident", incident}, {"evidence", items}, {"accesses", accesses}};
    return out.dump(2) + "\n";
  }
  std::string out;
  if (format == LogFormat::markdown) {
    out += fmt::format("# Chain of custody: {} ({}, {})\n\n", md_cell(str(incident.at("id"))),
                       md_cell(str(incident.at("title"))), str(incident.at("status")));
    out += "## Evidence\n\n";
    out += "| # | Evidence Item | Hash (SHA-256) | Collected By | Date/Time (UTC) | Storage Location | Notes |\n";
    out += "|---|---|---|---|---|---|---|\n";
    for (const Json& it : items) {
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", it.at("n").get<int64_t>(),
                         md_cell(evidence_label(it)), md_cell(hash_cell(it)),
                         md_cell(str(it.at("collected_by"))), utc_seconds(it.at("collected_at")),
                         md_cell(str(it.at("location"))), md_cell(str(it.at("notes"))));
    }
    out += "\n## Access history\n\n";
    out += "| Entry | Date/Time (UTC) | Who | Item | Action | Purpose | Destination | Result |\n";
    out += "|---|---|---|---|---|---|---|---|\n";
    for (const Json& a : accesses) {
      out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", a.at("seq").get<int64_t>(),
                         utc_seconds(a.at("at")), md_cell(str(a.at("actor"))),
                         md_cell(str(a.at("item"))), md_cell(str(a.at("action"))),
                         md_cell(str(a.at("purpose"))), md_cell(str(a.at("destination"))),
                         md_cell(access_result(a)));
    }
    out += "\n## Status history\n\n";
    out += "| Entry | Date/Time (UTC) | Who | From | To | Note |\n";
    out += "|---|---|---|---|---|---|\n";
    for (const Json& h : incident.at("history")) {
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", h.at("seq").get<int64_t>(),
                         utc_seconds(h.at("at")), md_cell(str(h.at("actor"))), str(h.at("from")),
                         str(h.at("to")), md_cell(str(h.at("note"))));
    }
    return out;
  }
  out += "#,Evidence Item,Hash (SHA-256),Collected By,Date/Time (UTC),Storage Location,Notes\n";
  for (const Json& it : items) {
    out += fmt::format("{},{},{},{},{},{},{}\n", it.at("n").get<int64_t>(),
                       csv_cell(evidence_label(it)), csv_cell(hash_cell(it)),
                       csv_cell(str(it.at("collected_by"))), utc_seconds(it.at("collected_at")),
                       csv_cell(str(it.at("location"))), csv_cell(str(it.at("notes"))));
  }
  out += "\nEntry,Date/Time (UTC),Who,Item,Action,Purpose,Destination,Result\n";
  for (const Json& a : accesses) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", a.at("seq").get<int64_t>(),
                       utc_seconds(a.at("at")), csv_cell(str(a.at("actor"))),
                       csv_cell(str(a.at("item"))), csv_cell(str(a.at("action"))),
                       csv_cell(str(a.at("purpose"))), csv_cell(str(a.at("destination"))),
                       csv_cell(access_result(a)));
  }
  return out;
}

} // namespace custody::vault
