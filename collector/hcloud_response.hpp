// Recorded response steps on Hetzner Cloud: each function drives the client
// (collector/hcloud_workflow.hpp, hcloud_inventory.hpp) and records what it did
// in the vault's custody ledger as it goes: verbatim API responses as evidence
// items, and `response_action` entries carrying the request, the provider's
// action ids and states, every HTTP exchange (never a header or the token) and
// the outcome. A step that fails at the provider is recorded as failed (and
// returned with `ok == false`); only when the vault itself cannot record
// does a function return an Error.
//
// Ordering, per DESIGN §4: the snapshot is requested before anything else
// touches the server, and recorded as "requested" before polling starts, so a
// responder killed while waiting still leaves the action id in the ledger.
//
// This unit is the only one that links both the API client and the vault;
// collector/hcloud_* stays free of the vault. Thread-safety: one call at a time
// per Client and Vault.
#pragma once

#include "collector/hcloud_client.hpp"
#include "collector/hcloud_inventory.hpp"
#include "common/result.hpp"
#include "vault/vault.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace custody::collector {

struct ResponseContext {
  hcloud::Client& client;
  vault::Vault& vault;
  const vault::Signer& who;
  std::string incident;
  std::string endpoint; // recorded in every entry
  hcloud::WaitOptions wait;
};

struct StepRecord {
  bool ok = false;
  std::string error;                // the provider-side failure, when !ok
  std::vector<uint64_t> seqs;       // ledger entries appended, in order
  std::vector<std::string> items;   // evidence items recorded
  std::vector<std::string> warnings;
};

struct SnapshotRecord : StepRecord {
  int64_t server_id = 0;
  std::optional<int64_t> image_id;
  std::optional<int64_t> action_id;
  std::string description;
  std::string snapshot_item; // the cloud_snapshot item, on success
};

// Snapshots server `server_id`: requests create_image (type snapshot,
// description and labels naming the incident), stores the server's JSON as
// evidence, records the request, polls to the end, and records the snapshot
// (image id and size) as a custody item held at Hetzner.
Result<SnapshotRecord> record_snapshot(ResponseContext& ctx, int64_t server_id);

struct IsolationRecord : StepRecord {
  std::optional<int64_t> firewall_id;
  std::vector<int64_t> removed_firewalls;
  std::vector<int64_t> restored_firewalls; // --undo
};

// Isolates `server_id` behind an incident firewall (SSH in from `admin_cidr`
// only, outbound closed by default); with `undo`, removes custody's isolation
// firewall(s) of this incident from the server and re-applies the firewalls
// the last isolation removed.
Result<IsolationRecord> record_isolation(ResponseContext& ctx, int64_t server_id,
                                         const std::string& admin_cidr, bool undo);

struct InventoryRecord : StepRecord {
  hcloud::InventoryReport report;
  nlohmann::json counts; // resources of each kind
};

// Lists every server, SSH key, firewall, volume and snapshot of the project,
// stores the responses as evidence, compares them with `expected` (when
// given) and lists what was created since `since_ms`. `ok` is false only when
// the API failed; findings are in `report` (report.clean() is false when an
// unauthorised server or unknown key was found).
Result<InventoryRecord> record_inventory(ResponseContext& ctx,
                                         const std::optional<std::filesystem::path>& expected,
                                         std::optional<int64_t> since_ms);

struct AnalysisServerOptions {
  std::string image;   // snapshot id (or name)
  int64_t firewall_id = 0;
  std::string server_type = "cx22";
  std::string location = "nbg1";
  std::vector<std::string> ssh_keys; // ids or names; required (no root password)
  std::string name;                  // default forensic-analysis-<incident>-<stamp>
};

struct AnalysisServerRecord : StepRecord {
  std::optional<int64_t> server_id;
  std::string name;
  std::string ipv4;
};

// Creates the runbook's isolated analysis server from a snapshot, behind the
// given firewall, and waits until it runs.
Result<AnalysisServerRecord> record_analysis_server(ResponseContext& ctx,
                                                    const AnalysisServerOptions& options);

} // namespace custody::collector
