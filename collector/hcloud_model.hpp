// Hetzner Cloud resources as custody reads them: servers, actions, images,
// firewalls, SSH keys and volumes, parsed from the API's JSON.
//
// Each struct carries the fields custody reasons about, typed (ids are int64:
// Hetzner issues ids wider than 32 bits; timestamps are UTC milliseconds,
// parsed from RFC 3339 with `Z` or a numeric offset such as `+00:00`), plus
// `raw`, the resource object exactly as parsed, for evidence. The verbatim
// response bytes are in hcloud::Reply::bodies (hcloud_client.hpp).
//
// Parsing is strict about the fields listed here (a missing id or a malformed
// timestamp is an Errc::remote error naming the field) and ignores the rest,
// so additions to the API do not break the tool. Fields the API has dropped
// (the Server `datacenter`, removed 2026-07-01) are not read.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace custody::collector::hcloud {

using Labels = std::map<std::string, std::string>;

struct ActionResource {
  int64_t id = 0;
  std::string type; // "server", "firewall", "image", …
};

struct ActionError {
  std::string code;
  std::string message;
};

struct Action {
  int64_t id = 0;
  std::string command; // create_image, stop_server, apply_firewall, …
  std::string status;  // running | success | error
  int progress = 0;    // 0..100
  int64_t started_ms = 0;
  std::optional<int64_t> finished_ms;
  std::vector<ActionResource> resources;
  std::optional<ActionError> error; // only when status == "error"
  nlohmann::json raw;

  [[nodiscard]] bool running() const {
    return status == "running";
  }
  [[nodiscard]] bool succeeded() const {
    return status == "success";
  }
  [[nodiscard]] bool failed() const {
    return status == "error";
  }
};

struct ServerFirewall {
  int64_t id = 0;
  std::string status; // applied | pending
};

struct Server {
  int64_t id = 0;
  std::string name;
  std::string status; // running, off, initializing, …
  int64_t created_ms = 0;
  std::string location;    // location name, e.g. "fsn1"
  std::string server_type; // e.g. "cpx22"
  std::optional<int64_t> image_id;
  std::optional<std::string> ipv4;
  std::optional<std::string> ipv6; // the /64 network
  std::vector<ServerFirewall> firewalls;
  std::vector<int64_t> volumes;
  Labels labels;
  bool locked = false;
  bool rescue_enabled = false;
  nlohmann::json raw;
};

struct Image {
  int64_t id = 0;
  std::string type;                // system | app | snapshot | backup
  std::string status;              // available | creating | unavailable
  std::optional<std::string> name; // null for snapshots
  std::string description;
  std::optional<double> image_size_gb; // null while creating
  double disk_size_gb = 0;
  int64_t created_ms = 0;
  std::optional<int64_t> created_from_id;
  std::optional<std::string> created_from_name;
  std::optional<int64_t> bound_to;
  Labels labels;
  nlohmann::json raw;
};

struct FirewallRule {
  std::string direction;                    // in | out
  std::string protocol;                     // tcp | udp | icmp | esp | gre
  std::optional<std::string> port;          // "22" or "1024-5000"; tcp/udp only
  std::vector<std::string> source_ips;      // CIDRs, direction in
  std::vector<std::string> destination_ips; // CIDRs, direction out
  std::optional<std::string> description;
};

struct FirewallTarget {
  std::string type; // server | label_selector
  std::optional<int64_t> server_id;
  std::optional<std::string> label_selector;
  std::vector<int64_t> selector_servers; // applied_to_resources of a selector
};

struct Firewall {
  int64_t id = 0;
  std::string name;
  Labels labels;
  int64_t created_ms = 0;
  std::vector<FirewallRule> rules;
  std::vector<FirewallTarget> applied_to;
  nlohmann::json raw;
};

struct SshKey {
  int64_t id = 0;
  std::string name;
  std::string fingerprint; // MD5, colon-separated hex, as the API reports it
  std::string public_key;
  Labels labels;
  int64_t created_ms = 0;
  nlohmann::json raw;
};

struct Volume {
  int64_t id = 0;
  std::string name;
  std::optional<int64_t> server_id; // null when detached
  std::string location;
  double size_gb = 0;
  std::string status;
  int64_t created_ms = 0;
  Labels labels;
  nlohmann::json raw;
};

// Each returns the typed view of one API object, or Errc::remote naming the
// missing or malformed field ("server 42: field 'created': …").
Result<Action> parse_action(const nlohmann::json& j);
Result<Server> parse_server(const nlohmann::json& j);
Result<Image> parse_image(const nlohmann::json& j);
Result<Firewall> parse_firewall(const nlohmann::json& j);
Result<SshKey> parse_ssh_key(const nlohmann::json& j);
Result<Volume> parse_volume(const nlohmann::json& j);

// Returns the request form of `rule` (the keys POST /firewalls accepts;
// `port` only for tcp/udp, only the IP list that matches the direction).
nlohmann::json to_request_json(const FirewallRule& rule);

} // namespace custody::collector::hcloud
