// Test helper: runs hcloud-standin as a real subprocess on 127.0.0.1 (port 0,
// so parallel test runs do not collide) with a fresh random token, and talks
// to its control surface. Test-only code: failures throw std::runtime_error,
// which doctest reports as a failed test case.
//
// Each StandinProcess gets its own directory under the test run's temp dir
// (token file, port file, the stand-in's stdout/stderr); it is kept when a
// test fails (tests/doctest_main.cpp).
//
// Thread-safety: one StandinProcess per test; not shared between threads.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace custody::test {

// Returns the path of a data file next to the stand-in's sources
// (seed_project.json, seed_fleet.json, expected_inventory.json, …).
std::filesystem::path standin_data(const std::string& name);

struct StandinOptions {
  std::string seed =
      "seed_project.json"; // relative to standin_data() unless absolute
  std::vector<std::string> args = {"--action-ms",
                                   "150"}; // extra command-line options
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers; // lower-case names
  nlohmann::json json() const;
};

class StandinProcess {
public:
  explicit StandinProcess(const StandinOptions& options = {});
  StandinProcess(const StandinProcess&) = delete;
  StandinProcess& operator=(const StandinProcess&) = delete;
  ~StandinProcess(); // SIGTERM, then waits

  [[nodiscard]] int port() const {
    return m_port;
  }
  // Returns "http://127.0.0.1:<port>/v1".
  [[nodiscard]] std::string endpoint() const;
  [[nodiscard]] const std::string& token() const {
    return m_token;
  }
  [[nodiscard]] const std::filesystem::path& dir() const {
    return m_dir;
  }

  // Sends a control request (/__standin/<what>) and returns its JSON answer.
  nlohmann::json control(const std::string& method,
                         const std::string& what,
                         const nlohmann::json& body = nullptr);
  // Scripts faults (see README.md): one fault object or an array.
  void add_faults(const nlohmann::json& faults);
  // Returns the stand-in's request log.
  nlohmann::json requests();

  // Sends an API request (path relative to /v1, with query) with the valid
  // token unless `bearer` overrides it ("" = no Authorization header).
  HttpResult api(const std::string& method,
                 const std::string& path,
                 const nlohmann::json& body = nullptr,
                 const std::string* bearer = nullptr);

  // Returns what the stand-in wrote to stderr so far.
  [[nodiscard]] std::string stderr_text() const;

private:
  std::filesystem::path m_dir;
  std::string m_token;
  pid_t m_pid = -1;
  int m_port = 0;
};

// Sends one HTTP request with libcurl (test helper; no retries).
HttpResult http_request(const std::string& method,
                        const std::string& url,
                        const std::string& body,
                        const std::vector<std::string>& headers);

} // namespace custody::test
