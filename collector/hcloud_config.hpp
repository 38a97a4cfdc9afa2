// Hetzner Cloud credentials and endpoint selection.
//
// A Token holds the API token and refuses to be shown: it has no operator<<,
// no fmt formatter and no accessor returning std::string, so it cannot end up
// in a log line, an Error, the ledger or a file by accident. Only the HTTP
// layer (hcloud_client.cpp) reads it, through reveal(), to hand it to libcurl
// as a bearer token (never in a URL). Its buffer is wiped on destruction.
//
// load_token() implements the CLI's lookup order; resolve_endpoint() the
// `--endpoint` > HCLOUD_ENDPOINT > default order. Neither prints anything.
//
// Thread-safety: plain values. load_token() and resolve_endpoint() read the
// process environment (getenv), which must not be modified concurrently.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace custody::collector::hcloud {

inline constexpr std::string_view k_default_endpoint =
    "https://api.hetzner.cloud/v1";
inline constexpr std::size_t k_max_token_bytes = 4096;

class Token {
public:
  // Returns a Token holding `value`. Fails (without echoing the value) unless
  // it is 1..4096 printable ASCII characters with no whitespace: a token with
  // a CR or LF could otherwise inject HTTP headers.
  static Result<Token> from_string(std::string value);

  Token(Token&& other) noexcept = default;
  Token& operator=(Token&& other) noexcept = default;
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;
  ~Token();

  // Returns the secret as a NUL-terminated string for libcurl.
  // REQUIRES: only for the Authorization header of a request.
  [[nodiscard]] const char* reveal() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept;

private:
  explicit Token(std::string value);
  // Heap-held so moving the Token moves a pointer and leaves no copy behind.
  std::unique_ptr<std::string> m_value;
};

enum class TokenSource { token_file, env_hcloud_token, env_hetzner_api_token };

struct LoadedToken {
  Token token;
  TokenSource source;
  std::string origin; // "HCLOUD_TOKEN", "HETZNER_API_TOKEN" or the file path;
                      // never the value
};

// Returns the API token, looked up in this order:
//   1. `token_file`, when given (the user named it explicitly, so it wins);
//   2. env HCLOUD_TOKEN (the name hcloud-cli and the official clients use);
//   3. env HETZNER_API_TOKEN.
// Empty environment variables count as unset. The file must be a regular file
// owned by the current user (or root), at most 4 KiB, and must not be
// readable or writable by group or others (mode & 077 == 0, like ssh's
// private keys): a token that others can read has leaked, and one that
// others can write can be swapped for an attacker's project. Trailing CR/LF
// characters are trimmed; any other whitespace is an error.
// Pass `token_file` only when the user gave one; a default path would
// override the environment.
Result<LoadedToken>
load_token(const std::optional<std::filesystem::path>& token_file);

// Returns the endpoint to use: `flag` (from --endpoint) if given, else env
// HCLOUD_ENDPOINT if set and non-empty, else k_default_endpoint; validated by
// validate_endpoint().
Result<std::string> resolve_endpoint(const std::optional<std::string>& flag);

// Returns `url` without trailing slashes if it is an absolute http(s) URL
// without credentials, query or fragment. Plain http is accepted only for
// loopback hosts (127.0.0.1, [::1], localhost), because the bearer token
// would otherwise cross the network in clear text.
Result<std::string> validate_endpoint(std::string_view url);

} // namespace custody::collector::hcloud
