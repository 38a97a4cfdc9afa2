// Report: what `custody verify` found, one Finding at a time.
//
// A verifier never stops at the first problem and never turns a problem with
// the evidence into an Error: it adds a Finding and keeps reading, as LevelDB's
// log::Reader::Reporter does. Errors (Result) are kept for "could not run"
// (no vault, unreadable database). Each finding names what it is about (an
// entry seq, an evidence item, a checkpoint, an object, a projection row), a
// stable reason code for machines, and a sentence for people.
//
// Messages quote text from the vault (actor names, origins, file names) as it
// is: escape them before printing to a terminal (cli/cmd_verify.cpp does).
//
// Severities: a `finding` fails verification (exit 1); a `warning` is worth
// reading but proves nothing wrong (trust on first use, a dropped trigger, an
// entry after the last checkpoint); `info` is context. To keep one broken
// thing from burying the rest, a Report keeps at most `max_per_code` findings
// of the same code in full and only counts the others (they are reported as
// "N more").
//
// Thread-safety: a Report is used from one thread (the verifier's fold);
// parallel stages collect their findings locally and add them in order.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custody::verify {

enum class Severity { finding, warning, info };

// Returns "finding", "warning" or "info".
const char* severity_name(Severity severity);

// Reason codes (schemas/FORMAT.md §10.4 lists them with their meaning).
namespace code {
inline constexpr std::string_view database =
    "database"; // structure, integrity_check
inline constexpr std::string_view identity =
    "identity"; // origin / ledger key / genesis mismatch
inline constexpr std::string_view trust =
    "trust"; // trust on first use, pinning notes
inline constexpr std::string_view append_only_guard =
    "append_only_guard"; // triggers missing (warning)
inline constexpr std::string_view seq_gap = "seq_gap"; // rows missing
inline constexpr std::string_view seq_mismatch =
    "seq_mismatch"; // row seq != entry seq
inline constexpr std::string_view entry_malformed =
    "entry_malformed"; // not canonical / schema
inline constexpr std::string_view origin = "origin";
inline constexpr std::string_view prev = "prev";
inline constexpr std::string_view time = "time";
inline constexpr std::string_view key =
    "key"; // signer not registered / revoked / other actor
inline constexpr std::string_view signature = "signature";
inline constexpr std::string_view rule =
    "rule"; // apply_entry refused the entry
inline constexpr std::string_view leaf_hash = "leaf_hash_column";
inline constexpr std::string_view kid_column = "kid_column";
inline constexpr std::string_view verify_record =
    "verify_record"; // a recorded verification's claim is wrong
inline constexpr std::string_view uncovered =
    "uncovered"; // entries after the last checkpoint (warning)
inline constexpr std::string_view checkpoint_malformed = "checkpoint_malformed";
inline constexpr std::string_view checkpoint_signature = "checkpoint_signature";
inline constexpr std::string_view checkpoint_origin = "checkpoint_origin";
inline constexpr std::string_view checkpoint_root =
    "checkpoint_root"; // root != ledger at that size
inline constexpr std::string_view checkpoint_order = "checkpoint_order";
inline constexpr std::string_view truncated =
    "truncated"; // checkpoint beyond the ledger
inline constexpr std::string_view equivocation =
    "equivocation"; // same size, different roots, both signed
inline constexpr std::string_view projection_missing = "projection_missing";
inline constexpr std::string_view projection_extra = "projection_extra";
inline constexpr std::string_view projection_differs = "projection_differs";
inline constexpr std::string_view projection_column = "projection_column";
inline constexpr std::string_view object_missing = "object_missing";
inline constexpr std::string_view object_not_regular = "object_not_regular";
inline constexpr std::string_view object_size = "object_size";
inline constexpr std::string_view object_mismatch = "object_mismatch";
inline constexpr std::string_view object_unreadable = "object_unreadable";
inline constexpr std::string_view object_extra = "object_extra";
inline constexpr std::string_view object_mode =
    "object_mode"; // writable object (warning)
inline constexpr std::string_view leftover_tmp =
    "leftover_tmp"; // objects/tmp leftovers (info)
} // namespace code

struct Finding {
  Severity severity = Severity::finding;
  std::string code;            // one of code::*
  std::optional<uint64_t> seq; // the ledger entry concerned, if any
  std::string item;            // the evidence item concerned, if any
  std::string subject; // what the finding is about, for people: "seq 12",
                       // "item INC-…-E3", "checkpoint 57 (stored)", ...
  std::string message; // why, in one sentence

  // Returns "<subject>: <message>" (warnings and info prefixed with their
  // severity).
  [[nodiscard]] std::string line() const;
};

class Report {
public:
  explicit Report(size_t max_per_code = 100)
      : m_max_per_code(max_per_code) {}

  // Adds `finding`; beyond max_per_code of its code it is only counted.
  void add(Finding finding);
  // Adds `findings` in order, as though they had been added when findings()
  // held `position` of them (work done concurrently keeps its place).
  void add_at(size_t position, std::vector<Finding> findings);
  // Shorthands for add().
  void entry(std::string_view code, uint64_t seq, std::string message);
  void
  item(std::string_view code, const std::string& item, std::string message);
  void other(Severity severity,
             std::string_view code,
             std::string subject,
             std::string message);

  // Findings kept in full, in the order they were added.
  [[nodiscard]] const std::vector<Finding>& findings() const {
    return m_kept;
  }
  // Returns how many findings of `severity` were added (kept or not).
  [[nodiscard]] uint64_t count(Severity severity) const;
  // Returns how many findings of `code` were added (kept or not).
  [[nodiscard]] uint64_t count_code(std::string_view code) const;
  // Codes whose findings were only partly kept, with the number left out.
  [[nodiscard]] std::map<std::string, uint64_t> suppressed() const;
  // Returns the lowest entry seq named by a finding (severity finding), if any.
  [[nodiscard]] std::optional<uint64_t> first_bad_seq() const {
    return m_first_bad_seq;
  }
  // Returns true when no finding of severity `finding` was added.
  [[nodiscard]] bool clean() const {
    return count(Severity::finding) == 0;
  }

private:
  // Counts `finding`; returns whether it is kept in full.
  bool count_and_keep(const Finding& finding);

  size_t m_max_per_code;
  std::vector<Finding> m_kept;
  std::map<std::string, uint64_t, std::less<>> m_by_code;
  std::array<uint64_t, 3> m_counts{};
  std::optional<uint64_t> m_first_bad_seq;
};

} // namespace custody::verify
