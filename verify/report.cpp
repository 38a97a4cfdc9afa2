#include "verify/report.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace custody::verify {

const char* severity_name(Severity severity) {
  switch (severity) {
  case Severity::finding:
    return "finding";
  case Severity::warning:
    return "warning";
  case Severity::info:
    return "info";
  }
  return "?";
}

std::string Finding::line() const {
  const std::string text =
      subject.empty() ? message : fmt::format("{}: {}", subject, message);
  if (severity == Severity::finding) {
    return text;
  }
  return fmt::format("{}: {}", severity_name(severity), text);
}

void Report::add(Finding finding) {
  add_at(m_kept.size(), {std::move(finding)});
}

void Report::add_at(size_t position, std::vector<Finding> findings) {
  position = std::min(position, m_kept.size());
  for (Finding& finding : findings) {
    if (count_and_keep(finding)) {
      m_kept.insert(m_kept.begin() + static_cast<std::ptrdiff_t>(position), std::move(finding));
      ++position;
    }
  }
}

bool Report::count_and_keep(const Finding& finding) {
  m_counts.at(static_cast<size_t>(finding.severity)) += 1;
  if (finding.severity == Severity::finding && finding.seq) {
    m_first_bad_seq = m_first_bad_seq ? std::min(*m_first_bad_seq, *finding.seq)
                                      : *finding.seq;
  }
  auto it = m_by_code.find(finding.code);
  if (it == m_by_code.end()) {
    it = m_by_code.emplace(finding.code, 0).first;
  }
  it->second += 1;
  return it->second <= m_max_per_code;
}

void Report::entry(std::string_view code, uint64_t seq, std::string message) {
  Finding f;
  f.code = std::string(code);
  f.seq = seq;
  f.subject = fmt::format("seq {}", seq);
  f.message = std::move(message);
  add(std::move(f));
}

void Report::item(std::string_view code,
                  const std::string& item,
                  std::string message) {
  Finding f;
  f.code = std::string(code);
  f.item = item;
  f.subject = fmt::format("item {}", item);
  f.message = std::move(message);
  add(std::move(f));
}

void Report::other(Severity severity,
                   std::string_view code,
                   std::string subject,
                   std::string message) {
  Finding f;
  f.severity = severity;
  f.code = std::string(code);
  f.subject = std::move(subject);
  f.message = std::move(message);
  add(std::move(f));
}

uint64_t Report::count(Severity severity) const {
  return m_counts.at(static_cast<size_t>(severity));
}

uint64_t Report::count_code(std::string_view code) const {
  auto it = m_by_code.find(code);
  return it == m_by_code.end() ? 0 : it->second;
}

std::map<std::string, uint64_t> Report::suppressed() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [c, n] : m_by_code) {
    if (n > m_max_per_code) {
      out.emplace(c, n - m_max_per_code);
    }
  }
  return out;
}

} // namespace custody::verify
