// hcloud-standin core: a stateful, local stand-in for the Hetzner Cloud API
// (the subset custody uses), independent of any HTTP library.
//
// Standin holds one project (servers, images, firewalls, SSH keys, volumes,
// actions) seeded from JSON, and answers Requests with Replies the way the
// real API does according to docs/research/hetzner-api.md §6: bearer auth,
// rate-limit headers and a token bucket, the error envelope, pagination with
// meta + Link, actions that run for a configurable time, 423 `locked` while a
// server has a running action, firewall validation, and no `datacenter` key.
// A control surface under /__standin/ (no auth; the program only listens on
// loopback) scripts faults per request and per action, so client retry and
// wait paths can be tested deterministically. README.md next to this file
// documents the program, its seed format and the control surface.
//
// This is test infrastructure: it is deliberately an independent
// implementation (it shares no validation code with collector/), so that a bug
// in the client's checks is not mirrored here.
//
// Thread-safety: handle() may be called from many threads; one mutex guards
// all state.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace custody::hcloud_standin {

enum class TimestampStyle {
  z,
  offset
}; // "…Z" (current API) or "…+00:00" (older docs)

struct Config {
  std::string token; // the valid bearer token
  nlohmann::json seed =
      nlohmann::json::object(); // project seed (see seed_project.json)
  int64_t action_ms = 300;      // default running time of an action
  std::map<std::string, int64_t>
      command_ms; // per-command running time overrides
  int64_t shutdown_off_ms =
      -2; // shutdown → `off` after this; -1 never; -2 = action time
  double rate_capacity = 3600;  // token bucket capacity (RateLimit-Limit)
  double rate_refill_per_s = 1; // tokens added per second
  TimestampStyle timestamps = TimestampStyle::z;
  nlohmann::json faults = nlohmann::json::array(); // initial fault script (as
                                                   // POST /__standin/faults)
};

struct Request {
  std::string method; // "GET"
  std::string path;   // decoded path, "/v1/servers/42"
  std::string target; // raw request target including the query
  std::multimap<std::string, std::string> query; // decoded query parameters
  std::map<std::string, std::string> headers;    // lower-case names
  std::string body;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool drop =
      false; // send the headers and part of the body, then close the connection
  int64_t delay_ms = 0; // sleep this long before answering
};

namespace detail {
class Project;
}

class Standin {
public:
  // Builds the project from `config.seed`; fails on a malformed seed.
  static Result<std::unique_ptr<Standin>> create(Config config);

  Standin(const Standin&) = delete;
  Standin& operator=(const Standin&) = delete;
  ~Standin();

  // Answers one request (API under /v1, control surface under /__standin).
  Reply handle(const Request& request);

private:
  explicit Standin(std::unique_ptr<detail::Project> project);
  std::unique_ptr<detail::Project> m_project;
};

// Returns the catalog compiled into the program (catalog.json: locations,
// server types, system images).
const nlohmann::json& builtin_catalog();

} // namespace custody::hcloud_standin
