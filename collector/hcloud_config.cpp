#include "collector/hcloud_config.hpp"

#include "common/c_handle.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace custody::collector::hcloud {

namespace {

void wipe(std::string& s) noexcept {
  if (!s.empty()) {
    explicit_bzero(s.data(), s.size());
  }
  s.clear();
}

bool token_char_ok(char c) {
  return c > 0x20 && c < 0x7f; // printable ASCII, no space
}

const char* env_nonempty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

Result<LoadedToken> token_from_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail_errno("open token file " + name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail_errno("stat token file " + name);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_input,
                fmt::format("token file {} is not a regular file", name));
  }
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::invalid_input,
                fmt::format("token file {} is accessible by group or others "
                            "(mode {:04o}); run: chmod 600 {}",
                            name,
                            st.st_mode & 07777,
                            name));
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return fail(Errc::invalid_input,
                fmt::format("token file {} is owned by uid {}, not by you",
                            name,
                            st.st_uid));
  }
  if (st.st_size > static_cast<off_t>(k_max_token_bytes + 2)) {
    return fail(Errc::invalid_input,
                fmt::format("token file {} is too large for a token ({} bytes)",
                            name,
                            st.st_size));
  }
  std::string content;
  std::array<char, 512> buf{};
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      explicit_bzero(buf.data(), buf.size());
      wipe(content);
      return fail_errno("read token file " + name, err);
    }
    if (n == 0) {
      break;
    }
    content.append(buf.data(), static_cast<size_t>(n));
    if (content.size() > k_max_token_bytes + 2) {
      explicit_bzero(buf.data(), buf.size());
      wipe(content);
      return fail(Errc::invalid_input,
                  fmt::format("token file {} is too large for a token", name));
    }
  }
  explicit_bzero(buf.data(), buf.size());
  while (!content.empty()
         && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  auto token = Token::from_string(std::move(content));
  wipe(content); // moved-from; may still hold SSO bytes
  if (!token) {
    return tl::unexpected(with_context(token.error(), "token file " + name));
  }
  return LoadedToken{std::move(*token), TokenSource::token_file, name};
}

} // namespace

Token::Token(std::string value)
    : m_value(std::make_unique<std::string>(std::move(value))) {}

Token::~Token() {
  if (m_value) {
    wipe(*m_value);
  }
}

Result<Token> Token::from_string(std::string value) {
  if (value.empty()) {
    return fail(Errc::invalid_input, "the API token is empty");
  }
  if (value.size() > k_max_token_bytes) {
    wipe(value);
    return fail(Errc::invalid_input,
                fmt::format("the API token is longer than {} bytes",
                            k_max_token_bytes));
  }
  if (!std::all_of(value.begin(), value.end(), token_char_ok)) {
    wipe(value);
    return fail(Errc::invalid_input,
                "the API token contains whitespace or control characters");
  }
  return Token(std::move(value));
}

const char* Token::reveal() const noexcept {
  return m_value ? m_value->c_str() : "";
}

std::size_t Token::size() const noexcept {
  return m_value ? m_value->size() : 0;
}

Result<LoadedToken>
load_token(const std::optional<std::filesystem::path>& token_file) {
  if (token_file) {
    return token_from_file(*token_file);
  }
  for (const auto& [var, source] :
       {std::pair{"HCLOUD_TOKEN", TokenSource::env_hcloud_token},
        std::pair{"HETZNER_API_TOKEN", TokenSource::env_hetzner_api_token}}) {
    if (const char* v = env_nonempty(var)) {
      auto token = Token::from_string(std::string(v));
      if (!token) {
        return tl::unexpected(with_context(
            token.error(), std::string("environment variable ") + var));
      }
      return LoadedToken{std::move(*token), source, var};
    }
  }
  return fail(Errc::invalid_input,
              "no Hetzner API token: set HCLOUD_TOKEN (or HETZNER_API_TOKEN) "
              "or pass --token-file FILE");
}

Result<std::string> resolve_endpoint(const std::optional<std::string>& flag) {
  if (flag) {
    auto url = validate_endpoint(*flag);
    if (!url) {
      return tl::unexpected(with_context(url.error(), "--endpoint"));
    }
    return url;
  }
  if (const char* env = env_nonempty("HCLOUD_ENDPOINT")) {
    auto url = validate_endpoint(env);
    if (!url) {
      return tl::unexpected(with_context(url.error(), "HCLOUD_ENDPOINT"));
    }
    return url;
  }
  return std::string(k_default_endpoint);
}

Result<std::string> validate_endpoint(std::string_view url) {
  std::string_view rest;
  bool https = false;
  if (url.starts_with("https://")) {
    https = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return fail(Errc::invalid_input,
                "endpoint must start with https:// (or http:// for a loopback "
                "stand-in)");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    // Do not echo the URL: the part before '@' is a credential.
    return fail(Errc::invalid_input,
                "endpoint must not contain credentials (user:password@)");
  }
  if (authority.empty()) {
    return fail(Errc::invalid_input,
                fmt::format("endpoint {} has no host", url));
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return fail(
        Errc::invalid_input,
        fmt::format("endpoint {} must not have a query or fragment", url));
  }
  if (std::any_of(url.begin(), url.end(), [](char c) {
        return c <= 0x20 || c >= 0x7f;
      })) {
    return fail(Errc::invalid_input,
                "endpoint contains whitespace or control characters");
  }
  if (!https) {
    std::string_view host = authority;
    if (host.starts_with("[")) {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
      return fail(Errc::invalid_input,
                  fmt::format("endpoint {} uses plain http to a non-loopback "
                              "host; the token would travel "
                              "unencrypted (use https://)",
                              url));
    }
  }
  std::string out(url);
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

} // namespace custody::collector::hcloud
