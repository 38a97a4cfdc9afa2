// Running the verifier in-process and asserting on its findings.
#pragma once

#include "verify/verifier.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/adversarial/vault_fixture.hpp"

namespace custody::test {

struct Outcome {
  verify::Report report{SIZE_MAX};
  std::optional<verify::VerifySummary> summary;
  std::optional<Error> error;

  // Returns the kept findings of severity `finding`.
  [[nodiscard]] std::vector<verify::Finding> findings() const {
    std::vector<verify::Finding> out;
    for (const auto& f : report.findings()) {
      if (f.severity == verify::Severity::finding) {
        out.push_back(f);
      }
    }
    return out;
  }
  // Returns true when a finding of `code` names entry `seq`.
  [[nodiscard]] bool has(std::string_view code, uint64_t seq) const {
    for (const auto& f : report.findings()) {
      if (f.severity == verify::Severity::finding && f.code == code
          && f.seq == seq) {
        return true;
      }
    }
    return false;
  }
  // Returns true when a finding (any severity when `any`) of `code` has a
  // subject containing `subject`.
  [[nodiscard]] bool has_subject(std::string_view code,
                                 std::string_view subject,
                                 bool any = false) const {
    for (const auto& f : report.findings()) {
      if ((any || f.severity == verify::Severity::finding) && f.code == code
          && f.subject.find(subject) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  [[nodiscard]] bool has_item(std::string_view code,
                              std::string_view item) const {
    for (const auto& f : report.findings()) {
      if (f.severity == verify::Severity::finding && f.code == code
          && f.item == item) {
        return true;
      }
    }
    return false;
  }
  [[nodiscard]] uint64_t count(verify::Severity s) const {
    return report.count(s);
  }
  [[nodiscard]] bool clean() const {
    return !error && report.clean();
  }
  // All findings, one per line, for failure messages.
  [[nodiscard]] std::string text() const {
    std::string out = error ? "error: " + error->message + "\n" : "";
    for (const auto& f : report.findings()) {
      out += fmt::format("[{}] {}\n", f.code, f.line());
    }
    return out;
  }
};

inline Outcome run_verify(const verify::VerifyOptions& options) {
  Outcome o;
  auto r = verify::verify_vault(options, o.report);
  if (r) {
    o.summary = std::move(*r);
  } else {
    o.error = r.error();
  }
  return o;
}

// The auditor's pins for `s`: origin, ledger key and alice's genesis key.
inline verify::TrustedKeys trusted_keys_of(const SmallVault& s) {
  verify::TrustedKeys k;
  k.origin = s.origin;
  k.ledger_vkey = s.ledger_vkey;
  k.actors.push_back(
      verify::TrustedActor{"alice", s.alice.key.public_key().fingerprint()});
  return k;
}

// Options for `s` with everything the auditor holds: pins and all checkpoint
// copies.
inline verify::VerifyOptions audit_options(const SmallVault& s) {
  verify::VerifyOptions o;
  o.vault = s.dir;
  o.trusted = trusted_keys_of(s);
  o.checkpoint_files = s.checkpoint_files;
  o.threads = 2;
  return o;
}

} // namespace custody::test
