#include "vault/vault.hpp"

#include "common/atomic_file.hpp"
#include "common/time.hpp"
#include "common/version.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstdlib>
#include <regex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace custody::vault {

using verify::Table;

namespace {

constexpr const char* k_identity_file = "vault.json";
constexpr const char* k_db_file = "ledger.db";

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return "unknown-host";
  }
  return buf;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  return to_hex(as_bytes(raw));
}

// Keeps [A-Za-z0-9._-] and replaces the rest, for names derived from user input.
std::string safe_component(std::string_view s, std::string_view fallback) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  while (!out.empty() && out.front() == '.') {
    out.erase(out.begin());
  }
  if (out.size() > 120) {
    out.resize(120);
  }
  return out.empty() ? std::string(fallback) : out;
}

bool dir_is_empty_or_missing(const std::filesystem::path& dir, std::error_code& ec) {
  if (!std::filesystem::exists(dir, ec)) {
    return true;
  }
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec);
}

Result<Json> read_identity(const std::filesystem::path& dir) {
  const auto path = dir / k_identity_file;
  auto text = read_small_file(path, 65536);
  if (!text) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return fail(Errc::not_found,
                  fmt::format("{} is not a custody vault (no {}); create one with custody init",
                              dir.string(), k_identity_file));
    }
    return tl::unexpected(text.error());
  }
  auto doc = cjson::decode(*text);
  if (!doc || !doc->is_object() || !doc->contains("origin") || !doc->contains("ledger_key")) {
    return fail(Errc::corrupt, fmt::format("{} is malformed", path.string()));
  }
  return std::move(*doc);
}

std::string item_label(const Json& item) {
  return item.at("id").get<std::string>();
}

} // namespace

std::filesystem::path default_key_path(const std::string& actor) {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".config";
  } else {
    base = ".config";
  }
  return base / "custody" / "keys" / (actor + ".pem");
}

Result<void> check_actor_name(const std::string& name) {
  static const std::regex k_name("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$");
  if (!std::regex_match(name, k_name)) {
    return fail(Errc::invalid_input,
                fmt::format("invalid actor name '{}': use 1-64 letters, digits, '.', '_', '@' or "
                            "'-', starting with a letter or digit",
                            name));
  }
  return {};
}

Result<Signer> load_signer(const Identity& who) {
  CUSTODY_TRY(check_actor_name(who.actor));
  auto key = SigningKey::load(who.key_file, who.passphrase);
  if (!key) {
    return fail(key.error().code,
                fmt::format("cannot load the key of {}: {}", who.actor, key.error().message));
  }
  return Signer{who.actor, std::move(*key)};
}

std::string object_location(const std::string& origin, const std::string& sha256_hex) {
  return fmt::format("vault:{}/objects/sha256/{}", origin, sha256_hex);
}

Result<InitResult> Vault::init(const InitOptions& options) {
  CUSTODY_TRY(check_actor_name(options.first.actor));
  std::error_code ec;
  if (!dir_is_empty_or_missing(options.dir, ec)) {
    return fail(Errc::conflict, fmt::format("{} exists and is not an empty directory; refusing to "
                                            "create a vault there",
                                            options.dir.string()));
  }
  const std::string origin =
    options.origin.value_or(fmt::format("{}/custody-{}", safe_component(host_name(), "host"),
                                        random_hex(6)));
  if (!note::valid_key_name(origin) || origin.size() > 200) {
    return fail(Errc::invalid_input,
                fmt::format("invalid origin '{}': no spaces or '+', at most 200 bytes", origin));
  }
  const bool created_dir = !std::filesystem::exists(options.dir, ec);
  CUSTODY_TRY(make_dirs(options.dir, 0700));
  ::chmod(options.dir.c_str(), 0700);
  auto cleanup = [&] {
    if (created_dir) {
      std::filesystem::remove_all(options.dir, ec);
    }
  };
  auto result = [&]() -> Result<InitResult> {
    InitResult r;
    r.dir = std::filesystem::absolute(options.dir);
    r.db = r.dir / k_db_file;
    r.ledger_key_file = r.dir / "keys" / "ledger.pem";
    r.actor_key_file = std::filesystem::absolute(options.first.key_file);
    r.origin = origin;

    CUSTODY_TRY_ASSIGN(const SigningKey ledger_key, SigningKey::generate());
    CUSTODY_TRY(ledger_key.save(r.ledger_key_file, std::nullopt));

    std::optional<SigningKey> actor_key;
    if (std::filesystem::exists(r.actor_key_file, ec)) {
      auto loaded = SigningKey::load(r.actor_key_file, options.first.passphrase);
      if (!loaded) {
        return fail(loaded.error().code, fmt::format("existing key of {}: {}",
                                                     options.first.actor, loaded.error().message));
      }
      actor_key = std::move(*loaded);
    } else {
      CUSTODY_TRY_ASSIGN(actor_key, SigningKey::generate());
      CUSTODY_TRY(actor_key->save(r.actor_key_file, options.first.passphrase));
      r.actor_key_created = true;
    }
    const Signer first{options.first.actor, *actor_key};
    r.actor_kid = actor_key->public_key().fingerprint();
    r.ledger_vkey = vault::ledger_vkey(origin, ledger_key);

    CUSTODY_TRY(ObjectStore::open(r.dir / "objects"));
    CUSTODY_TRY_ASSIGN(Ledger ledger, Ledger::create(r.db, origin, ledger_key, first, host_name()));
    CUSTODY_TRY_ASSIGN(auto cp, ledger.latest_checkpoint());
    r.checkpoint = std::move(*cp);
    // created_at is the genesis entry's time, so it can be cross-checked.
    CUSTODY_TRY_ASSIGN(auto genesis, ledger.db().prepare("SELECT entry FROM ledger WHERE seq = 0"));
    CUSTODY_TRY(genesis.step());
    CUSTODY_TRY_ASSIGN(const verify::Entry first_entry, verify::decode_entry(genesis.column_blob(0)));
    CUSTODY_TRY_ASSIGN(const std::string identity,
                       cjson::encode(Json{{"format", 1},
                                          {"origin", origin},
                                          {"ledger_key", r.ledger_vkey},
                                          {"created_at", format_rfc3339_ms(first_entry.t_ms)}}));
    CUSTODY_TRY(write_file_atomic(r.dir / k_identity_file, identity, 0444, Overwrite::no));
    return r;
  }();
  if (!result) {
    cleanup();
  }
  return result;
}

Result<Vault> Vault::open(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return fail_errno(fmt::format("open vault {}", dir.string()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::invalid_input, fmt::format("vault {}: not a directory", dir.string()));
  }
  CUSTODY_TRY_ASSIGN(const Json identity, read_identity(dir));
  CUSTODY_TRY_ASSIGN(Ledger ledger, Ledger::open(dir / k_db_file));
  if (identity.at("origin") != ledger.origin()) {
    return fail(Errc::corrupt,
                fmt::format("{}/ledger.db belongs to vault '{}', but this directory is '{}'",
                            dir.string(), ledger.origin(), identity.at("origin").get<std::string>()));
  }
  CUSTODY_TRY_ASSIGN(ObjectStore store, ObjectStore::open(dir / "objects"));
  return Vault(dir, std::move(ledger), std::move(store),
               identity.at("ledger_key").get<std::string>());
}

Result<CheckpointInfo> Vault::checkpoint() {
  auto key = SigningKey::load(m_dir / "keys" / "ledger.pem", std::nullopt);
  if (!key) {
    return fail(key.error().code, "cannot load the vault's ledger key: " + key.error().message);
  }
  if (vault::ledger_vkey(m_ledger.origin(), *key) != m_ledger_vkey) {
    return fail(Errc::corrupt, "keys/ledger.pem is not the ledger key named in vault.json");
  }
  return m_ledger.checkpoint(*key);
}

Result<KeyNewResult> Vault::key_new(const Signer& by, const KeyNewOptions& options) {
  CUSTODY_TRY(check_actor_name(options.subject));
  KeyNewResult result;
  std::optional<PublicKey> pub;
  std::optional<SigningKey> generated;
  if (options.public_key_pem) {
    CUSTODY_TRY_ASSIGN(pub, PublicKey::from_pem(*options.public_key_pem));
  } else {
    std::error_code ec;
    if (std::filesystem::exists(options.key_file, ec)) {
      return fail(Errc::conflict, fmt::format("{} already exists; choose another --key file",
                                              options.key_file.string()));
    }
    CUSTODY_TRY_ASSIGN(generated, SigningKey::generate());
    pub = generated->public_key();
  }
  result.kid = pub->fingerprint();
  // Register first, then write the private key: a key file that exists is one
  // the ledger knows. If writing fails the entry stays, naming an unusable key,
  // which the person can revoke.
  CUSTODY_TRY_ASSIGN(result.entry,
                     m_ledger.append(by, Draft{"key_register", "",
                                               Json{{"subject", options.subject},
                                                    {"kid", result.kid},
                                                    {"public_key", to_base64(pub->raw())},
                                                    {"comment", options.comment}}}));
  if (generated) {
    if (auto saved = generated->save(options.key_file, options.passphrase); !saved) {
      return fail(saved.error().code,
                  fmt::format("key {} was registered (entry {}) but could not be written: {}; "
                              "revoke it with: custody key revoke {} --kid {}",
                              result.kid.substr(0, 16), result.entry.entry.seq,
                              saved.error().message, options.subject, result.kid.substr(0, 16)));
    }
    result.key_file = std::filesystem::absolute(options.key_file);
  }
  return result;
}

Result<std::vector<Appended>> Vault::key_revoke(const Signer& by, const std::string& subject,
                                                const std::string& kid_prefix,
                                                const std::string& reason) {
  CUSTODY_TRY(check_actor_name(subject));
  return m_ledger.append(
    by, [&](verify::ProjectionStore&, int64_t) -> Result<std::vector<Draft>> {
      CUSTODY_TRY_ASSIGN(auto keys, m_ledger.query(Table::keys, "actor = ?1", subject, "key"));
      std::vector<Draft> drafts;
      for (const Json& k : keys) {
        const auto kid = k.at("kid").get<std::string>();
        if (k.at("revoked").get<bool>() || !kid.starts_with(kid_prefix)) {
          continue;
        }
        drafts.push_back(Draft{"key_revoke", "",
                               Json{{"subject", subject}, {"kid", kid}, {"reason", reason}}});
      }
      if (drafts.empty()) {
        return fail(Errc::not_found,
                    fmt::format("{} has no active key{}", subject,
                                kid_prefix.empty() ? "" : " starting with " + kid_prefix));
      }
      return drafts;
    });
}

Result<std::vector<Json>> Vault::keys() {
  return m_ledger.query(Table::keys, "", "", "rowid");
}

Result<Json> Vault::incident_open(const Signer& by, const IncidentOpenOptions& o) {
  std::string id;
  CUSTODY_TRY(m_ledger.append(
    by, [&](verify::ProjectionStore& store, int64_t now) -> Result<std::vector<Draft>> {
      CUSTODY_TRY_ASSIGN(id, verify::next_incident_id(now, store));
      const int64_t detected = o.detected_ms.value_or(now);
      if (detected > now) {
        return fail(Errc::invalid_input,
                    fmt::format("--detected-at {} is in the future", format_rfc3339_ms(detected)));
      }
      std::vector<Draft> v;
      v.push_back(Draft{"incident_open", id,
                        Json{{"id", id},
                             {"severity", o.severity},
                             {"title", o.title},
                             {"detected_at_ms", detected},
                             {"reporter", o.reporter.empty() ? by.actor : o.reporter},
                             {"commander", o.commander.empty() ? by.actor : o.commander},
                             {"affected_systems", o.affected_systems},
                             {"affected_customers", o.affected_customers},
                             {"playbook", o.playbook},
                             {"description", o.description},
                             {"root_cause", o.root_cause}}});
      return v;
    }));
  return incident(id);
}

Result<Json> Vault::incident_status(const Signer& by, const std::string& id, const std::string& to,
                                    std::optional<int64_t> at_ms, const std::string& note) {
  CUSTODY_TRY(m_ledger.append(
    by, [&](verify::ProjectionStore& store, int64_t now) -> Result<std::vector<Draft>> {
      CUSTODY_TRY_ASSIGN(auto inc, store.get(Table::incidents, id));
      if (!inc) {
        return fail(Errc::not_found, fmt::format("no incident {}", id));
      }
      const int64_t at = at_ms.value_or(now);
      if (at > now) {
        return fail(Errc::invalid_input, "--at is in the future");
      }
      std::vector<Draft> v;
      v.push_back(Draft{"incident_status", id,
                        Json{{"from", inc->at("status")}, {"to", to}, {"at_ms", at}, {"note", note}}});
      return v;
    }));
  return incident(id);
}

Result<Json> Vault::incident_update(const Signer& by, const std::string& id, const Json& set,
                                    const std::string& reason) {
  CUSTODY_TRY(m_ledger.append(by, Draft{"incident_update", id, Json{{"set", set}, {"reason", reason}}}));
  return incident(id);
}

Result<Json> Vault::incident(const std::string& id) {
  CUSTODY_TRY_ASSIGN(auto doc, m_ledger.get(Table::incidents, id));
  if (!doc) {
    return fail(Errc::not_found, fmt::format("no incident {}", id));
  }
  return std::move(*doc);
}

Result<std::vector<Json>> Vault::incidents() {
  return m_ledger.query(Table::incidents, "", "", "opened_seq");
}

Result<void> Vault::check_open_incident(const std::string& id) {
  // Checked before copying gigabytes or calling an API; the ledger re-checks
  // inside the transaction.
  CUSTODY_TRY_ASSIGN(const Json inc, incident(id));
  if (inc.at("status") == "closed") {
    return fail(Errc::invalid_input,
                fmt::format("refused: incident {} is closed: no evidence can be added; reopen it "
                            "first",
                            id));
  }
  return {};
}

Result<Json> Vault::record_collect(const Signer& by, const CollectDraft& d) {
  std::string item_id;
  CUSTODY_TRY(m_ledger.append(
    by, [&](verify::ProjectionStore& store, int64_t) -> Result<std::vector<Draft>> {
      CUSTODY_TRY_ASSIGN(auto current, store.get(Table::incidents, d.incident));
      if (!current) {
        return fail(Errc::not_found, fmt::format("no incident {}", d.incident));
      }
      const int64_t n = current->at("evidence_count").get<int64_t>() + 1;
      item_id = fmt::format("{}-E{}", d.incident, n);
      std::vector<Draft> v;
      v.push_back(Draft{"collect", d.incident,
                        Json{{"item", item_id},
                             {"n", n},
                             {"kind", d.kind},
                             {"sha256", d.sha256},
                             {"size", d.size},
                             {"source", d.source},
                             {"method", d.method},
                             {"tool", k_tool_name},
                             {"tool_version", k_tool_version},
                             {"collected_ms", d.collected_ms},
                             {"location", d.location},
                             {"original_name", d.original_name},
                             {"notes", d.notes}}});
      return v;
    }));
  return item(item_id);
}

Result<Json> Vault::add(const Signer& by, const AddOptions& o) {
  CUSTODY_TRY(check_open_incident(o.incident));
  if (o.source.empty()) {
    return fail(Errc::invalid_input, "--source must name where the evidence came from");
  }
  UniqueFd fd(::open(o.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail_errno(fmt::format("open {}", o.file.string()));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail_errno(fmt::format("stat {}", o.file.string()));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_input, fmt::format("{}: not a regular file", o.file.string()));
  }
  const int64_t started = now_ms();
  const int64_t collected = o.collected_ms.value_or(started);
  if (collected > started) {
    return fail(Errc::invalid_input, "--collected-at is in the future");
  }
  CUSTODY_TRY_ASSIGN(const StoredObject stored, m_store.ingest_fd(fd.get(), o.file.string()));
  std::string notes = o.notes;
  if (stored.size != static_cast<uint64_t>(st.st_size)) {
    // A live file changed while it was copied; the stored bytes are exactly
    // the ones hashed, but say so in the record.
    notes += fmt::format("{}[custody] the source changed during the copy: {} bytes at open, {} "
                         "bytes copied",
                         notes.empty() ? "" : " ", st.st_size, stored.size);
  }
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(o.file, ec);
  const std::string sha_hex = to_hex(stored.sha256);
  return record_collect(by, CollectDraft{o.incident,
                                         o.kind,
                                         o.source,
                                         "file ingest: copied into the vault and SHA-256 hashed "
                                         "in one pass",
                                         object_location(m_ledger.origin(), sha_hex),
                                         (ec ? o.file : absolute).string(),
                                         notes,
                                         Json(sha_hex),
                                         stored.size,
                                         collected});
}

Result<Json> Vault::add_bytes(const Signer& by, const AddBytesOptions& o) {
  CUSTODY_TRY(check_open_incident(o.incident));
  const int64_t collected = o.collected_ms.value_or(now_ms());
  CUSTODY_TRY_ASSIGN(const StoredObject stored, m_store.ingest_bytes(o.bytes, o.name));
  const std::string sha_hex = to_hex(stored.sha256);
  return record_collect(by, CollectDraft{o.incident, o.kind, o.source, o.method,
                                         object_location(m_ledger.origin(), sha_hex), o.name,
                                         o.notes, Json(sha_hex), stored.size, collected});
}

Result<Json> Vault::record_external(const Signer& by, const ExternalItemOptions& o) {
  CUSTODY_TRY(check_open_incident(o.incident));
  return record_collect(by, CollectDraft{o.incident, "cloud_snapshot", o.source, o.method,
                                         o.location, o.name, o.notes, Json(nullptr), o.size,
                                         o.collected_ms});
}

Result<Appended> Vault::record_response(const Signer& by, const std::string& incident,
                                        Json fields) {
  return m_ledger.append(by, Draft{"response_action", incident, std::move(fields)});
}

Result<Json> Vault::item(const std::string& id) {
  CUSTODY_TRY_ASSIGN(auto doc, m_ledger.get(Table::items, id));
  if (!doc) {
    return fail(Errc::not_found, fmt::format("no evidence item {}", id));
  }
  return std::move(*doc);
}

Result<std::vector<Json>> Vault::items(const std::string& incident) {
  return m_ledger.query(Table::items, "incident = ?1", incident, "n");
}

Result<std::vector<Json>> Vault::accesses(const std::string& incident) {
  return m_ledger.query(Table::accesses, "incident = ?1", incident, "key");
}

Result<ExportResult> Vault::export_item(const Signer& by, const ExportOptions& o) {
  CUSTODY_TRY_ASSIGN(const Json it, item(o.item));
  if (it.at("sha256").is_null()) {
    return fail(Errc::invalid_input,
                fmt::format("{} is held at the provider ({}); there are no bytes to export",
                            item_label(it), it.at("location").get<std::string>()));
  }
  if (o.purpose.empty()) {
    return fail(Errc::invalid_input, "--purpose must say why the evidence is taken out");
  }
  const std::string sha_hex = it.at("sha256").get<std::string>();
  CUSTODY_TRY_ASSIGN(const Hash256 sha, hash_from_hex(sha_hex));
  struct stat st {};
  if (::stat(o.to_dir.c_str(), &st) != 0) {
    return fail_errno(fmt::format("export destination {}", o.to_dir.string()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::invalid_input, fmt::format("{}: not a directory", o.to_dir.string()));
  }
  const std::string name =
    fmt::format("{}_{}", o.item,
                safe_component(std::filesystem::path(it.at("original_name").get<std::string>())
                                 .filename()
                                 .string(),
                               "evidence"));
  const auto final_path = std::filesystem::absolute(o.to_dir / name);
  std::error_code ec;
  if (std::filesystem::exists(final_path, ec)) {
    return fail(Errc::conflict, fmt::format("{} already exists; analysts work on fresh copies",
                                            final_path.string()));
  }
  CUSTODY_TRY_ASSIGN(UniqueFd src, m_store.open_object(sha));

  // The access is committed before any byte leaves the vault (fail closed).
  CUSTODY_TRY_ASSIGN(const Appended access,
                     m_ledger.append(by, Draft{"access", it.at("incident").get<std::string>(),
                                               Json{{"item", o.item},
                                                    {"action", "export"},
                                                    {"purpose", o.purpose},
                                                    {"destination", final_path.string()},
                                                    {"host", host_name()}}}));
  ExportResult result;
  result.file = final_path;
  result.access_seq = access.entry.seq;

  std::string detail;
  std::string copy_hex;
  uint64_t copy_size = 0;
  auto copy = [&]() -> Result<void> {
    std::string tmp = (o.to_dir / ".custody-export-XXXXXX").string();
    UniqueFd out(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!out) {
      return fail_errno("create temporary file in " + o.to_dir.string());
    }
    auto written = hash_fd(src.get(), m_store.object_path(sha).string(),
                           [&](std::string_view chunk) { return write_all(out.get(), chunk, tmp); });
    auto drop = [&](Error e) {
      ::unlink(tmp.c_str());
      return tl::unexpected(std::move(e));
    };
    if (!written) {
      return drop(written.error());
    }
    if (::fsync(out.get()) != 0 || ::fchmod(out.get(), 0444) != 0 || out.close() != 0) {
      return drop(Error{Errc::io, fmt::format("finish {}: {}", tmp, std::strerror(errno))});
    }
    if (written->sha256 != sha) {
      return drop(Error{Errc::corrupt,
                        fmt::format("the stored object of {} does not match its recorded SHA-256 "
                                    "(read {}); no copy was released. Run custody verify",
                                    o.item, to_hex(written->sha256))});
    }
    if (::link(tmp.c_str(), final_path.c_str()) != 0) {
      return drop(Error{Errc::io, fmt::format("link {}: {}", final_path.string(),
                                              std::strerror(errno))});
    }
    ::unlink(tmp.c_str());
    CUSTODY_TRY(fsync_dir(o.to_dir));
    // Re-hash what is now on disk: the analyst's copy, as written.
    UniqueFd back(::open(final_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!back) {
      return fail_errno("re-open " + final_path.string());
    }
    CUSTODY_TRY_ASSIGN(const StoredObject reread, hash_fd(back.get(), final_path.string()));
    copy_hex = to_hex(reread.sha256);
    copy_size = reread.size;
    if (reread.sha256 != sha) {
      ::unlink(final_path.c_str());
      return fail(Errc::corrupt, fmt::format("the copy {} read back as {}, not {}; it was removed",
                                             final_path.string(), copy_hex, sha_hex));
    }
    return {};
  };
  auto copied = copy();
  if (!copied) {
    detail = copied.error().message;
  }
  CUSTODY_TRY_ASSIGN(const Appended done,
                     m_ledger.append(by, Draft{"access_result",
                                               it.at("incident").get<std::string>(),
                                               Json{{"access_seq", access.entry.seq},
                                                    {"item", o.item},
                                                    {"outcome", copied ? "ok" : "failed"},
                                                    {"sha256", copied ? copy_hex : std::string()},
                                                    {"size", copied ? copy_size : 0},
                                                    {"detail", detail.substr(0, 2000)}}}));
  if (!copied) {
    return fail(copied.error().code,
                fmt::format("export of {} failed (recorded as entry {}): {}", o.item,
                            done.entry.seq, copied.error().message));
  }
  result.sha256 = copy_hex;
  result.size = copy_size;
  result.result_seq = done.entry.seq;
  return result;
}

} // namespace custody::vault
