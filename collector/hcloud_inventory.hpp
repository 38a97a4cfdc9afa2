// Project audit: compares a Hetzner Cloud project's live inventory with the
// responder's list of what should be there (the expected inventory), and
// reports unauthorised servers, unknown SSH keys, expected resources that are
// missing, and everything created since a given time.
//
// The expected-inventory format is schemas/expected-inventory.schema.json,
// described in prose in schemas/FORMAT-hcloud.md:
//   {"format": "custody-expected-inventory/v1",
//    "project": "…", "as_of": "2026-11-15T00:00:00Z",            (optional)
//    "servers":  [{"id": 4294967311, "name": "lb-fsn1-01", "note": "…"}],
//    "ssh_keys": [{"fingerprint": "4a:3d:…:9e", "name": "ops-alice"}]}
// A server entry needs an id, a name, or both. With an id, the id decides
// (ids are never reused; names can be copied by an attacker) and a different
// name is reported as a rename; with only a name, the name decides. SSH keys
// are matched by MD5 fingerprint (the form the API reports), case-insensitive,
// with an optional "MD5:" prefix (ssh-keygen -l -E md5 prints one).
//
// compare_inventory() is pure: fetch_inventory() does the API calls.
//
// Thread-safety: plain values and pure functions, except fetch_inventory(),
// which uses the Client (see hcloud_client.hpp).
#pragma once

#include "collector/hcloud_client.hpp"
#include "collector/hcloud_model.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custody::collector::hcloud {

inline constexpr std::string_view k_expected_inventory_format =
    "custody-expected-inventory/v1";

struct ExpectedServer {
  std::optional<int64_t> id;
  std::optional<std::string> name;
  std::string note;
};

struct ExpectedSshKey {
  std::string fingerprint; // normalised: lower-case "aa:bb:…", no prefix
  std::optional<std::string> name;
  std::string note;
};

struct ExpectedInventory {
  std::string project;
  std::optional<int64_t> as_of_ms;
  std::vector<ExpectedServer> servers;
  std::vector<ExpectedSshKey> ssh_keys;
};

// Parses and checks an expected inventory. Unknown keys, a wrong `format`,
// entries without id or name, malformed fingerprints and duplicates are
// errors naming the entry (a typo must not silently widen what is allowed).
Result<ExpectedInventory> parse_expected_inventory(std::string_view json_text);
// Reads `path` and parses it as above.
Result<ExpectedInventory>
load_expected_inventory(const std::filesystem::path& path);

// Returns `fingerprint` as lower-case colon-separated MD5 hex without an
// "MD5:" prefix, or an error if it is not 16 colon-separated hex bytes.
Result<std::string> normalize_md5_fingerprint(std::string_view fingerprint);

struct ProjectInventory {
  std::vector<Server> servers;
  std::vector<SshKey> ssh_keys;
  std::vector<Firewall> firewalls;
  std::vector<Volume> volumes;
  std::vector<Image> images;       // snapshots and backups (not system images)
  std::vector<std::string> bodies; // verbatim list pages, in request order
};

// Lists servers, SSH keys, firewalls, volumes and snapshot/backup images
// (all pages of each).
Result<ProjectInventory> fetch_inventory(Client& client);

enum class FindingKind {
  unauthorized_server, // a server the expected inventory does not list
  unknown_ssh_key,     // an SSH key whose fingerprint is not listed
  server_renamed,      // a listed server id with a different name
  missing_server,      // a listed server that is not in the project
  missing_ssh_key,     // a listed SSH key that is not in the project
  created_since,       // any resource created at or after `since`
};

std::string_view to_string(FindingKind kind);

struct InventoryFinding {
  FindingKind kind = FindingKind::unauthorized_server;
  std::string resource; // server | ssh_key | firewall | volume | image
  std::optional<int64_t> id;
  std::string name; // or the fingerprint for SSH keys without a name
  std::optional<int64_t> created_ms;
  std::string detail; // one readable sentence
};

struct InventoryReport {
  std::vector<InventoryFinding> findings; // grouped by kind, then by id
  std::optional<int64_t> since_ms;

  [[nodiscard]] size_t count(FindingKind kind) const;
  // True when nothing unauthorised or unknown was found (missing, renamed and
  // created_since findings are informational).
  [[nodiscard]] bool clean() const;
  // Returns {"since": …|null, "counts": {kind: n}, "findings": [{kind,
  // resource, id, name, created, detail}]} with RFC 3339 UTC timestamps.
  [[nodiscard]] nlohmann::json to_json() const;
};

// Compares `actual` with `expected`; with `since_ms`, also lists every
// resource created at or after it.
InventoryReport compare_inventory(const ExpectedInventory& expected,
                                  const ProjectInventory& actual,
                                  std::optional<int64_t> since_ms);

} // namespace custody::collector::hcloud
