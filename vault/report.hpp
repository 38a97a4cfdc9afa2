// Renders the runbook's chain-of-custody log for one incident:
//
//   | # | Evidence Item | Hash (SHA-256) | Collected By | Date/Time (UTC) | Storage Location | Notes |
//
// followed by the access history (who took which item out, when, why, and
// whether the copy verified) and the status history. Formats: Markdown (the
// runbook's own), CSV (one table per section, RFC 4180 quoting) and JSON.
// Text from the ledger is escaped for the format and for terminals: a hostile
// file name cannot break the table or emit escape sequences.
//
// Thread-safety: pure functions.
#pragma once

#include "common/result.hpp"
#include "verify/entry.hpp"

#include <string>
#include <vector>

namespace custody::vault {

enum class LogFormat { markdown, csv, json };

// Parses "md"/"markdown", "csv" or "json".
Result<LogFormat> parse_log_format(const std::string& name);

// Returns the custody log of `incident` with its `items` (ordered by number)
// and `accesses` (ordered by seq).
std::string render_custody_log(const verify::Json& incident, const std::vector<verify::Json>& items,
                               const std::vector<verify::Json>& accesses, LogFormat format);

} // namespace custody::vault
