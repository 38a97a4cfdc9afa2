// How the custody ledger resists tampering, and what each piece is for.
//
// An entry is a canonical JSON object. Its bytes are signed by the person who
// acted (Ed25519, message "custody-entry/v1\n" || bytes) and hashed as a leaf
// of an RFC 6962 Merkle tree (SHA-256(0x00 || bytes)). Each entry also names
// the leaf hash of its predecessor in `prev` and its own position in `seq`, so
// a signature commits to where the entry sits: moving, dropping or replaying an
// entry breaks a signature or a link even before anyone looks at the tree.
//
// The tree is what a third party can hold us to. The vault's ledger key signs
// (origin, size, root) as a C2SP checkpoint after every command that appends.
// A copy of a checkpoint kept outside the vault (a ticket, a mail, another
// host) pins the first `size` entries: anyone who later rewrites, reorders or
// truncates them must produce a different root for that size, and the verifier
// recomputes the root from the entries alone. That is the only control that
// works against someone who holds every key and can edit the database file;
// signatures stop everyone else, and the SQLite triggers only stop mistakes.
//
// Why not a plain hash chain: a chain proves order but gives no compact,
// standard object to hand to an outsider, and no inclusion or consistency
// proofs. Why not only a tree: the per-entry `prev` link makes the verifier's
// first bad entry easy to name. Both live inside the signed bytes, so there
// is one commitment, not two structures whose seam could be attacked (immudb
// CVE-2022-36111).
//
// Writers never sign a checkpoint they cannot reconcile with the last one:
// before signing, the writer recomputes every leaf from the entry bytes and
// checks that the first leaves still fold to the previous checkpoint's root
// (c2sp.org/tlog-checkpoint: a log MUST NOT sign inconsistent checkpoints).
#include "vault/ledger.hpp"

#include "common/merkle.hpp"
#include "common/time.hpp"
#include "common/version.hpp"
#include "schemas/embedded.hpp"
#include "verify/entry.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

namespace custody::vault {

using verify::Entry;
using verify::Table;

namespace {

constexpr int64_t k_application_id = 0x43555354; // 'CUST'
constexpr int64_t k_user_version = 1;

Result<int64_t> pragma_int(sql::Db& db, const char* pragma) {
  CUSTODY_TRY_ASSIGN(auto stmt, db.prepare(fmt::format("PRAGMA {}", pragma)));
  CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
  return row ? stmt.column_int(0) : 0;
}

struct Tip {
  uint64_t size = 0;
  Hash256 leaf{};
  int64_t t_ms = 0;
};

Result<Tip> read_tip(sql::Db& db) {
  CUSTODY_TRY_ASSIGN(auto stmt,
                     db.prepare("SELECT seq, leaf_hash, entry FROM ledger ORDER BY seq DESC LIMIT 1"));
  CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
  Tip tip;
  if (!row) {
    tip.leaf = verify::genesis_prev();
    return tip;
  }
  tip.size = static_cast<uint64_t>(stmt.column_int(0)) + 1;
  // The next entry chains to the tip's bytes, not to the cached column.
  const std::string bytes = stmt.column_blob(2);
  tip.leaf = verify::entry_leaf_hash(bytes);
  if (stmt.column_blob(1) != std::string(tip.leaf.begin(), tip.leaf.end())) {
    return fail(Errc::corrupt,
                fmt::format("ledger entry {} does not match its leaf hash; refusing to write "
                            "after it (run custody verify)",
                            tip.size - 1));
  }
  auto entry = verify::decode_entry(bytes);
  if (!entry) {
    return fail(Errc::corrupt,
                fmt::format("ledger entry {} is unreadable: {}", tip.size - 1, entry.error().message));
  }
  tip.t_ms = entry->t_ms;
  return tip;
}

Result<void> check_clock(int64_t now, int64_t last, std::string_view what) {
  if (now < last) {
    return fail(Errc::conflict,
                fmt::format("refusing to {}: this machine's clock ({}) is earlier than the last "
                            "ledger entry ({}); fix the clock first",
                            what, format_rfc3339_ms(now), format_rfc3339_ms(last)));
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) {
    return "unknown";
  }
  return buf;
}

} // namespace

std::string ledger_vkey(const std::string& origin, const SigningKey& ledger_key) {
  return note::format_vkey(origin, ledger_key.public_key());
}

Result<std::optional<Json>> SqlProjection::read(Table table, const std::string& key) {
  CUSTODY_TRY_ASSIGN(auto stmt, m_db->prepare(fmt::format("SELECT doc FROM {} WHERE key = ?1",
                                                          verify::table_name(table))));
  stmt.bind(1, key);
  CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
  if (!row) {
    return std::optional<Json>();
  }
  auto doc = cjson::decode(stmt.column_text(0));
  if (!doc) {
    return fail(Errc::corrupt, fmt::format("{} row '{}' is not canonical JSON: {}",
                                           verify::table_name(table), key, doc.error().message));
  }
  return std::optional<Json>(std::move(*doc));
}

Result<const Json*> SqlProjection::find(Table table, const std::string& key) {
  CUSTODY_TRY_ASSIGN(auto doc, read(table, key));
  if (!doc) {
    return nullptr;
  }
  return &m_found.emplace_back(std::move(*doc));
}

Result<void> SqlProjection::modify(Table table, const std::string& key,
                                   const std::function<void(Json&)>& change) {
  CUSTODY_TRY_ASSIGN(auto doc, read(table, key));
  if (!doc) {
    return fail(Errc::not_found, fmt::format("no {} row '{}'", verify::table_name(table), key));
  }
  change(*doc);
  return put(table, key, std::move(*doc));
}

Result<void> SqlProjection::put(Table table, const std::string& key, Json doc) {
  CUSTODY_TRY_ASSIGN(const std::string text, cjson::encode(doc));
  const auto columns = verify::projection_columns(table);
  std::string names = "key, doc";
  std::string values = "?1, ?2";
  std::string updates = "doc = excluded.doc";
  int index = 3;
  for (const auto& c : columns) {
    names += fmt::format(", {}", c.name);
    values += fmt::format(", ?{}", index++);
    updates += fmt::format(", {0} = excluded.{0}", c.name);
  }
  CUSTODY_TRY_ASSIGN(auto stmt,
                     m_db->prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}) "
                                               "ON CONFLICT (key) DO UPDATE SET {}",
                                               verify::table_name(table), names, values, updates)));
  stmt.bind(1, key).bind(2, text);
  index = 3;
  for (const auto& c : columns) {
    const Json& v = doc.contains(c.field) ? doc.at(c.field) : Json(nullptr);
    if (v.is_number_integer()) {
      stmt.bind(index, v.get<int64_t>());
    } else if (v.is_string()) {
      stmt.bind(index, v.get<std::string>());
    } else {
      stmt.bind_null(index);
    }
    ++index;
  }
  return stmt.run();
}

Result<Ledger> Ledger::create(const std::filesystem::path& db_path, const std::string& origin,
                              const SigningKey& ledger_key, const Signer& first,
                              const std::string& host) {
  struct stat st {};
  if (::stat(db_path.c_str(), &st) == 0) {
    return fail(Errc::conflict, fmt::format("{} already exists", db_path.string()));
  }
  CUSTODY_TRY_ASSIGN(sql::Db db, sql::Db::open(db_path, sql::Mode::read_write_create));
  const auto schema = schemas::find("ledger.sql");
  if (!schema) {
    return fail(Errc::internal, "ledger.sql is not embedded");
  }
  {
    CUSTODY_TRY_ASSIGN(auto tx, sql::Transaction::begin_immediate(db));
    CUSTODY_TRY(db.exec(*schema));
    CUSTODY_TRY(tx.commit());
  }
  Ledger ledger(std::move(db), origin);
  Draft genesis{"vault_init", "",
                Json{{"ledger_key", ledger_vkey(origin, ledger_key)},
                     {"public_key", to_base64(first.key.public_key().raw())},
                     {"tool", k_tool_name},
                     {"tool_version", k_tool_version},
                     {"host", host.empty() ? host_name() : host}}};
  CUSTODY_TRY(ledger.append(first, std::move(genesis)));
  CUSTODY_TRY(ledger.checkpoint(ledger_key));
  return ledger;
}

Result<Ledger> Ledger::open(const std::filesystem::path& db_path) {
  struct stat st {};
  if (::stat(db_path.c_str(), &st) != 0) {
    return fail_errno(fmt::format("open ledger {}", db_path.string()));
  }
  CUSTODY_TRY_ASSIGN(sql::Db db, sql::Db::open(db_path, sql::Mode::read_write));
  CUSTODY_TRY_ASSIGN(const int64_t app_id, pragma_int(db, "application_id"));
  CUSTODY_TRY_ASSIGN(const int64_t version, pragma_int(db, "user_version"));
  if (app_id != k_application_id) {
    return fail(Errc::corrupt, fmt::format("{} is not a custody ledger", db_path.string()));
  }
  if (version != k_user_version) {
    return fail(Errc::corrupt, fmt::format("{} has ledger format {}, this tool reads {}",
                                           db_path.string(), version, k_user_version));
  }
  SqlProjection store(db);
  CUSTODY_TRY_ASSIGN(const Json vault, verify::vault_doc(store));
  return Ledger(std::move(db), vault.at("origin").get<std::string>());
}

Result<std::vector<Appended>> Ledger::append(const Signer& signer, const Builder& build) {
  CUSTODY_TRY_ASSIGN(auto tx, sql::Transaction::begin_immediate(m_db));
  CUSTODY_TRY_ASSIGN(Tip tip, read_tip(m_db));
  const int64_t now = m_clock ? m_clock() : now_ms();
  CUSTODY_TRY(check_clock(now, tip.t_ms, "append to the ledger"));

  SqlProjection store(m_db);
  CUSTODY_TRY_ASSIGN(std::vector<Draft> drafts, build(store, now));
  CUSTODY_TRY_ASSIGN(auto insert,
                     m_db.prepare("INSERT INTO ledger (seq, entry, leaf_hash, kid, sig) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)"));
  const std::string kid = signer.key.public_key().fingerprint();
  std::vector<Appended> out;
  out.reserve(drafts.size());
  for (Draft& d : drafts) {
    Entry e;
    e.origin = m_origin;
    e.seq = tip.size;
    e.prev = tip.leaf;
    e.type = std::move(d.type);
    e.t_ms = now;
    e.actor = signer.actor;
    e.kid = kid;
    e.incident = std::move(d.incident);
    e.fields = std::move(d.fields);
    CUSTODY_TRY_ASSIGN(std::string bytes, verify::encode_entry(e));
    auto expected_key = verify::signer_key(e, store);
    if (!expected_key) {
      return fail(Errc::invalid_input,
                  fmt::format("{} cannot sign with key {}: {}", signer.actor, kid.substr(0, 16),
                              expected_key.error().message));
    }
    if (!(*expected_key == signer.key.public_key())) {
      return fail(Errc::invalid_input, "the signing key is not the one the entry names");
    }
    if (auto applied = verify::apply_entry(e, store); !applied) {
      return fail(applied.error().code, "refused: " + applied.error().message);
    }
    CUSTODY_TRY_ASSIGN(const Signature sig,
                       signer.key.sign(as_bytes(verify::signed_message(bytes))));
    const Hash256 leaf = verify::entry_leaf_hash(bytes);
    insert.bind(1, static_cast<int64_t>(e.seq))
      .bind_blob(2, as_bytes(bytes))
      .bind_blob(3, leaf)
      .bind(4, kid)
      .bind_blob(5, sig);
    CUSTODY_TRY(insert.run());
    insert.reset();
    tip.size += 1;
    tip.leaf = leaf;
    out.push_back(Appended{std::move(e), std::move(bytes), leaf});
  }
  CUSTODY_TRY(tx.commit());
  return out;
}

Result<Appended> Ledger::append(const Signer& signer, Draft draft) {
  CUSTODY_TRY_ASSIGN(auto appended,
                     append(signer, [&](verify::ProjectionStore&, int64_t) -> Result<std::vector<Draft>> {
                       std::vector<Draft> v;
                       v.push_back(std::move(draft));
                       return v;
                     }));
  return std::move(appended.front());
}

Result<std::optional<CheckpointInfo>> Ledger::latest_checkpoint() {
  CUSTODY_TRY_ASSIGN(auto stmt, m_db.prepare("SELECT tree_size, root, note, t_ms FROM checkpoints "
                                             "ORDER BY tree_size DESC LIMIT 1"));
  CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
  if (!row) {
    return std::optional<CheckpointInfo>();
  }
  CheckpointInfo info;
  info.checkpoint.origin = m_origin;
  info.checkpoint.size = static_cast<uint64_t>(stmt.column_int(0));
  const std::string root = stmt.column_blob(1);
  if (root.size() != 32) {
    return fail(Errc::corrupt, "stored checkpoint has a malformed root");
  }
  std::copy(root.begin(), root.end(), info.checkpoint.root.begin());
  info.note = stmt.column_text(2);
  info.t_ms = stmt.column_int(3);
  return std::optional<CheckpointInfo>(std::move(info));
}

Result<CheckpointInfo> Ledger::checkpoint(const SigningKey& ledger_key) {
  CUSTODY_TRY_ASSIGN(auto tx, sql::Transaction::begin_immediate(m_db));
  CUSTODY_TRY_ASSIGN(const Tip tip, read_tip(m_db));
  CUSTODY_TRY_ASSIGN(auto previous, latest_checkpoint());
  if (previous && previous->checkpoint.size == tip.size) {
    return std::move(*previous);
  }
  const int64_t now = m_clock ? m_clock() : now_ms();
  CUSTODY_TRY(check_clock(now, tip.t_ms, "sign a checkpoint"));
  if (previous) {
    CUSTODY_TRY(check_clock(now, previous->t_ms, "sign a checkpoint"));
  }
  const uint64_t old_size = previous ? previous->checkpoint.size : 0;

  merkle::CompactRange range;
  CUSTODY_TRY_ASSIGN(auto stmt, m_db.prepare("SELECT seq, entry, leaf_hash FROM ledger ORDER BY seq"));
  for (;;) {
    CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
    if (!row) {
      break;
    }
    const auto seq = static_cast<uint64_t>(stmt.column_int(0));
    if (seq != range.size()) {
      return fail(Errc::corrupt, fmt::format("ledger has a gap before entry {}; refusing to sign "
                                             "a checkpoint (run custody verify)",
                                             seq));
    }
    // Every leaf is recomputed from the entry's bytes (the column is only a
    // cache, and a cache that disagrees is itself a sign of tampering).
    const Hash256 leaf = verify::entry_leaf_hash(stmt.column_blob(1));
    if (stmt.column_blob(2) != std::string(leaf.begin(), leaf.end())) {
      return fail(Errc::corrupt, fmt::format("entry {} does not match its leaf hash; refusing to "
                                             "sign a checkpoint (run custody verify)",
                                             seq));
    }
    range.append(leaf);
    if (previous && range.size() == old_size && range.root() != previous->checkpoint.root) {
      return fail(Errc::corrupt,
                  fmt::format("the first {} entries no longer match checkpoint {}; refusing to "
                              "sign an inconsistent checkpoint (run custody verify)",
                              old_size, old_size));
    }
  }
  CheckpointInfo info;
  info.checkpoint = note::Checkpoint{m_origin, range.size(), range.root()};
  CUSTODY_TRY_ASSIGN(info.note,
                     note::sign(note::format_checkpoint(info.checkpoint), m_origin, ledger_key));
  info.t_ms = now;
  CUSTODY_TRY_ASSIGN(auto insert, m_db.prepare("INSERT INTO checkpoints (tree_size, root, note, t_ms) "
                                               "VALUES (?1, ?2, ?3, ?4)"));
  insert.bind(1, static_cast<int64_t>(info.checkpoint.size))
    .bind_blob(2, info.checkpoint.root)
    .bind(3, info.note)
    .bind(4, info.t_ms);
  CUSTODY_TRY(insert.run());
  CUSTODY_TRY(tx.commit());
  return info;
}

Result<uint64_t> Ledger::size() {
  CUSTODY_TRY_ASSIGN(auto stmt, m_db.prepare("SELECT COUNT(*) FROM ledger"));
  CUSTODY_TRY(stmt.step());
  return static_cast<uint64_t>(stmt.column_int(0));
}

Result<std::optional<Json>> Ledger::get(Table table, const std::string& key) {
  SqlProjection store(m_db);
  return store.get(table, key);
}

Result<std::vector<Json>> Ledger::query(Table table, const std::string& where,
                                        const std::string& arg, const std::string& order_by) {
  std::string sql = fmt::format("SELECT key, doc FROM {}", verify::table_name(table));
  if (!where.empty()) {
    sql += " WHERE " + where;
  }
  if (!order_by.empty()) {
    sql += " ORDER BY " + order_by;
  }
  CUSTODY_TRY_ASSIGN(auto stmt, m_db.prepare(sql));
  if (where.find("?1") != std::string::npos) {
    stmt.bind(1, arg);
  }
  std::vector<Json> out;
  for (;;) {
    CUSTODY_TRY_ASSIGN(const bool row, stmt.step());
    if (!row) {
      break;
    }
    auto doc = cjson::decode(stmt.column_text(1));
    if (!doc) {
      return fail(Errc::corrupt, fmt::format("{} row '{}' is not canonical JSON",
                                             verify::table_name(table), stmt.column_text(0)));
    }
    out.push_back(std::move(*doc));
  }
  return out;
}

} // namespace custody::vault
