// Tests for hcloud_config.hpp: token handling (research §1.1; DESIGN §7
// "secrets never reach a log, the ledger, argv or a file") and endpoint
// selection.
#include "collector/hcloud_config.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "tests/testutil.hpp"

using namespace custody::collector::hcloud;

namespace {

// Sets or unsets environment variables for one test and restores them.
class EnvGuard {
public:
  EnvGuard(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      m_saved.emplace_back(name,
                           old != nullptr ? std::optional<std::string>(old)
                                          : std::nullopt);
      if (value != nullptr) {
        setenv(name, value, 1);
      } else {
        unsetenv(name);
      }
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  ~EnvGuard() {
    for (const auto& [name, value] : m_saved) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

private:
  std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

std::filesystem::path token_file(const std::string& content, mode_t mode) {
  const auto dir = custody::test::case_dir("token");
  const auto path = dir / "token";
  custody::test::write_file(path, content);
  ::chmod(path.c_str(), mode);
  return path;
}

} // namespace

TEST_CASE(
    "hcloud::Token::from_string rejects empty, whitespace and control "
    "characters without echoing them") {
  CHECK(Token::from_string("abcDEF123").has_value());
  CHECK(Token::from_string("abcDEF123")->size() == 9);
  CHECK(std::string(Token::from_string("abcDEF123")->reveal()) == "abcDEF123");
  CHECK_FALSE(Token::from_string("").has_value());
  for (const std::string& bad :
       std::vector<std::string>{"secret with space",
                                "secret\r\nX-Injected: 1",
                                "secret\ttab",
                                std::string("sec\0ret", 7)}) {
    auto t = Token::from_string(bad);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().message.find("secret") == std::string::npos);
    CHECK(t.error().code == custody::Errc::invalid_input);
  }
  CHECK_FALSE(
      Token::from_string(std::string(k_max_token_bytes + 1, 'a')).has_value());
}

TEST_CASE(
    "hcloud::load_token prefers an explicit token file, then HCLOUD_TOKEN, "
    "then HETZNER_API_TOKEN") {
  SUBCASE("file wins over the environment and a trailing CRLF is trimmed") {
    EnvGuard env(
        {{"HCLOUD_TOKEN", "from-env"}, {"HETZNER_API_TOKEN", "from-env-2"}});
    const auto path = token_file("from-file\r\n", 0600);
    auto t = load_token(path);
    REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
    CHECK(std::string(t->token.reveal()) == "from-file");
    CHECK(t->source == TokenSource::token_file);
    CHECK(t->origin == path.string());
  }
  SUBCASE("HCLOUD_TOKEN before HETZNER_API_TOKEN; empty counts as unset") {
    {
      EnvGuard env(
          {{"HCLOUD_TOKEN", "first"}, {"HETZNER_API_TOKEN", "second"}});
      auto t = load_token(std::nullopt);
      REQUIRE(t.has_value());
      CHECK(std::string(t->token.reveal()) == "first");
      CHECK(t->origin == "HCLOUD_TOKEN");
    }
    {
      EnvGuard env({{"HCLOUD_TOKEN", ""}, {"HETZNER_API_TOKEN", "second"}});
      auto t = load_token(std::nullopt);
      REQUIRE(t.has_value());
      CHECK(std::string(t->token.reveal()) == "second");
      CHECK(t->source == TokenSource::env_hetzner_api_token);
    }
  }
  SUBCASE("no token anywhere names the three ways to give one") {
    EnvGuard env({{"HCLOUD_TOKEN", nullptr}, {"HETZNER_API_TOKEN", nullptr}});
    auto t = load_token(std::nullopt);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().message.find("HCLOUD_TOKEN") != std::string::npos);
    CHECK(t.error().message.find("--token-file") != std::string::npos);
  }
  SUBCASE("an env token with a newline inside is refused without echoing it") {
    EnvGuard env({{"HCLOUD_TOKEN", "topsecret\nmore"}});
    auto t = load_token(std::nullopt);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().message.find("HCLOUD_TOKEN") != std::string::npos);
    CHECK(t.error().message.find("topsecret") == std::string::npos);
  }
}

TEST_CASE(
    "hcloud::load_token refuses token files that group or others can access") {
  for (mode_t mode : {0644U, 0640U, 0604U, 0620U}) {
    const auto path = token_file("hunter2-token\n", mode);
    auto t = load_token(path);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().message.find("chmod 600") != std::string::npos);
    CHECK(t.error().message.find("hunter2") == std::string::npos);
  }
  CHECK(load_token(token_file("ok-token\n", 0400)).has_value());
  auto missing =
      load_token(std::filesystem::path("/nonexistent/custody-token"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("/nonexistent/custody-token")
        != std::string::npos);
  auto dir = load_token(custody::test::case_dir("token-dir"));
  CHECK_FALSE(dir.has_value());
  auto spaced = load_token(token_file("two words\n", 0600));
  REQUIRE_FALSE(spaced.has_value());
  CHECK(spaced.error().message.find("words") == std::string::npos);
}

TEST_CASE(
    "hcloud::resolve_endpoint: --endpoint, then HCLOUD_ENDPOINT, then the "
    "default") {
  {
    EnvGuard env({{"HCLOUD_ENDPOINT", nullptr}});
    CHECK(resolve_endpoint(std::nullopt).value()
          == "https://api.hetzner.cloud/v1");
  }
  {
    EnvGuard env({{"HCLOUD_ENDPOINT", "http://127.0.0.1:8080/v1/"}});
    CHECK(resolve_endpoint(std::nullopt).value() == "http://127.0.0.1:8080/v1");
    CHECK(resolve_endpoint(std::string("https://example.test/v1")).value()
          == "https://example.test/v1");
  }
  {
    EnvGuard env({{"HCLOUD_ENDPOINT", "ftp://x"}});
    auto r = resolve_endpoint(std::nullopt);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("HCLOUD_ENDPOINT") != std::string::npos);
  }
}

TEST_CASE(
    "hcloud::validate_endpoint refuses cleartext to remote hosts and embedded "
    "credentials") {
  CHECK(validate_endpoint("http://localhost:1234/v1").has_value());
  CHECK(validate_endpoint("http://[::1]:1234/v1").has_value());
  auto remote = validate_endpoint("http://api.hetzner.cloud/v1");
  REQUIRE_FALSE(remote.has_value());
  CHECK(remote.error().message.find("unencrypted") != std::string::npos);
  auto creds = validate_endpoint("https://user:pa55word@api.hetzner.cloud/v1");
  REQUIRE_FALSE(creds.has_value());
  CHECK(creds.error().message.find("pa55word") == std::string::npos);
  CHECK_FALSE(
      validate_endpoint("https://api.hetzner.cloud/v1?x=1").has_value());
  CHECK_FALSE(validate_endpoint("https:///v1").has_value());
}
