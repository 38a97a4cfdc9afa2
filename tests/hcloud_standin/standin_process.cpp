#include "tests/hcloud_standin/standin_process.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <curl/curl.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/testutil.hpp"

extern char** environ;

namespace custody::test {

namespace {

size_t collect(char* ptr, size_t size, size_t nmemb, void* userdata) noexcept {
  try {
    static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
    return size * nmemb;
  } catch (...) {
    return 0;
  }
}

size_t
collect_header(char* ptr, size_t size, size_t nitems, void* userdata) noexcept {
  try {
    auto* headers = static_cast<std::map<std::string, std::string>*>(userdata);
    std::string line(ptr, size * nitems);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) {
        value.erase(0, 1);
      }
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
        value.pop_back();
      }
      (*headers)[name] = value;
    }
    return size * nitems;
  } catch (...) {
    return 0;
  }
}

std::string random_token() {
  std::random_device rd;
  std::string out = "standin-test-";
  for (int i = 0; i < 4; ++i) {
    out += fmt::format("{:08x}", rd());
  }
  return out;
}

std::atomic<int> g_counter{0};

} // namespace

std::filesystem::path standin_data(const std::string& name) {
  return std::filesystem::path(HCLOUD_STANDIN_DATA_DIR) / name;
}

nlohmann::json HttpResult::json() const {
  return nlohmann::json::parse(body);
}

HttpResult http_request(const std::string& method,
                        const std::string& url,
                        const std::string& body,
                        const std::vector<std::string>& headers) {
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    throw std::runtime_error("curl_easy_init failed");
  }
  HttpResult r;
  curl_slist* list = nullptr;
  for (const auto& line : headers) {
    list = curl_slist_append(list, line.c_str());
  }
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); // the stand-in is local
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    throw std::runtime_error(
        fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc)));
  }
  return r;
}

StandinProcess::StandinProcess(const StandinOptions& options)
    : m_dir(case_dir(fmt::format("standin-{}", g_counter++))),
      m_token(random_token()) {
  const auto token_file = m_dir / "token";
  write_file(token_file, m_token + "\n");
  ::chmod(token_file.c_str(), 0600);
  const auto port_file = m_dir / "port";
  const std::filesystem::path seed =
      options.seed.empty() || options.seed.front() == '/'
          ? std::filesystem::path(options.seed)
          : standin_data(options.seed);
  std::vector<std::string> args = {HCLOUD_STANDIN_BIN,
                                   "--token-file",
                                   token_file.string(),
                                   "--port-file",
                                   port_file.string()};
  if (!options.seed.empty()) {
    args.insert(args.end(), {"--seed", seed.string()});
  }
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = (m_dir / "stdout").string();
  const std::string err = (m_dir / "stderr").string();
  posix_spawn_file_actions_addopen(
      &actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(
      &actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int rc =
      posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error(
        fmt::format("posix_spawn {}: {}", argv[0], std::strerror(rc)));
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("hcloud-standin exited early: " + stderr_text());
    }
    std::ifstream in(port_file);
    if (in >> m_port && m_port > 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("hcloud-standin did not start within 15 s: "
                           + stderr_text());
}

StandinProcess::~StandinProcess() {
  if (m_pid <= 0) {
    return;
  }
  ::kill(m_pid, SIGTERM);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 500 && !exited; ++i) {
    exited = ::waitpid(m_pid, &status, WNOHANG) == m_pid;
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!exited) {
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, &status, 0);
  }
  // A crash or a sanitizer report inside the stand-in would otherwise only
  // show up as a dropped connection in the test.
  const std::string err = stderr_text();
  const bool sanitizer = err.find("runtime error:") != std::string::npos
                         || err.find("Sanitizer") != std::string::npos;
  CHECK_MESSAGE(!sanitizer, "hcloud-standin reported: " << err.substr(0, 4000));
  CHECK_MESSAGE(exited, "hcloud-standin did not stop on SIGTERM");
  CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                "hcloud-standin exit status " << status);
}

std::string StandinProcess::endpoint() const {
  return fmt::format("http://127.0.0.1:{}/v1", m_port);
}

nlohmann::json StandinProcess::control(const std::string& method,
                                       const std::string& what,
                                       const nlohmann::json& body) {
  auto r = http_request(
      method,
      fmt::format("http://127.0.0.1:{}/__standin/{}", m_port, what),
      body.is_null() ? "" : body.dump(),
      {});
  if (r.status < 200 || r.status >= 300) {
    throw std::runtime_error(fmt::format(
        "control {} {}: HTTP {} {}", method, what, r.status, r.body));
  }
  return r.json();
}

void StandinProcess::add_faults(const nlohmann::json& faults) {
  control("POST", "faults", faults);
}

nlohmann::json StandinProcess::requests() {
  return control("GET", "requests").at("requests");
}

HttpResult StandinProcess::api(const std::string& method,
                               const std::string& path,
                               const nlohmann::json& body,
                               const std::string* bearer) {
  std::vector<std::string> headers = {"Accept: application/json"};
  const std::string token = bearer != nullptr ? *bearer : m_token;
  if (!token.empty()) {
    headers.push_back("Authorization: Bearer " + token);
  }
  if (!body.is_null()) {
    headers.emplace_back("Content-Type: application/json");
  }
  return http_request(
      method, endpoint() + path, body.is_null() ? "" : body.dump(), headers);
}

std::string StandinProcess::stderr_text() const {
  std::ifstream in(m_dir / "stderr");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace custody::test
