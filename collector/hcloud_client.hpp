// hcloud::Client: a libcurl client for the part of the Hetzner Cloud API that
// custody uses (servers, images/snapshots, actions, firewalls, SSH keys,
// volumes). It reads and changes a project; it never writes evidence or the
// ledger. Callers record what it did from exchanges() and Reply::bodies.
//
// Behaviour follows the official clients (hcloud-go, hcloud-python; see
// docs/research/hetzner-api.md §4):
//   * Authentication: `Authorization: Bearer` via CURLOPT_XOAUTH2_BEARER. The
//     token is never put in a URL, an Error, a log line or an HttpExchange.
//   * Retries: at most RetryPolicy::max_attempts tries per call (5), with a
//     truncated exponential backoff (base ×2 per retry, capped) and jitter
//     drawn uniformly between the base and the computed delay. Retried:
//     connection failures and timeouts; HTTP 502 and 504 with or without a
//     JSON body; API codes `conflict`, `rate_limit_exceeded`, `bad_gateway`,
//     `timeout`. A 429 waits until the RateLimit-Reset time if that is
//     later than the backoff (capped at max_delay). Not retried: other 4xx,
//     500 `server_error`, a bare 429/503 without a JSON error (the official
//     clients refuse to, "to prevent a self-made DDoS").
//     A 423 `locked` means another action is running on the server: the
//     client lists the server's running actions, waits for them (up to
//     ClientOptions::lock_wait) and retries. Like the official clients it
//     retries POSTs too; every attempt is in exchanges(), so a duplicate
//     created by a retried POST is visible in the record.
//   * Lists follow meta.pagination.next_page with per_page=50 until it is null.
//   * Errors read "<what we were doing>: HTTP 422 invalid_input: <message>
//     (<details>)", with "(gave up after N attempts)" when retries ran out.
//     Remote text is escaped (control characters) and capped in length.
//   * Action polling: PollPolicy (hcloud-cli's: 500 ms for 10 polls, then
//     ×1.5 up to 2.5 s) until the action leaves `running` or the deadline in
//     WaitOptions passes.
// Sleeping and the clock are injectable (ClientOptions::clock), so tests can
// run the real waits at a small scale.
//
// Thread-safety: a Client is not thread-safe (it owns one curl handle and
// the exchange log); use one Client per thread. Distinct Clients are
// independent. curl_global_init is done once, thread-safely, on first use.
#pragma once

#include "collector/hcloud_config.hpp"
#include "collector/hcloud_model.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace spdlog {
class logger;
}

namespace custody::collector::hcloud {

struct RetryPolicy {
  int max_attempts = 5; // tries in total, the first one included
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{60000};
  bool jitter = true;
};

struct PollPolicy {
  std::chrono::milliseconds interval{500}; // first polls
  int constant_polls = 10;                 // polls at `interval` before growing
  double growth = 1.5;
  std::chrono::milliseconds max_interval{2500};
};

// Injectable time: the wall clock (UTC ms; used for RateLimit-Reset, deadlines
// and exchange timestamps) and sleeping.
struct Clock {
  std::function<int64_t()> now_ms;
  std::function<void(std::chrono::milliseconds)> sleep;
  // Returns the real clock and std::this_thread::sleep_for.
  static Clock system();
};

struct ClientOptions {
  std::string endpoint{k_default_endpoint}; // see resolve_endpoint()
  RetryPolicy retry;
  PollPolicy poll;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};
  std::chrono::milliseconds lock_wait{
      std::chrono::minutes(10)}; // max wait for a 423's running action
  std::size_t max_response_bytes = std::size_t{64} << 20;
  std::string user_agent; // default "custody/<version>"
  Clock clock = Clock::system();
  uint64_t jitter_seed = 0;               // 0 = seed from std::random_device
  std::shared_ptr<spdlog::logger> logger; // default: spdlog's default logger
};

// One HTTP request/response as the custody ledger records it. Never contains
// the token or request headers.
struct HttpExchange {
  std::string method;          // GET, POST, DELETE
  std::string path;            // relative to the endpoint, with query:
                               // "/servers?page=2&per_page=50"
  long status = 0;             // HTTP status; 0 when no response arrived
  std::string correlation_id;  // X-Correlation-Id (or X-Request-Id) response
                               // header, "" if none
  std::string api_error_code;  // error.code of an error envelope, "" otherwise
  std::string transport_error; // curl's error text when no response arrived
  int attempt = 1;             // 1-based try number within one call
  int64_t started_ms = 0;      // UTC
  int64_t finished_ms = 0;     // UTC
  uint64_t response_bytes = 0;
  std::string response_sha256; // hex SHA-256 of the verbatim response body
  std::optional<int64_t> ratelimit_remaining;
};

// The last error envelope the API returned (see Client::last_api_error()).
struct ApiError {
  long http_status = 0;
  std::string code;    // e.g. "invalid_input", "locked"; "" for a bare error
  std::string message; // as sent (unescaped)
  nlohmann::json details;
  std::string correlation_id;
};

// A parsed result plus the verbatim response body (or bodies, one per page
// of a list, in order; for a wait, the final poll's body) for evidence.
template<typename T> struct Reply {
  T value;
  std::vector<std::string> bodies;
};

struct ListOptions {
  std::string label_selector; // e.g. "env=prod,role in (web,db)"
  std::string name;           // exact name filter
  std::vector<std::string> status;
  std::vector<std::string> sort; // "id:asc", "created:desc", …
};

struct ImageListOptions {
  ListOptions list;
  std::vector<std::string> type; // {"snapshot"} by default
  ImageListOptions()
      : type{"snapshot"} {}
};

struct CreateImageRequest {
  std::string type = "snapshot"; // snapshot | backup
  std::optional<std::string> description;
  Labels labels;
};

struct CreateImageResult {
  Image image;   // status "creating"
  Action action; // create_image
};

struct FirewallSpec {
  std::string name;
  Labels labels;
  std::vector<FirewallRule> rules;
  std::vector<int64_t> apply_to_servers; // applied at creation (optional)
};

struct CreateFirewallResult {
  Firewall firewall;
  std::vector<Action> actions; // set_firewall_rules, apply_firewall…
};

using IdOrName =
    std::variant<int64_t, std::string>; // ids are sent as JSON numbers (as
                                        // hcloud-go does)

struct CreateServerRequest {
  std::string name;     // RFC 1123 hostname, unique in the project
  IdOrName server_type; // e.g. "cpx22"
  IdOrName image;       // e.g. a snapshot id
  std::optional<IdOrName>
      location; // e.g. "fsn1" (the API has no datacenter any more)
  std::vector<IdOrName> ssh_keys; // REQUIRED non-empty (see create_server)
  std::vector<int64_t> firewalls; // applied at creation
  Labels labels;
  bool start_after_create = true;
  bool enable_ipv4 = true;
  bool enable_ipv6 = true;
  std::optional<std::string> user_data;
};

struct CreateServerResult {
  Server server;                    // status "initializing"
  Action action;                    // create_server
  std::vector<Action> next_actions; // start_server, apply_firewall…
};

struct WaitOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  // When false (default) an action that ends in `error` is an Error naming
  // its command, code and message. When true it is returned as a value, so
  // the caller can record it.
  bool accept_error = false;
  // Called after every poll with the action's current state (may be empty).
  std::function<void(const Action&)> on_progress;
};

class Client {
public:
  // Returns a client for `options.endpoint` (validated) that authenticates
  // with `token`.
  static Result<Client> create(Token token, ClientOptions options);

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  [[nodiscard]] const std::string& endpoint() const;

  // --- servers ---
  Result<Reply<Server>> get_server(int64_t id);
  Result<Reply<std::vector<Server>>>
  list_servers(const ListOptions& options = {});
  // Returns the server's action history (GET /servers/{id}/actions, all pages).
  Result<Reply<std::vector<Action>>>
  list_server_actions(int64_t server_id, const ListOptions& options = {});
  // Creates a server. Fails with invalid_input unless `request.ssh_keys` is
  // non-empty: without SSH keys the API answers with a root password, a
  // secret that would then sit in the verbatim response kept as evidence.
  Result<Reply<CreateServerResult>>
  create_server(const CreateServerRequest& request);
  // Cuts power (command stop_server). May lose data; see shutdown_server().
  Result<Reply<Action>> poweroff_server(int64_t id);
  // Sends ACPI shutdown (command shutdown_server). The action's success only
  // means the request was sent; poll get_server() for status "off".
  Result<Reply<Action>> shutdown_server(int64_t id);
  Result<Reply<Action>> delete_server(int64_t id);
  // Starts a snapshot (or backup) of the server's disk.
  Result<Reply<CreateImageResult>>
  create_image(int64_t server_id, const CreateImageRequest& request);

  // --- actions ---
  Result<Reply<Action>> get_action(int64_t id);
  // Returns the actions with `ids` (GET /actions?id=…, ≤25 per request), in
  // the order of `ids`. Fails if the API does not return one of them.
  Result<Reply<std::vector<Action>>>
  get_actions(const std::vector<int64_t>& ids);
  // Polls until the action is no longer running; see WaitOptions.
  Result<Reply<Action>> wait_for_action(int64_t id,
                                        const WaitOptions& options = {});
  // Polls until none of `ids` is running; fails on the first action in error
  // unless options.accept_error.
  Result<Reply<std::vector<Action>>>
  wait_for_actions(const std::vector<int64_t>& ids,
                   const WaitOptions& options = {});

  // --- images ---
  Result<Reply<Image>> get_image(int64_t id);
  Result<Reply<std::vector<Image>>>
  list_images(const ImageListOptions& options = {});

  // --- firewalls ---
  Result<Reply<CreateFirewallResult>> create_firewall(const FirewallSpec& spec);
  Result<Reply<Firewall>> get_firewall(int64_t id);
  Result<Reply<std::vector<Firewall>>>
  list_firewalls(const ListOptions& options = {});
  Result<Reply<std::vector<Action>>>
  apply_firewall(int64_t firewall_id, const std::vector<int64_t>& server_ids);
  Result<Reply<std::vector<Action>>>
  remove_firewall(int64_t firewall_id, const std::vector<int64_t>& server_ids);
  // Deletes a firewall; the API refuses (resource_in_use) while it is applied.
  Result<void> delete_firewall(int64_t id);

  // --- project audit ---
  Result<Reply<std::vector<SshKey>>>
  list_ssh_keys(const ListOptions& options = {});
  Result<Reply<std::vector<Volume>>>
  list_volumes(const ListOptions& options = {});

  // Returns every HTTP exchange so far, in order (retries and polls included).
  [[nodiscard]] const std::vector<HttpExchange>& exchanges() const;
  // Returns and clears the exchange log.
  std::vector<HttpExchange> take_exchanges();
  // Returns the error envelope of the last failed request, if it had one.
  [[nodiscard]] const std::optional<ApiError>& last_api_error() const;

private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// Returns the text of an error envelope as custody reports it:
// "HTTP 422 invalid_input: <message> (<details summary>)", remote text escaped.
std::string describe_api_error(const ApiError& error);

} // namespace custody::collector::hcloud
