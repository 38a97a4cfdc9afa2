// Secret: a string that holds a credential (API token, key passphrase).
//
// It has no stream operator and no implicit conversion, so it cannot be logged
// or formatted by accident, and its bytes are wiped (OPENSSL_cleanse) when it is
// destroyed. Read one with read_secret_file(); never take one from argv.
//
// Thread-safety: a plain value.
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace custody {

class Secret {
public:
  Secret() = default;
  explicit Secret(std::string value)
    : m_value(std::move(value)) {}
  Secret(const Secret& other) = default;
  Secret& operator=(const Secret& other);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // Returns the secret's bytes; the caller must not log or store them.
  [[nodiscard]] std::string_view reveal() const {
    return m_value;
  }
  [[nodiscard]] bool empty() const {
    return m_value.empty();
  }

private:
  void wipe() noexcept;
  std::string m_value;
};

// Reads a secret from `path`, dropping one trailing "\n" or "\r\n". Refuses a
// file that is group- or world-readable or not owned by the caller, as OpenSSH
// does for private keys, and an empty file.
Result<Secret> read_secret_file(const std::filesystem::path& path);

} // namespace custody
