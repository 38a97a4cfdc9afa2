// Vault: one evidence vault directory and the operations people perform on it.
//
// Layout of a vault directory (all created 0700, files 0600 unless noted):
//   vault.json        identity: format, origin, ledger verifier key (0444)
//   ledger.db         the custody ledger (SQLite, WAL) and its projections
//   keys/ledger.pem   the ledger key that signs checkpoints
//   objects/          content-addressed evidence (vault/store.hpp)
//
// Each operation that changes custody appends its entries in one transaction
// (vault/ledger.hpp) and returns what it recorded; callers then call
// checkpoint(). Personal keys never live in the vault: an operation takes a
// Signer loaded from the person's own key file.
//
// Thread-safety: one Vault per thread; processes may share a vault directory.
#pragma once

#include "common/result.hpp"
#include "common/secret.hpp"
#include "vault/ledger.hpp"
#include "vault/store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace custody::vault {

// Who is acting: their name, private key file and (if encrypted) passphrase.
struct Identity {
  std::string actor;
  std::filesystem::path key_file;
  std::optional<Secret> passphrase;
};

// Returns $XDG_CONFIG_HOME/custody/keys/<actor>.pem (default ~/.config/...).
std::filesystem::path default_key_path(const std::string& actor);
// Fails unless `name` is a valid actor name ([A-Za-z0-9][A-Za-z0-9._@-]{0,63}).
Result<void> check_actor_name(const std::string& name);
// Loads the identity's key (refusing loose permissions).
Result<Signer> load_signer(const Identity& who);

struct InitOptions {
  std::filesystem::path dir;
  Identity first;                    // key_file is created if it does not exist
  std::optional<std::string> origin; // default: "<host>/custody-<random hex>"
};

struct InitResult {
  std::filesystem::path dir;
  std::filesystem::path db;
  std::filesystem::path ledger_key_file;
  std::filesystem::path actor_key_file;
  bool actor_key_created = false;
  std::string origin;
  std::string ledger_vkey;
  std::string actor_kid;
  CheckpointInfo checkpoint;
};

struct KeyNewOptions {
  std::string subject;
  std::filesystem::path key_file;              // where a generated key is written
  std::optional<Secret> passphrase;            // encrypts the generated key
  std::optional<std::string> public_key_pem;   // register this key instead of generating one
  std::string comment;
};

struct KeyNewResult {
  std::string kid;
  std::optional<std::filesystem::path> key_file; // set when a key was generated
  Appended entry;
};

struct IncidentOpenOptions {
  std::string severity;
  std::string title;
  std::optional<int64_t> detected_ms;  // default: now
  std::vector<std::string> affected_systems;
  std::vector<std::string> affected_customers;
  std::string playbook;
  std::string reporter;                // default: the actor
  std::string commander;               // default: the actor
  std::string description;
  std::string root_cause;
};

struct AddOptions {
  std::filesystem::path file;
  std::string incident;
  std::string source;
  std::string notes;
  std::string kind = "log_export";     // file | log_export | api_export | bundle
  std::optional<int64_t> collected_ms; // default: when the copy started
};

// Evidence produced in memory (e.g. verbatim API responses).
struct AddBytesOptions {
  std::string bytes;
  std::string name;                    // recorded as original_name
  std::string incident;
  std::string source;
  std::string notes;
  std::string kind = "api_export";
  std::string method;                  // how it was acquired
  std::optional<int64_t> collected_ms; // default: now
};

// A snapshot or other evidence whose bytes stay at a provider.
struct ExternalItemOptions {
  std::string incident;
  std::string name;      // e.g. "Hetzner snapshot 4294968001"
  std::string source;    // e.g. "hetzner:server/4294967297"
  std::string location;  // e.g. "Hetzner Cloud image 4294968001"
  uint64_t size = 0;
  std::string method;
  std::string notes;
  int64_t collected_ms = 0;
};

struct ExportOptions {
  std::string item;
  std::filesystem::path to_dir;
  std::string purpose;
};

struct ExportResult {
  std::filesystem::path file;
  std::string sha256;
  uint64_t size = 0;
  uint64_t access_seq = 0;
  uint64_t result_seq = 0;
};

class Vault {
public:
  // Creates a new vault (see InitOptions); fails if `dir` exists and is not empty.
  static Result<InitResult> init(const InitOptions& options);
  // Opens an existing vault for reading and appending.
  static Result<Vault> open(const std::filesystem::path& dir);

  // Signs a checkpoint if the ledger grew; returns the latest one.
  Result<CheckpointInfo> checkpoint();
  // Returns the ledger key's C2SP verifier key.
  [[nodiscard]] const std::string& ledger_vkey() const {
    return m_ledger_vkey;
  }

  Result<KeyNewResult> key_new(const Signer& by, const KeyNewOptions& options);
  // Revokes `subject`'s active keys (only the one whose kid starts with
  // `kid_prefix`, when given).
  Result<std::vector<Appended>> key_revoke(const Signer& by, const std::string& subject,
                                           const std::string& kid_prefix,
                                           const std::string& reason);
  Result<std::vector<Json>> keys();

  Result<Json> incident_open(const Signer& by, const IncidentOpenOptions& options);
  // Moves incident `id` to status `to` ("open" reopens), dated `at_ms` (default now).
  Result<Json> incident_status(const Signer& by, const std::string& id, const std::string& to,
                               std::optional<int64_t> at_ms, const std::string& note);
  Result<Json> incident_update(const Signer& by, const std::string& id, const Json& set,
                               const std::string& reason);
  Result<Json> incident(const std::string& id);
  Result<std::vector<Json>> incidents();

  // Copies `file` into the store (hashing in the same pass) and records it.
  Result<Json> add(const Signer& by, const AddOptions& options);
  // Stores `options.bytes` and records them as an item.
  Result<Json> add_bytes(const Signer& by, const AddBytesOptions& options);
  // Records an item held at a provider (kind cloud_snapshot, no SHA-256).
  Result<Json> record_external(const Signer& by, const ExternalItemOptions& options);
  // Appends a response_action entry (schemas/entries/response_action.schema.json).
  Result<Appended> record_response(const Signer& by, const std::string& incident, Json fields);
  // Records an access, then writes a verified copy of the item into `to_dir`.
  Result<ExportResult> export_item(const Signer& by, const ExportOptions& options);
  Result<Json> item(const std::string& id);
  Result<std::vector<Json>> items(const std::string& incident);
  Result<std::vector<Json>> accesses(const std::string& incident);

  [[nodiscard]] Ledger& ledger() {
    return m_ledger;
  }
  [[nodiscard]] ObjectStore& store() {
    return m_store;
  }
  [[nodiscard]] const std::filesystem::path& dir() const {
    return m_dir;
  }

private:
  struct CollectDraft {
    std::string incident, kind, source, method, location, original_name, notes;
    Json sha256; // string, or null for items held at a provider
    uint64_t size = 0;
    int64_t collected_ms = 0;
  };
  // Appends the collect entry for `d` (item id assigned in the transaction).
  Result<Json> record_collect(const Signer& by, const CollectDraft& d);
  Result<void> check_open_incident(const std::string& incident);

  Vault(std::filesystem::path dir, Ledger ledger, ObjectStore store, std::string vkey)
    : m_dir(std::move(dir)),
      m_ledger(std::move(ledger)),
      m_store(std::move(store)),
      m_ledger_vkey(std::move(vkey)) {}

  std::filesystem::path m_dir;
  Ledger m_ledger;
  ObjectStore m_store;
  std::string m_ledger_vkey;
};

// Returns "vault:<origin>/objects/sha256/<hex>", the location recorded for stored items.
std::string object_location(const std::string& origin, const std::string& sha256_hex);

} // namespace custody::vault
