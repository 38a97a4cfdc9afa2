#include "common/secret.hpp"

#include "common/c_handle.hpp"

#include <fmt/format.h>

#include <openssl/crypto.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace custody {

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe();
    m_value = other.m_value;
  }
  return *this;
}

Secret::Secret(Secret&& other) noexcept
  : m_value(std::move(other.m_value)) {
  other.wipe();
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    m_value = std::move(other.m_value);
    other.wipe();
  }
  return *this;
}

Secret::~Secret() {
  wipe();
}

void Secret::wipe() noexcept {
  if (!m_value.empty()) {
    OPENSSL_cleanse(m_value.data(), m_value.size());
  }
  m_value.clear();
}

Result<Secret> read_secret_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail_errno("open " + path.string());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail_errno("stat " + path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_input, fmt::format("{}: not a regular file", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::invalid_input,
                fmt::format("{}: secret file is accessible by group or others (mode {:04o}); "
                            "run: chmod 600 {}",
                            path.string(), st.st_mode & 07777, path.string()));
  }
  if (st.st_uid != ::geteuid()) {
    return fail(Errc::invalid_input,
                fmt::format("{}: secret file is not owned by the current user", path.string()));
  }
  std::string value;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      OPENSSL_cleanse(buf, sizeof buf);
      return fail_errno("read " + path.string());
    }
    if (n == 0) {
      break;
    }
    value.append(buf, static_cast<size_t>(n));
    if (value.size() > 64 * 1024) {
      OPENSSL_cleanse(buf, sizeof buf);
      Secret wipe_me(std::move(value));
      return fail(Errc::invalid_input, fmt::format("{}: secret file is too large", path.string()));
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  if (!value.empty() && value.back() == '\n') {
    value.pop_back();
    if (!value.empty() && value.back() == '\r') {
      value.pop_back();
    }
  }
  Secret secret(std::move(value));
  if (secret.empty()) {
    return fail(Errc::invalid_input, fmt::format("{}: secret file is empty", path.string()));
  }
  return secret;
}

} // namespace custody
