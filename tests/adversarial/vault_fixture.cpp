#include "tests/adversarial/vault_fixture.hpp"

#include "common/digest.hpp"
#include "common/time.hpp"
#include "common/version.hpp"
#include "vault/vault.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>

#include "tests/testutil.hpp"

namespace custody::test {

namespace fs = std::filesystem;
using verify::Json;

namespace {

template<typename T> T must(Result<T> r, std::string_view what) {
  if (!r) {
    throw std::runtime_error(fmt::format("{}: {}", what, r.error().message));
  }
  return std::move(*r);
}

void save_checkpoint(vault::Vault& v, SmallVault& s) {
  auto cp = must(v.checkpoint(), "checkpoint");
  const fs::path file =
      s.root / fmt::format("checkpoint-{}.note", cp.checkpoint.size);
  write_file(file, cp.note);
  s.checkpoint_files.push_back(file);
}

// Deterministic pseudo-random bytes for object `i` (distinct per i;
// splitmix64, fast enough for gigabytes).
std::string object_bytes(uint64_t i, uint64_t size) {
  std::string out(size, '\0');
  uint64_t state = 0x9e3779b97f4a7c15ULL * (i + 1);
  for (size_t at = 0; at < size; at += 8) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    z ^= z >> 31U;
    for (size_t b = 0; b < 8 && at + b < size; ++b) {
      out[at + b] = static_cast<char>((z >> (8 * b)) & 0xffU);
    }
  }
  return out;
}

} // namespace

SmallVault make_small_vault(const fs::path& root, const std::string& origin) {
  SmallVault s{root,
               root / "vault",
               root / "keys",
               {},
               {},
               {},
               {},
               {},
               must(SigningKey::generate(), "key"),
               must(SigningKey::generate(), "key"),
               {}};
  fs::create_directories(root);
  const auto init = must(
      vault::Vault::init(vault::InitOptions{
          s.dir, vault::Identity{"alice", s.keys / "alice.pem", {}}, origin}),
      "init");
  s.origin = init.origin;
  s.ledger_vkey = init.ledger_vkey;
  s.checkpoint_files.push_back(root / "checkpoint-1.note");
  write_file(s.checkpoint_files.back(), init.checkpoint.note);
  s.alice = must(
      vault::load_signer(vault::Identity{"alice", s.keys / "alice.pem", {}}),
      "alice");
  auto v = must(vault::Vault::open(s.dir), "open");

  vault::KeyNewOptions bob;
  bob.subject = "bob";
  bob.key_file = s.keys / "bob.pem";
  bob.comment = "analyst";
  must(v.key_new(s.alice, bob), "key bob");
  s.bob =
      must(vault::load_signer(vault::Identity{"bob", s.keys / "bob.pem", {}}),
           "bob");

  const Json inc = must(
      v.incident_open(s.alice,
                      vault::IncidentOpenOptions{"P1",
                                                 "VPS 4294967297 compromised",
                                                 {},
                                                 {"hetzner:server/4294967297"},
                                                 {"acme"},
                                                 "vps-compromise",
                                                 "",
                                                 "",
                                                 "ssh brute force",
                                                 ""}),
      "incident");
  s.incident = inc.at("id").get<std::string>();
  write_file(root / "a.log",
             "Dec  3 01:02:03 vps sshd[42]: Failed password for root\n");
  write_file(root / "b.log",
             "{\"ts\":\"2026-12-03T01:02:04Z\",\"msg\":\"deploy\"}\n");
  must(v.add(s.alice,
             vault::AddOptions{root / "a.log",
                               s.incident,
                               "hetzner",
                               "auth log",
                               "log_export",
                               {}}),
       "add a");
  must(v.add(s.alice,
             vault::AddOptions{
                 root / "b.log", s.incident, "vercel", "", "log_export", {}}),
       "add b");
  save_checkpoint(v, s);

  fs::create_directories(root / "out");
  must(v.export_item(s.alice,
                     vault::ExportOptions{s.incident + "-E1",
                                          root / "out",
                                          "timeline analysis"}),
       "export");
  must(v.incident_status(
           s.bob, s.incident, "contained", std::nullopt, "firewall applied"),
       "status");
  must(v.incident_update(s.bob,
                         s.incident,
                         Json{{"root_cause", "weak root password"}},
                         "found in auth.log"),
       "update");
  vault::KeyNewOptions carol;
  carol.subject = "carol";
  carol.key_file = s.keys / "carol.pem";
  must(v.key_new(s.alice, carol), "key carol");
  s.carol = must(SigningKey::load(s.keys / "carol.pem", std::nullopt), "carol");
  must(v.key_revoke(s.alice, "carol", "", "left the team"), "revoke carol");
  save_checkpoint(v, s);
  s.ledger_key =
      must(SigningKey::load(s.dir / "keys" / "ledger.pem", std::nullopt),
           "ledger key");
  return s;
}

BigVaultStats make_big_vault(const fs::path& dir,
                             const fs::path& keys,
                             uint64_t entries,
                             uint64_t objects,
                             uint64_t object_size) {
  constexpr uint64_t k_incidents = 10;
  constexpr size_t k_batch = 5000;
  if (entries < objects + 20 + 2 * k_incidents) {
    throw std::runtime_error(
        "make_big_vault: too few entries for that many objects");
  }
  BigVaultStats stats;
  const auto init = must(vault::Vault::init(vault::InitOptions{
                             dir,
                             vault::Identity{"alice", keys / "alice.pem", {}},
                             std::string("custody.bench/big")}),
                         "init");
  auto alice =
      must(vault::load_signer(vault::Identity{"alice", keys / "alice.pem", {}}),
           "alice");
  auto v = must(vault::Vault::open(dir), "open");
  vault::KeyNewOptions bob;
  bob.subject = "bob";
  bob.key_file = keys / "bob.pem";
  must(v.key_new(alice, bob), "key bob");

  // Objects first (the store), then their collect entries.
  std::vector<std::pair<std::string, uint64_t>> stored; // sha hex, size
  for (uint64_t i = 0; i < objects; ++i) {
    const auto o =
        must(v.store().ingest_bytes(object_bytes(i, object_size), "object"),
             "ingest");
    stored.emplace_back(to_hex(o.sha256), o.size);
    stats.object_bytes += o.size;
  }
  stats.objects = objects;

  auto append = [&](const std::function<std::vector<vault::Draft>(
                        verify::ProjectionStore&, int64_t, uint64_t)>& make) {
    const uint64_t base = must(v.ledger().size(), "size");
    must(v.ledger().append(alice,
                           [&](verify::ProjectionStore& store, int64_t now)
                               -> Result<std::vector<vault::Draft>> {
                             return make(store, now, base);
                           }),
         "append");
    must(v.checkpoint(), "checkpoint");
    stats.checkpoints += 1;
  };

  // Incidents, opened on the batch's UTC day.
  std::vector<std::string> incidents;
  append([&](verify::ProjectionStore& store, int64_t now, uint64_t) {
    const std::string first = must(verify::next_incident_id(now, store), "id");
    const std::string prefix = first.substr(0, first.rfind('-') + 1);
    const uint64_t n0 = std::stoull(first.substr(first.rfind('-') + 1));
    std::vector<vault::Draft> drafts;
    for (uint64_t i = 0; i < k_incidents; ++i) {
      const std::string id = fmt::format("{}{}", prefix, n0 + i);
      incidents.push_back(id);
      drafts.push_back(vault::Draft{
          "incident_open",
          id,
          Json{{"id", id},
               {"severity", "P2"},
               {"title", fmt::format("bench incident {}", i)},
               {"detected_at_ms", now},
               {"reporter", "alice"},
               {"commander", "alice"},
               {"affected_systems", {"hetzner:server/4294967297", "vercel"}},
               {"affected_customers", {"acme"}},
               {"playbook", "vps-compromise"},
               {"description", "synthetic incident for the verifier benchmark"},
               {"root_cause", ""}}});
    }
    return drafts;
  });

  // One collect per object, spread over the incidents.
  std::vector<std::string> items;
  std::map<std::string, uint64_t> evidence_count;
  for (size_t start = 0; start < stored.size(); start += k_batch) {
    append([&](verify::ProjectionStore&, int64_t now, uint64_t) {
      std::vector<vault::Draft> drafts;
      for (size_t i = start; i < std::min(stored.size(), start + k_batch);
           ++i) {
        const std::string& inc = incidents[i % incidents.size()];
        const uint64_t n = ++evidence_count[inc];
        const std::string item = fmt::format("{}-E{}", inc, n);
        items.push_back(item);
        drafts.push_back(vault::Draft{
            "collect",
            inc,
            Json{
                {"item", item},
                {"n", n},
                {"kind", "log_export"},
                {"sha256", stored[i].first},
                {"size", stored[i].second},
                {"source", "vercel"},
                {"method",
                 "file ingest: copied into the vault and SHA-256 hashed in one "
                 "pass"},
                {"tool", k_tool_name},
                {"tool_version", k_tool_version},
                {"collected_ms", now},
                {"location",
                 vault::object_location(init.origin, stored[i].first)},
                {"original_name", fmt::format("/srv/exports/object-{}.log", i)},
                {"notes", ""}}});
      }
      return drafts;
    });
  }

  // Status changes and updates.
  append([&](verify::ProjectionStore&, int64_t now, uint64_t) {
    std::vector<vault::Draft> drafts;
    for (const auto& inc : incidents) {
      drafts.push_back(vault::Draft{"incident_status",
                                    inc,
                                    Json{{"from", "open"},
                                         {"to", "contained"},
                                         {"at_ms", now},
                                         {"note", "isolated"}}});
      drafts.push_back(vault::Draft{
          "incident_update",
          inc,
          Json{{"set", Json{{"root_cause", "credential stuffing"}}},
               {"reason", "analysis"}}});
    }
    return drafts;
  });

  // Accesses (export + result) fill the rest; an odd remainder is an update.
  uint64_t size = must(v.ledger().size(), "size");
  uint64_t k = 0;
  while (size < entries) {
    const uint64_t want = std::min<uint64_t>(entries - size, k_batch);
    append([&](verify::ProjectionStore&, int64_t, uint64_t base) {
      std::vector<vault::Draft> drafts;
      for (uint64_t j = 0; j + 1 < want; j += 2, ++k) {
        const std::string& item = items[k % items.size()];
        const std::string inc = item.substr(0, item.rfind("-E"));
        const auto& obj = stored[k % stored.size()];
        drafts.push_back(vault::Draft{
            "access",
            inc,
            Json{{"item", item},
                 {"action", "export"},
                 {"purpose", "timeline analysis"},
                 {"destination",
                  fmt::format("/home/analyst/cases/{}/copy-{}.log", inc, k)},
                 {"host", "analyst-workstation"}}});
        drafts.push_back(vault::Draft{"access_result",
                                      inc,
                                      Json{{"access_seq", base + j},
                                           {"item", item},
                                           {"outcome", "ok"},
                                           {"sha256", obj.first},
                                           {"size", obj.second},
                                           {"detail", ""}}});
      }
      if (want % 2 == 1) {
        drafts.push_back(vault::Draft{
            "incident_update",
            incidents[0],
            Json{{"set", Json{{"description", "still investigating"}}},
                 {"reason", "status"}}});
      }
      return drafts;
    });
    size = must(v.ledger().size(), "size");
  }
  stats.entries = size;
  return stats;
}

RawDb::RawDb(const fs::path& db) {
  if (sqlite3_open_v2(db.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr)
      != SQLITE_OK) {
    throw std::runtime_error("open " + db.string());
  }
  sqlite3_busy_timeout(m_db, 10000);
}

RawDb::~RawDb() {
  sqlite3_close_v2(m_db);
}

void RawDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(sql + ": " + msg);
  }
}

void RawDb::drop_triggers() {
  exec(
      "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete; "
      "DROP TRIGGER ledger_contiguous; DROP TRIGGER checkpoints_no_update; "
      "DROP TRIGGER checkpoints_no_delete; DROP TRIGGER checkpoints_grow;");
}

std::string RawDb::get(const std::string& table,
                       const std::string& column,
                       const std::string& where) {
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      fmt::format("SELECT {} FROM {} WHERE {}", column, table, where);
  if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sql);
  }
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const void* p = sqlite3_column_blob(st, 0);
    out.assign(static_cast<const char*>(p),
               static_cast<size_t>(sqlite3_column_bytes(st, 0)));
  } else {
    sqlite3_finalize(st);
    throw std::runtime_error("no row: " + sql);
  }
  sqlite3_finalize(st);
  return out;
}

void RawDb::set(const std::string& table,
                const std::string& column,
                const std::string& where,
                const std::string& value,
                bool blob) {
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      fmt::format("UPDATE {} SET {} = ?1 WHERE {}", table, column, where);
  if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(m_db));
  }
  if (blob) {
    sqlite3_bind_blob(
        st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_text(
        st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(m_db));
  }
}

void RawDb::insert_entry(uint64_t seq,
                         const std::string& bytes,
                         const std::string& kid,
                         const std::string& sig) {
  sqlite3_stmt* st = nullptr;
  const char* sql =
      "INSERT INTO ledger (seq, entry, leaf_hash, kid, sig) VALUES (?1, ?2, "
      "?3, ?4, ?5)";
  if (sqlite3_prepare_v2(m_db, sql, -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(m_db));
  }
  const Hash256 leaf = verify::entry_leaf_hash(bytes);
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(seq));
  sqlite3_bind_blob(
      st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(
      st, 3, leaf.data(), static_cast<int>(leaf.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(
      st, 4, kid.data(), static_cast<int>(kid.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(
      st, 5, sig.data(), static_cast<int>(sig.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(std::string("insert: ") + sqlite3_errmsg(m_db));
  }
}

int64_t RawDb::count(const std::string& table) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT COUNT(*) FROM " + table;
  sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr);
  sqlite3_step(st);
  const int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

void RawDb::create_plain(const fs::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(),
                      &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr)
      != SQLITE_OK) {
    sqlite3_close_v2(db);
    throw std::runtime_error("create " + path.string());
  }
  sqlite3_exec(db,
               "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
               nullptr,
               nullptr,
               nullptr);
  sqlite3_close_v2(db);
}

Forged forge_entry(const fs::path& db,
                   const std::string& origin,
                   const std::string& actor,
                   const SigningKey& key,
                   const std::string& type,
                   const std::string& incident,
                   const Json& fields) {
  RawDb raw(db);
  const int64_t n = raw.count("ledger");
  const std::string last =
      raw.get("ledger", "entry", fmt::format("seq = {}", n - 1));
  const auto tip = must(verify::decode_entry(last), "decode tip");
  verify::Entry e;
  e.origin = origin;
  e.seq = static_cast<uint64_t>(n);
  e.prev = verify::entry_leaf_hash(last);
  e.type = type;
  e.t_ms = std::max(tip.t_ms, now_ms());
  e.actor = actor;
  e.kid = key.public_key().fingerprint();
  e.incident = incident;
  e.fields = fields;
  Forged f;
  f.seq = e.seq;
  f.bytes = must(verify::encode_entry(e), "encode forged entry");
  f.kid = e.kid;
  const Signature sig =
      must(key.sign(as_bytes(verify::signed_message(f.bytes))), "sign");
  f.sig.assign(sig.begin(), sig.end());
  return f;
}

void insert_forged(const fs::path& db,
                   const Forged& f,
                   bool update_projections) {
  auto conn = must(sql::Db::open(db, sql::Mode::read_write), "open");
  auto tx = must(sql::Transaction::begin_immediate(conn), "begin");
  auto insert =
      must(conn.prepare("INSERT INTO ledger (seq, entry, leaf_hash, kid, sig) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)"),
           "prepare");
  const Hash256 leaf = verify::entry_leaf_hash(f.bytes);
  insert.bind(1, static_cast<int64_t>(f.seq))
      .bind_blob(2, as_bytes(f.bytes))
      .bind_blob(3, leaf)
      .bind(4, f.kid)
      .bind_blob(5, as_bytes(f.sig));
  if (auto r = insert.run(); !r) {
    throw std::runtime_error("insert forged entry: " + r.error().message);
  }
  if (update_projections) {
    vault::SqlProjection store(conn);
    const auto e = must(verify::decode_entry(f.bytes), "decode forged entry");
    if (auto r = verify::apply_entry(e, store); !r) {
      throw std::runtime_error("apply forged entry: " + r.error().message);
    }
  }
  if (auto r = tx.commit(); !r) {
    throw std::runtime_error("commit: " + r.error().message);
  }
}

std::string sign_checkpoint(const std::string& origin,
                            uint64_t size,
                            const Hash256& root,
                            const SigningKey& key) {
  return must(
      note::sign(note::format_checkpoint(note::Checkpoint{origin, size, root}),
                 origin,
                 key),
      "sign checkpoint");
}

std::map<std::string, std::string> snapshot_tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  auto describe = [](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      throw std::runtime_error("lstat " + p.string());
    }
    std::string content_hash;
    if (S_ISREG(st.st_mode)) {
      content_hash = to_hex(sha256(read_file(p)));
    }
    return fmt::format(
        "mode={:o} size={} mtime={}.{:09} ctime={}.{:09} sha256={}",
        st.st_mode,
        st.st_size,
        st.st_mtim.tv_sec,
        st.st_mtim.tv_nsec,
        st.st_ctim.tv_sec,
        st.st_ctim.tv_nsec,
        content_hash);
  };
  out.emplace(".", describe(dir));
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.emplace(fs::relative(e.path(), dir).string(), describe(e.path()));
  }
  return out;
}

void copy_tree(const fs::path& from, const fs::path& to) {
  fs::copy(
      from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

} // namespace custody::test
