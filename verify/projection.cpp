#include "verify/projection.hpp"

#include "common/note.hpp"
#include "common/time.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

namespace custody::verify {

namespace {

// Every rule violation is reported as invalid input: the writer turns it into
// "refused: ..." (exit 2, nothing written), the verifier into a finding.
tl::unexpected<Error> refuse(std::string message) {
  return fail(Errc::invalid_input, std::move(message));
}

std::string iso(int64_t ms) {
  return format_rfc3339_ms(ms);
}

Json time_or_null(const std::optional<int64_t>& ms) {
  return ms ? Json(iso(*ms)) : Json(nullptr);
}

// Builds a JSON object member by member: nlohmann's initializer-list
// constructor first builds a two-element array per member, which is most of
// the cost of the documents rewritten on every access.
class Object {
public:
  // Members added in key order go at the end of the map without a search.
  Object& add(const char* name, Json value) {
    auto& members = m_doc.get_ref<Json::object_t&>();
    if (members.empty() || members.rbegin()->first < name) {
      members.emplace_hint(members.end(), name, std::move(value));
    } else {
      members.insert_or_assign(name, std::move(value));
    }
    return *this;
  }
  Json done() {
    return std::move(m_doc);
  }

private:
  Json m_doc = Json::object();
};

// Returns whether `j` is the string `s` (without building a JSON value for it).
bool is(const Json& j, std::string_view s) {
  return j.is_string() && j.get_ref<const std::string&>() == s;
}

// Returns the document under `key`, refusing the entry when there is none.
Result<const Json*> must_find(ProjectionStore& store, Table table, const std::string& key,
                              std::string_view what) {
  CUSTODY_TRY_ASSIGN(const Json* doc, store.find(table, key));
  if (doc == nullptr) {
    return refuse(fmt::format("unknown {} '{}'", what, key));
  }
  return doc;
}

Result<const Json*> find_vault(ProjectionStore& store) {
  CUSTODY_TRY_ASSIGN(const Json* doc, store.find(Table::meta, "vault"));
  if (doc == nullptr) {
    return fail(Errc::corrupt, "the ledger has no vault_init entry");
  }
  return doc;
}

// Statuses in runbook order; a transition goes one step forward, or back to open.
int status_rank(std::string_view s) {
  if (s == "open") {
    return 0;
  }
  if (s == "contained") {
    return 1;
  }
  if (s == "resolved") {
    return 2;
  }
  if (s == "closed") {
    return 3;
  }
  return -1;
}

bool transition_allowed(std::string_view from, std::string_view to) {
  const int f = status_rank(from);
  const int t = status_rank(to);
  if (f < 0 || t < 0 || f == t) {
    return false;
  }
  return t == f + 1 || t == 0;
}

void touch_incident(Json& inc, const Entry& e) {
  inc["last_seq"] = e.seq;
  inc["updated_at"] = iso(e.t_ms);
}

// Writes `entry` into the incident it names: `change`, then last_seq and
// updated_at.
Result<void> update_incident(ProjectionStore& store, const Entry& e,
                             const std::function<void(Json&)>& change) {
  return store.modify(Table::incidents, e.incident, [&](Json& inc) {
    change(inc);
    touch_incident(inc, e);
  });
}

void keep(Json& /*unchanged*/) {}

Result<void> apply_vault_init(const Entry& e, ProjectionStore& store) {
  if (e.seq != 0) {
    return refuse(fmt::format("vault_init may only be entry 0, found at seq {}", e.seq));
  }
  if (!e.incident.empty()) {
    return refuse("vault_init must not name an incident");
  }
  const auto& f = e.fields;
  auto vkey = note::parse_vkey(f.at("ledger_key").get<std::string>());
  if (!vkey) {
    return refuse("vault_init ledger_key: " + vkey.error().message);
  }
  if (vkey->name != e.origin) {
    return refuse(fmt::format("vault_init ledger_key is named '{}', not the origin '{}'",
                              vkey->name, e.origin));
  }
  auto raw = from_base64(f.at("public_key").get<std::string>());
  if (!raw) {
    return refuse("vault_init public_key is not base64");
  }
  CUSTODY_TRY_ASSIGN(const PublicKey pub, PublicKey::from_raw(as_bytes(*raw)));
  if (pub.fingerprint() != e.kid) {
    return refuse("vault_init kid is not the fingerprint of its public_key");
  }
  CUSTODY_TRY(store.put(Table::meta, "vault",
                        Json{{"origin", e.origin},
                             {"ledger_key", f.at("ledger_key")},
                             {"created_at", iso(e.t_ms)},
                             {"created_by", e.actor},
                             {"tool", f.at("tool")},
                             {"tool_version", f.at("tool_version")},
                             {"host", f.at("host")},
                             {"active_keys", 1}}));
  return store.put(Table::keys, e.kid,
                   Json{{"kid", e.kid},
                        {"actor", e.actor},
                        {"public_key", f.at("public_key")},
                        {"comment", "first key, registered by vault_init"},
                        {"registered_seq", 0},
                        {"registered_by", e.actor},
                        {"registered_at", iso(e.t_ms)},
                        {"revoked", false},
                        {"revoked_seq", nullptr},
                        {"revoked_by", nullptr},
                        {"revoked_at", nullptr},
                        {"revoke_reason", nullptr}});
}

Result<void> apply_key_register(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  const auto kid = f.at("kid").get<std::string>();
  auto raw = from_base64(f.at("public_key").get<std::string>());
  if (!raw) {
    return refuse("key_register public_key is not base64");
  }
  CUSTODY_TRY_ASSIGN(const PublicKey pub, PublicKey::from_raw(as_bytes(*raw)));
  if (pub.fingerprint() != kid) {
    return refuse("key_register kid is not the fingerprint of its public_key");
  }
  CUSTODY_TRY_ASSIGN(const Json* existing, store.find(Table::keys, kid));
  if (existing != nullptr) {
    return refuse(fmt::format("key {} is already registered (to {})", kid.substr(0, 16),
                              existing->at("actor").get<std::string>()));
  }
  CUSTODY_TRY(store.modify(Table::meta, "vault", [](Json& vault) {
    vault["active_keys"] = vault.at("active_keys").get<int64_t>() + 1;
  }));
  return store.put(Table::keys, kid,
                   Json{{"kid", kid},
                        {"actor", f.at("subject")},
                        {"public_key", f.at("public_key")},
                        {"comment", f.at("comment")},
                        {"registered_seq", e.seq},
                        {"registered_by", e.actor},
                        {"registered_at", iso(e.t_ms)},
                        {"revoked", false},
                        {"revoked_seq", nullptr},
                        {"revoked_by", nullptr},
                        {"revoked_at", nullptr},
                        {"revoke_reason", nullptr}});
}

Result<void> apply_key_revoke(const Entry& e, ProjectionStore& store, const Json& vault) {
  const auto& f = e.fields;
  const auto kid = f.at("kid").get<std::string>();
  CUSTODY_TRY_ASSIGN(const Json* key, must_find(store, Table::keys, kid, "key"));
  if (key->at("actor") != f.at("subject")) {
    return refuse(fmt::format("key {} belongs to {}, not {}", kid.substr(0, 16),
                              key->at("actor").get<std::string>(),
                              f.at("subject").get<std::string>()));
  }
  if (key->at("revoked").get<bool>()) {
    return refuse(fmt::format("key {} of {} is already revoked", kid.substr(0, 16),
                              key->at("actor").get<std::string>()));
  }
  const int64_t active = vault.at("active_keys").get<int64_t>();
  if (active <= 1) {
    return refuse("refusing to revoke the vault's last active key: nobody could sign again");
  }
  CUSTODY_TRY(store.modify(Table::meta, "vault",
                           [&](Json& v) { v["active_keys"] = active - 1; }));
  return store.modify(Table::keys, kid, [&](Json& k) {
    k["revoked"] = true;
    k["revoked_seq"] = e.seq;
    k["revoked_by"] = e.actor;
    k["revoked_at"] = iso(e.t_ms);
    k["revoke_reason"] = f.at("reason");
  });
}

Result<void> apply_incident_open(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  const auto id = f.at("id").get<std::string>();
  if (id != e.incident) {
    return refuse(fmt::format("incident_open id {} differs from the entry's incident {}", id,
                              e.incident));
  }
  CUSTODY_TRY_ASSIGN(const std::string expected, next_incident_id(e.t_ms, store));
  if (id != expected) {
    return refuse(fmt::format("incident id {} is not the next id for its UTC day ({})", id,
                              expected));
  }
  const int64_t detected = f.at("detected_at_ms").get<int64_t>();
  if (detected > e.t_ms) {
    return refuse("detected_at is later than the time the incident is opened");
  }
  // A per-day counter keeps id assignment O(1) however many incidents a day has.
  const std::string day = format_utc_day(e.t_ms);
  const std::string counter_key = "incidents-opened/" + day;
  CUSTODY_TRY_ASSIGN(const Json* counter, store.find(Table::meta, counter_key));
  const int64_t opened = counter != nullptr ? counter->at("opened").get<int64_t>() : 0;
  CUSTODY_TRY(store.put(Table::meta, counter_key, Json{{"day", day}, {"opened", opened + 1}}));
  return store.put(Table::incidents, id,
                   Json{{"id", id},
                        {"severity", f.at("severity")},
                        {"title", f.at("title")},
                        {"status", "open"},
                        {"detected_at", iso(detected)},
                        {"contained_at", nullptr},
                        {"resolved_at", nullptr},
                        {"closed_at", nullptr},
                        {"affected_systems", f.at("affected_systems")},
                        {"affected_customers", f.at("affected_customers")},
                        {"root_cause", f.at("root_cause")},
                        {"playbook", f.at("playbook")},
                        {"reporter", f.at("reporter")},
                        {"commander", f.at("commander")},
                        {"description", f.at("description")},
                        {"opened_by", e.actor},
                        {"opened_at", iso(e.t_ms)},
                        {"opened_seq", e.seq},
                        {"updated_at", iso(e.t_ms)},
                        {"last_seq", e.seq},
                        {"evidence_count", 0},
                        {"response_count", 0},
                        {"history", Json::array()}});
}

Result<void> apply_incident_status(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  CUSTODY_TRY_ASSIGN(const Json* inc, must_find(store, Table::incidents, e.incident, "incident"));
  const auto from = f.at("from").get<std::string>();
  const auto to = f.at("to").get<std::string>();
  const auto current = inc->at("status").get<std::string>();
  if (from != current) {
    return refuse(fmt::format("incident {} is {}, not {}", e.incident, current, from));
  }
  if (!transition_allowed(from, to)) {
    return refuse(fmt::format("invalid status transition {} -> {} for {}: the status goes "
                              "open -> contained -> resolved -> closed, or back to open",
                              from, to, e.incident));
  }
  const int64_t at = f.at("at_ms").get<int64_t>();
  if (at > e.t_ms) {
    return refuse("a status change cannot be dated in the future of its entry");
  }
  const int64_t detected = *parse_rfc3339_ms(inc->at("detected_at").get<std::string>());
  if (at < detected) {
    return refuse(fmt::format("status change at {} is before the incident was detected ({})",
                              iso(at), inc->at("detected_at").get<std::string>()));
  }
  const auto& history = inc->at("history");
  if (!history.empty()) {
    const int64_t last_at = *parse_rfc3339_ms(history.back().at("at").get<std::string>());
    if (at < last_at) {
      return refuse(fmt::format("status change at {} is before the previous one ({})", iso(at),
                                iso(last_at)));
    }
  }
  return update_incident(store, e, [&](Json& doc) {
    doc["status"] = to;
    if (to == "open") {
      // Reopened: later milestones are cleared (they stay in the history).
      doc["contained_at"] = nullptr;
      doc["resolved_at"] = nullptr;
      doc["closed_at"] = nullptr;
    } else {
      doc[to + "_at"] = time_or_null(at);
    }
    doc["history"].push_back(Json{{"seq", e.seq},
                                  {"at", iso(at)},
                                  {"recorded_at", iso(e.t_ms)},
                                  {"actor", e.actor},
                                  {"from", from},
                                  {"to", to},
                                  {"note", f.at("note")}});
  });
}

Result<void> apply_incident_update(const Entry& e, ProjectionStore& store) {
  CUSTODY_TRY_ASSIGN(const Json* inc, must_find(store, Table::incidents, e.incident, "incident"));
  if (is(inc->at("status"), "closed")) {
    return refuse(fmt::format("incident {} is closed; reopen it before changing its record",
                              e.incident));
  }
  return update_incident(store, e, [&](Json& doc) {
    for (const auto& [key, value] : e.fields.at("set").items()) {
      doc[key] = value;
    }
  });
}

Result<void> apply_collect(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  CUSTODY_TRY_ASSIGN(const Json* inc, must_find(store, Table::incidents, e.incident, "incident"));
  if (is(inc->at("status"), "closed")) {
    return refuse(fmt::format("incident {} is closed: no evidence can be added; reopen it first",
                              e.incident));
  }
  const int64_t n = inc->at("evidence_count").get<int64_t>() + 1;
  const std::string item = f.at("item").get<std::string>();
  if (f.at("n").get<int64_t>() != n || item != fmt::format("{}-E{}", e.incident, n)) {
    return refuse(fmt::format("item {} is not the next item of {} (expected {}-E{})", item,
                              e.incident, e.incident, n));
  }
  const bool snapshot = is(f.at("kind"), "cloud_snapshot");
  if (f.at("sha256").is_null() != snapshot) {
    return refuse("only a cloud snapshot may be recorded without a SHA-256");
  }
  const int64_t collected = f.at("collected_ms").get<int64_t>();
  if (collected > e.t_ms) {
    return refuse("evidence cannot be collected after it is recorded");
  }
  CUSTODY_TRY(update_incident(store, e, [&](Json& doc) { doc["evidence_count"] = n; }));
  return store.put(Table::items, item,
                   Json{{"id", item},
                        {"incident", e.incident},
                        {"n", n},
                        {"kind", f.at("kind")},
                        {"sha256", f.at("sha256")},
                        {"size", f.at("size")},
                        {"source", f.at("source")},
                        {"method", f.at("method")},
                        {"tool", f.at("tool")},
                        {"tool_version", f.at("tool_version")},
                        {"collected_by", e.actor},
                        {"collected_at", iso(collected)},
                        {"recorded_at", iso(e.t_ms)},
                        {"location", f.at("location")},
                        {"original_name", f.at("original_name")},
                        {"notes", f.at("notes")},
                        {"seq", e.seq},
                        {"access_count", 0}});
}

// Checks that the item the entry names exists and belongs to its incident.
Result<void> check_item_of_incident(const Entry& e, ProjectionStore& store,
                                    const std::string& id) {
  CUSTODY_TRY_ASSIGN(const Json* item, must_find(store, Table::items, id, "evidence item"));
  if (!is(item->at("incident"), e.incident)) {
    return refuse(fmt::format("item {} belongs to {}, not {}", id,
                              item->at("incident").get<std::string>(), e.incident));
  }
  return {};
}

Result<void> apply_access(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  const std::string& item_id = f.at("item").get_ref<const std::string&>();
  CUSTODY_TRY(check_item_of_incident(e, store, item_id));
  CUSTODY_TRY(must_find(store, Table::incidents, e.incident, "incident"));
  CUSTODY_TRY(store.modify(Table::items, item_id, [](Json& item) {
    Json& count = item.at("access_count");
    count = count.get<int64_t>() + 1;
  }));
  CUSTODY_TRY(update_incident(store, e, keep));
  // In key order, as the document is encoded (one access row per access).
  return store.put(Table::accesses, access_key(e.seq),
                   Object()
                     .add("action", f.at("action"))
                     .add("actor", e.actor)
                     .add("at", iso(e.t_ms))
                     .add("copy_sha256", nullptr)
                     .add("destination", f.at("destination"))
                     .add("detail", "")
                     .add("host", f.at("host"))
                     .add("incident", e.incident)
                     .add("item", item_id)
                     .add("outcome", "pending")
                     .add("purpose", f.at("purpose"))
                     .add("result_at", nullptr)
                     .add("result_seq", nullptr)
                     .add("seq", e.seq)
                     .done());
}

Result<void> apply_access_result(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  const auto access_seq = f.at("access_seq").get<uint64_t>();
  const std::string key = access_key(access_seq);
  CUSTODY_TRY_ASSIGN(const Json* access, must_find(store, Table::accesses, key, "access"));
  if (access->at("item") != f.at("item")) {
    return refuse(fmt::format("access {} was for {}, not {}", access_seq,
                              access->at("item").get<std::string>(),
                              f.at("item").get<std::string>()));
  }
  if (!is(access->at("outcome"), "pending")) {
    return refuse(fmt::format("access {} already has a result", access_seq));
  }
  if (!is(access->at("actor"), e.actor)) {
    return refuse(fmt::format("access {} was made by {}; only they can record its result",
                              access_seq, access->at("actor").get<std::string>()));
  }
  if (!is(access->at("incident"), e.incident)) {
    return refuse("access_result names a different incident than its access");
  }
  CUSTODY_TRY(must_find(store, Table::incidents, e.incident, "incident"));
  CUSTODY_TRY(update_incident(store, e, keep));
  return store.modify(Table::accesses, key, [&](Json& doc) {
    doc["outcome"] = f.at("outcome");
    doc["result_seq"] = e.seq;
    doc["result_at"] = iso(e.t_ms);
    doc["copy_sha256"] = f.at("sha256");
    doc["detail"] = f.at("detail");
  });
}

// A recorded run of `custody verify`: it may only claim entries that precede
// it, and when it is scoped to an incident, that incident must exist. The
// last verification is kept in meta/verify.
Result<void> apply_verify(const Entry& e, ProjectionStore& store) {
  const auto& f = e.fields;
  const auto size = f.at("ledger_size").get<uint64_t>();
  if (size > e.seq) {
    return refuse(fmt::format("entry {} cannot record a verification of {} entries: only the "
                              "entries before it exist",
                              e.seq, size));
  }
  if (!e.incident.empty()) {
    CUSTODY_TRY(must_find(store, Table::incidents, e.incident, "incident"));
  }
  return store.put(Table::meta, "verify",
                   Json{{"seq", e.seq},
                        {"at", iso(e.t_ms)},
                        {"actor", e.actor},
                        {"incident", e.incident},
                        {"ledger_size", size},
                        {"root", f.at("root")},
                        {"findings", f.at("findings")},
                        {"warnings", f.at("warnings")},
                        {"rehash", f.at("rehash")},
                        {"summary", f.at("summary")}});
}

Result<void> apply_response_action(const Entry& e, ProjectionStore& store) {
  CUSTODY_TRY_ASSIGN(const Json* inc, must_find(store, Table::incidents, e.incident, "incident"));
  if (is(inc->at("status"), "closed")) {
    return refuse(fmt::format("incident {} is closed; reopen it before acting on it", e.incident));
  }
  const auto& f = e.fields;
  if (f.at("started_ms").get<int64_t>() > f.at("finished_ms").get<int64_t>()
      || f.at("finished_ms").get<int64_t>() > e.t_ms) {
    return refuse("a response action must start before it finishes, and finish before it is "
                  "recorded");
  }
  for (const auto& id : f.at("evidence")) {
    CUSTODY_TRY_ASSIGN(const Json* item,
                       must_find(store, Table::items, id.get<std::string>(), "evidence item"));
    if (!is(item->at("incident"), e.incident)) {
      return refuse(fmt::format("item {} belongs to another incident", id.get<std::string>()));
    }
  }
  return update_incident(store, e, [](Json& doc) {
    doc["response_count"] = doc.at("response_count").get<int64_t>() + 1;
  });
}

} // namespace

const char* table_name(Table table) {
  switch (table) {
  case Table::meta:
    return "meta";
  case Table::incidents:
    return "incidents";
  case Table::items:
    return "items";
  case Table::keys:
    return "keys";
  case Table::accesses:
    return "accesses";
  }
  return "?";
}

std::span<const Column> projection_columns(Table table) {
  static constexpr Column k_incidents[] = {{"status", "status"}, {"opened_seq", "opened_seq"}};
  static constexpr Column k_items[] = {{"incident", "incident"}, {"n", "n"}, {"sha256", "sha256"}};
  static constexpr Column k_keys[] = {{"actor", "actor"}};
  static constexpr Column k_accesses[] = {{"item", "item"}, {"incident", "incident"}};
  switch (table) {
  case Table::meta:
    return {};
  case Table::incidents:
    return k_incidents;
  case Table::items:
    return k_items;
  case Table::keys:
    return k_keys;
  case Table::accesses:
    return k_accesses;
  }
  return {};
}

Result<std::optional<Json>> ProjectionStore::get(Table table, const std::string& key) {
  CUSTODY_TRY_ASSIGN(const Json* doc, find(table, key));
  return doc == nullptr ? std::optional<Json>() : std::optional<Json>(*doc);
}

Result<const Json*> MemoryProjection::find(Table table, const std::string& key) {
  const auto& rows = m_tables.at(static_cast<size_t>(table));
  auto it = rows.find(key);
  return it == rows.end() ? nullptr : &it->second;
}

Result<void> MemoryProjection::put(Table table, const std::string& key, Json doc) {
  m_tables.at(static_cast<size_t>(table))[key] = std::move(doc);
  return {};
}

Result<void> MemoryProjection::modify(Table table, const std::string& key,
                                      const std::function<void(Json&)>& change) {
  auto& rows = m_tables.at(static_cast<size_t>(table));
  auto it = rows.find(key);
  if (it == rows.end()) {
    return fail(Errc::not_found, fmt::format("no {} row '{}'", table_name(table), key));
  }
  change(it->second);
  return {};
}

std::string access_key(uint64_t seq) {
  return fmt::format(FMT_COMPILE("{:012}"), seq);
}

Result<Json> vault_doc(ProjectionStore& store) {
  CUSTODY_TRY_ASSIGN(const Json* doc, find_vault(store));
  return *doc;
}

Result<std::string> next_incident_id(int64_t t_ms, ProjectionStore& store) {
  const std::string day = format_utc_day(t_ms);
  CUSTODY_TRY_ASSIGN(const Json* counter, store.find(Table::meta, "incidents-opened/" + day));
  const int64_t opened = counter != nullptr ? counter->at("opened").get<int64_t>() : 0;
  return fmt::format("INC-{}-{}", day, opened + 1);
}

Result<PublicKey> signer_key(const Entry& e, ProjectionStore& store) {
  if (e.type == "vault_init") {
    auto raw = from_base64(e.fields.at("public_key").get<std::string>());
    if (!raw) {
      return refuse("vault_init public_key is not base64");
    }
    return PublicKey::from_raw(as_bytes(*raw));
  }
  CUSTODY_TRY_ASSIGN(const Json* key, store.find(Table::keys, e.kid));
  if (key == nullptr) {
    return refuse(fmt::format("key {} is not registered in this vault", e.kid.substr(0, 16)));
  }
  if (!is(key->at("actor"), e.actor)) {
    return refuse(fmt::format("key {} is registered to {}, not to {}", e.kid.substr(0, 16),
                              key->at("actor").get<std::string>(), e.actor));
  }
  if (key->at("revoked").get<bool>()) {
    return refuse(fmt::format("key {} of {} was revoked at entry {}", e.kid.substr(0, 16),
                              e.actor, key->at("revoked_seq").get<uint64_t>()));
  }
  auto raw = from_base64(key->at("public_key").get<std::string>());
  if (!raw) {
    return fail(Errc::corrupt, "registered public key is not base64");
  }
  return PublicKey::from_raw(as_bytes(*raw));
}

Result<void> apply_entry(const Entry& e, ProjectionStore& store) {
  if (e.type == "vault_init") {
    return apply_vault_init(e, store);
  }
  CUSTODY_TRY_ASSIGN(const Json* vault, find_vault(store));
  if (!is(vault->at("origin"), e.origin)) {
    return refuse(fmt::format("entry {} names origin '{}', but this vault is '{}'", e.seq, e.origin,
                              vault->at("origin").get<std::string>()));
  }
  const bool about_incident = e.type.starts_with("incident_") || e.type == "collect"
                              || e.type.starts_with("access") || e.type == "response_action";
  // A verification names an incident only when it was scoped to one.
  const bool incident_optional = e.type == "verify";
  if (!incident_optional && about_incident != !e.incident.empty()) {
    return refuse(fmt::format("{} entries {} name an incident", e.type,
                              about_incident ? "must" : "must not"));
  }
  if (e.type == "key_register") {
    return apply_key_register(e, store);
  }
  if (e.type == "key_revoke") {
    return apply_key_revoke(e, store, *vault);
  }
  if (e.type == "incident_open") {
    return apply_incident_open(e, store);
  }
  if (e.type == "incident_status") {
    return apply_incident_status(e, store);
  }
  if (e.type == "incident_update") {
    return apply_incident_update(e, store);
  }
  if (e.type == "collect") {
    return apply_collect(e, store);
  }
  if (e.type == "access") {
    return apply_access(e, store);
  }
  if (e.type == "access_result") {
    return apply_access_result(e, store);
  }
  if (e.type == "response_action") {
    return apply_response_action(e, store);
  }
  if (e.type == "verify") {
    return apply_verify(e, store);
  }
  return refuse(fmt::format("unknown entry type '{}'", e.type));
}

} // namespace custody::verify
