// Forensic response steps on Hetzner Cloud, built on hcloud::Client:
// snapshot a server, isolate it behind a firewall, and the naming and
// labelling rules for what custody creates. These functions change the
// project but write no evidence and no ledger entries: they return
// everything the caller must record (the server's JSON before and after, the
// created resources, every action, and the verbatim bodies; the HTTP
// exchanges are in Client::exchanges()).
//
// Names: an incident id already reads "INC-2026-12-03-1", so snapshot
// descriptions are "forensic-snapshot-<incident>-<server id>-<YYYYmmddHHMMSS>"
// (no "INC-INC-"), isolation firewalls
// "forensic-isolation-<incident>-<server id>-<YYYYmmddHHMMSS>", all UTC.
// Labels: custody/incident=<incident>, custody/purpose=<purpose>,
// custody/server=<server id>, checked against Hetzner's label rules.
//
// Isolation firewall (research §3). Hetzner firewalls are stateful, drop
// inbound traffic that no rule allows, and leave outbound traffic open unless
// at least one outbound rule exists. The isolation firewall therefore has
//   in:  tcp 22 from the admin CIDR only;
//   out: icmp to the admin CIDR only.
// The outbound rule exists to switch outbound to implicit deny (no
// exfiltration, no command-and-control, no lateral movement over the public
// interface). Replies on the responder's SSH session need no outbound rule,
// because the firewall is stateful. ICMP is chosen over, say, tcp/22 to the
// admin: it lets the responder ping the host and lets path-MTU errors reach
// the admin, and it gives a compromised host no TCP or UDP channel at all,
// not even back to the responder's own SSH port.
// Rules of all firewalls on a server are combined (allow rules add up), so
// isolate_server() also removes every other firewall from the server, after
// the isolation firewall is applied (never leaving the server without one,
// which would mean no filtering at all). Firewalls applied through a label
// selector cannot be removed per server; those are reported as warnings.
//
// Thread-safety: as hcloud::Client (one Client per thread).
#pragma once

#include "collector/hcloud_client.hpp"
#include "collector/hcloud_model.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace custody::collector::hcloud {

inline constexpr std::string_view k_label_incident = "custody/incident";
inline constexpr std::string_view k_label_purpose = "custody/purpose";
inline constexpr std::string_view k_label_server = "custody/server";

// What isolation cannot do; the CLI should show this to the responder.
inline constexpr std::string_view k_isolation_caveats =
    "Hetzner firewalls filter only the public interface: private-network "
    "traffic is not blocked. "
    "Connections established before the firewall was applied may survive (the "
    "firewall is stateful). "
    "Some traffic from Hetzner services (e.g. DNS resolvers) is always "
    "allowed.";

// Checks `key` against Hetzner's label-key rules: optional DNS-subdomain
// prefix (≤253) and '/', then a name of 1..63 characters [A-Za-z0-9-_.]
// starting and ending alphanumeric; the hetzner.cloud/ prefix is reserved.
Result<void> validate_label_key(std::string_view key);
// Checks `value`: empty, or 1..63 characters [A-Za-z0-9-_.] starting and
// ending alphanumeric.
Result<void> validate_label_value(std::string_view value);
Result<void> validate_labels(const Labels& labels);

// Checks that `incident` can appear in names and as a label value (the label
// rules above; e.g. "INC-2026-12-03-1").
Result<void> validate_incident_id(std::string_view incident);

// Returns the labels custody puts on what it creates for `incident`.
Result<Labels> incident_labels(std::string_view incident,
                               std::string_view purpose,
                               std::optional<int64_t> server_id = std::nullopt);

// Returns "forensic-snapshot-<incident>-<server_id>-<YYYYmmddHHMMSS>" (UTC of
// `now_ms`).
Result<std::string> snapshot_description(std::string_view incident,
                                         int64_t server_id,
                                         int64_t now_ms);

// Returns `text` as a canonical CIDR: a bare address becomes /32 or /128,
// host bits are cleared ("203.0.113.7/24" → "203.0.113.0/24"), IPv6 is
// written in RFC 5952 form.
Result<std::string> normalize_cidr(std::string_view text);

// Returns the isolation firewall for `server_id` (see the header comment):
// SSH in from `admin_cidr` only, ICMP out to it only. Refuses an admin CIDR
// that is the whole address space (/0), which would isolate nothing. The
// spec's apply_to is empty: isolate_server() applies it as its own step.
Result<FirewallSpec> build_isolation_firewall(int64_t server_id,
                                              std::string_view admin_cidr,
                                              std::string_view incident,
                                              int64_t now_ms);

struct SnapshotStarted {
  Server server;             // state just before the request
  std::string server_body;   // verbatim GET /servers/{id}
  CreateImageResult created; // image (creating) and the create_image action
  std::string create_body;   // verbatim POST …/create_image response
  std::string description;
  Labels labels;
};

struct SnapshotFinished {
  Action action;           // final state (success)
  Image image;             // final state (available, with image_size)
  std::string action_body; // verbatim final poll
  std::string image_body;  // verbatim GET /images/{id}
};

// Records the server's state and requests a snapshot of it, labelled for
// `incident`. Does not wait: volatile collection may proceed meanwhile.
Result<SnapshotStarted> start_snapshot(Client& client,
                                       int64_t server_id,
                                       std::string_view incident,
                                       int64_t now_ms);

// Waits for the snapshot's action and returns the final action and image.
// Fails if the action ends in error (clear message) or the deadline passes.
Result<SnapshotFinished> finish_snapshot(Client& client,
                                         const SnapshotStarted& started,
                                         const WaitOptions& wait = {});

struct IsolationOutcome {
  std::optional<Server> server_before;
  std::optional<Firewall> firewall; // the isolation firewall, once created
  std::vector<Action> actions;      // apply/remove actions, final states
  std::vector<int64_t> removed_firewalls; // other firewalls taken off the
                                          // server (to restore later)
  std::optional<Server> server_after;
  std::vector<std::string>
      warnings; // selector-managed firewalls left in place, caveats
  std::vector<std::string> bodies; // verbatim responses, in order
  std::optional<Error>
      error; // the step that failed; fields above show progress

  [[nodiscard]] bool complete() const {
    return !error.has_value();
  }
};

// Isolates `server_id`: records its state, creates and applies the
// isolation firewall, removes the server's other directly applied firewalls,
// and records the state after. Stops at the first failed step and returns
// what was done so far (never a bare Error: a half-done isolation must still
// be recorded).
IsolationOutcome isolate_server(Client& client,
                                int64_t server_id,
                                std::string_view admin_cidr,
                                std::string_view incident,
                                int64_t now_ms,
                                const WaitOptions& wait = {});

} // namespace custody::collector::hcloud
