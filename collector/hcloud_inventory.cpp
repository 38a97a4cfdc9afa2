#include "collector/hcloud_inventory.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace custody::collector::hcloud {

using json = nlohmann::json;

namespace {

Result<void> only_keys(const json& obj,
                       std::initializer_list<std::string_view> allowed,
                       const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return fail(Errc::invalid_input,
                  fmt::format("{}: unknown key '{}'", where, it.key()));
    }
  }
  return {};
}

Result<std::optional<std::string>>
opt_string(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return fail(Errc::invalid_input,
                fmt::format("{}: '{}' must be a string", where, key));
  }
  return std::optional<std::string>(it->get<std::string>());
}

void add(InventoryReport& r,
         FindingKind kind,
         std::string resource,
         std::optional<int64_t> id,
         std::string name,
         std::optional<int64_t> created,
         std::string detail) {
  r.findings.push_back({kind,
                        std::move(resource),
                        id,
                        std::move(name),
                        created,
                        std::move(detail)});
}

} // namespace

std::string_view to_string(FindingKind kind) {
  switch (kind) {
  case FindingKind::unauthorized_server:
    return "unauthorized_server";
  case FindingKind::unknown_ssh_key:
    return "unknown_ssh_key";
  case FindingKind::server_renamed:
    return "server_renamed";
  case FindingKind::missing_server:
    return "missing_server";
  case FindingKind::missing_ssh_key:
    return "missing_ssh_key";
  case FindingKind::created_since:
    return "created_since";
  }
  return "unknown";
}

Result<std::string> normalize_md5_fingerprint(std::string_view fingerprint) {
  std::string_view s = fingerprint;
  if (s.size() > 4 && (s.substr(0, 4) == "MD5:" || s.substr(0, 4) == "md5:")) {
    s.remove_prefix(4);
  }
  std::string out;
  bool ok = s.size() == 47;
  for (size_t i = 0; ok && i < s.size(); ++i) {
    const char c = s[i];
    if (i % 3 == 2) {
      ok = c == ':';
      out += ':';
    } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      out += c;
    } else if (c >= 'A' && c <= 'F') {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      ok = false;
    }
  }
  if (!ok) {
    return fail(Errc::invalid_input,
                fmt::format("'{}' is not an MD5 fingerprint (16 "
                            "colon-separated hex bytes, as the Hetzner API and "
                            "ssh-keygen -l -E md5 show them)",
                            std::string(fingerprint.substr(0, 80))));
  }
  return out;
}

Result<ExpectedInventory> parse_expected_inventory(std::string_view json_text) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(Errc::invalid_input, "expected inventory: not a JSON object");
  }
  CUSTODY_TRY(only_keys(doc,
                        {"format", "project", "as_of", "servers", "ssh_keys"},
                        "expected inventory"));
  if (!doc.contains("format")
      || doc.at("format") != k_expected_inventory_format) {
    return fail(Errc::invalid_input,
                fmt::format("expected inventory: 'format' must be \"{}\"",
                            k_expected_inventory_format));
  }
  ExpectedInventory inv;
  CUSTODY_TRY_ASSIGN(auto project,
                     opt_string(doc, "project", "expected inventory"));
  inv.project = project.value_or("");
  CUSTODY_TRY_ASSIGN(auto as_of,
                     opt_string(doc, "as_of", "expected inventory"));
  if (as_of) {
    auto ms = parse_rfc3339_ms(*as_of);
    if (!ms) {
      return fail(Errc::invalid_input,
                  "expected inventory: as_of: " + ms.error().message);
    }
    inv.as_of_ms = *ms;
  }
  for (const char* key : {"servers", "ssh_keys"}) {
    if (!doc.contains(key) || !doc.at(key).is_array()) {
      return fail(
          Errc::invalid_input,
          fmt::format(
              "expected inventory: '{}' must be an array (it may be empty)",
              key));
    }
  }
  std::set<int64_t> ids;
  std::set<std::string> names;
  for (size_t i = 0; i < doc.at("servers").size(); ++i) {
    const json& e = doc.at("servers")[i];
    const std::string where = fmt::format("expected inventory: servers[{}]", i);
    if (!e.is_object()) {
      return fail(Errc::invalid_input, where + ": must be an object");
    }
    CUSTODY_TRY(only_keys(e, {"id", "name", "note"}, where));
    ExpectedServer s;
    if (e.contains("id")) {
      if (!e.at("id").is_number_integer() || e.at("id").get<int64_t>() < 1) {
        return fail(Errc::invalid_input,
                    where + ": 'id' must be a positive integer");
      }
      s.id = e.at("id").get<int64_t>();
      if (!ids.insert(*s.id).second) {
        return fail(
            Errc::invalid_input,
            fmt::format("{}: server id {} is listed twice", where, *s.id));
      }
    }
    CUSTODY_TRY_ASSIGN(s.name, opt_string(e, "name", where));
    CUSTODY_TRY_ASSIGN(auto note, opt_string(e, "note", where));
    s.note = note.value_or("");
    if (!s.id && !s.name) {
      return fail(Errc::invalid_input,
                  where + ": needs an 'id', a 'name', or both");
    }
    if (!s.id && !names.insert(*s.name).second) {
      return fail(
          Errc::invalid_input,
          fmt::format("{}: server name '{}' is listed twice", where, *s.name));
    }
    inv.servers.push_back(std::move(s));
  }
  std::set<std::string> fingerprints;
  for (size_t i = 0; i < doc.at("ssh_keys").size(); ++i) {
    const json& e = doc.at("ssh_keys")[i];
    const std::string where =
        fmt::format("expected inventory: ssh_keys[{}]", i);
    if (!e.is_object()) {
      return fail(Errc::invalid_input, where + ": must be an object");
    }
    CUSTODY_TRY(only_keys(e, {"fingerprint", "name", "note"}, where));
    CUSTODY_TRY_ASSIGN(auto fp, opt_string(e, "fingerprint", where));
    if (!fp) {
      return fail(Errc::invalid_input, where + ": 'fingerprint' is required");
    }
    ExpectedSshKey k;
    auto norm = normalize_md5_fingerprint(*fp);
    if (!norm) {
      return tl::unexpected(with_context(norm.error(), where));
    }
    k.fingerprint = *norm;
    if (!fingerprints.insert(k.fingerprint).second) {
      return fail(Errc::invalid_input,
                  fmt::format("{}: fingerprint {} is listed twice",
                              where,
                              k.fingerprint));
    }
    CUSTODY_TRY_ASSIGN(k.name, opt_string(e, "name", where));
    CUSTODY_TRY_ASSIGN(auto note, opt_string(e, "note", where));
    k.note = note.value_or("");
    inv.ssh_keys.push_back(std::move(k));
  }
  return inv;
}

Result<ExpectedInventory>
load_expected_inventory(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail_errno("open " + path.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) {
    return fail_errno("read " + path.string());
  }
  auto inv = parse_expected_inventory(ss.str());
  if (!inv) {
    return tl::unexpected(with_context(inv.error(), path.string()));
  }
  return inv;
}

Result<ProjectInventory> fetch_inventory(Client& client) {
  ProjectInventory inv;
  auto take = [&](auto& reply, auto& into) {
    into = std::move(reply.value);
    for (auto& b : reply.bodies) {
      inv.bodies.push_back(std::move(b));
    }
  };
  CUSTODY_TRY_ASSIGN(auto servers, client.list_servers());
  take(servers, inv.servers);
  CUSTODY_TRY_ASSIGN(auto keys, client.list_ssh_keys());
  take(keys, inv.ssh_keys);
  CUSTODY_TRY_ASSIGN(auto firewalls, client.list_firewalls());
  take(firewalls, inv.firewalls);
  CUSTODY_TRY_ASSIGN(auto volumes, client.list_volumes());
  take(volumes, inv.volumes);
  ImageListOptions images_opt;
  images_opt.type = {"snapshot", "backup"};
  CUSTODY_TRY_ASSIGN(auto images, client.list_images(images_opt));
  take(images, inv.images);
  return inv;
}

size_t InventoryReport::count(FindingKind kind) const {
  return static_cast<size_t>(std::count_if(
      findings.begin(), findings.end(), [&](const InventoryFinding& f) {
        return f.kind == kind;
      }));
}

bool InventoryReport::clean() const {
  return count(FindingKind::unauthorized_server) == 0
         && count(FindingKind::unknown_ssh_key) == 0;
}

json InventoryReport::to_json() const {
  json counts = json::object();
  for (auto kind : {FindingKind::unauthorized_server,
                    FindingKind::unknown_ssh_key,
                    FindingKind::server_renamed,
                    FindingKind::missing_server,
                    FindingKind::missing_ssh_key,
                    FindingKind::created_since}) {
    counts[std::string(to_string(kind))] = count(kind);
  }
  json list = json::array();
  for (const auto& f : findings) {
    list.push_back(
        {{"kind", to_string(f.kind)},
         {"resource", f.resource},
         {"id", f.id ? json(*f.id) : json()},
         {"name", f.name},
         {"created",
          f.created_ms ? json(format_rfc3339_ms(*f.created_ms)) : json()},
         {"detail", f.detail}});
  }
  return {{"since", since_ms ? json(format_rfc3339_ms(*since_ms)) : json()},
          {"counts", counts},
          {"findings", list}};
}

InventoryReport compare_inventory(const ExpectedInventory& expected,
                                  const ProjectInventory& actual,
                                  std::optional<int64_t> since_ms) {
  InventoryReport r;
  r.since_ms = since_ms;
  std::map<int64_t, const ExpectedServer*> by_id;
  std::map<std::string, const ExpectedServer*> by_name; // name-only entries
  for (const auto& e : expected.servers) {
    if (e.id) {
      by_id[*e.id] = &e;
    } else {
      by_name[*e.name] = &e;
    }
  }
  std::set<const ExpectedServer*> seen;
  for (const auto& s : actual.servers) {
    if (auto it = by_id.find(s.id); it != by_id.end()) {
      seen.insert(it->second);
      if (it->second->name && *it->second->name != s.name) {
        add(r,
            FindingKind::server_renamed,
            "server",
            s.id,
            s.name,
            s.created_ms,
            fmt::format("server {} is listed as '{}' but is now named '{}'",
                        s.id,
                        *it->second->name,
                        s.name));
      }
    } else if (auto jt = by_name.find(s.name); jt != by_name.end()) {
      seen.insert(jt->second);
    } else {
      add(r,
          FindingKind::unauthorized_server,
          "server",
          s.id,
          s.name,
          s.created_ms,
          fmt::format("server {} '{}' ({}, {}, created {}) is not in the "
                      "expected inventory",
                      s.id,
                      s.name,
                      s.location,
                      s.server_type,
                      format_rfc3339_ms(s.created_ms)));
    }
  }
  for (const auto& e : expected.servers) {
    if (seen.count(&e) == 0) {
      add(r,
          FindingKind::missing_server,
          "server",
          e.id,
          e.name.value_or(""),
          std::nullopt,
          e.id ? fmt::format("expected server {} is not in the project", *e.id)
               : fmt::format("expected server '{}' is not in the project",
                             e.name.value_or("")));
    }
  }

  std::set<std::string> known;
  for (const auto& k : expected.ssh_keys) {
    known.insert(k.fingerprint);
  }
  std::set<std::string> present;
  for (const auto& k : actual.ssh_keys) {
    auto fp = normalize_md5_fingerprint(k.fingerprint);
    const std::string norm = fp ? *fp : k.fingerprint;
    present.insert(norm);
    if (known.count(norm) == 0) {
      add(r,
          FindingKind::unknown_ssh_key,
          "ssh_key",
          k.id,
          k.name,
          k.created_ms,
          fmt::format("SSH key {} '{}' (fingerprint {}, created {}) is not in "
                      "the expected inventory",
                      k.id,
                      k.name,
                      k.fingerprint,
                      format_rfc3339_ms(k.created_ms)));
    }
  }
  for (const auto& k : expected.ssh_keys) {
    if (present.count(k.fingerprint) == 0) {
      add(r,
          FindingKind::missing_ssh_key,
          "ssh_key",
          std::nullopt,
          k.name.value_or(k.fingerprint),
          std::nullopt,
          fmt::format("expected SSH key {} is not in the project",
                      k.fingerprint));
    }
  }

  if (since_ms) {
    auto check = [&](const char* resource,
                     int64_t id,
                     const std::string& name,
                     int64_t created) {
      if (created >= *since_ms) {
        add(r,
            FindingKind::created_since,
            resource,
            id,
            name,
            created,
            fmt::format("{} {} '{}' was created {}",
                        resource,
                        id,
                        name,
                        format_rfc3339_ms(created)));
      }
    };
    for (const auto& s : actual.servers) {
      check("server", s.id, s.name, s.created_ms);
    }
    for (const auto& k : actual.ssh_keys) {
      check("ssh_key", k.id, k.name, k.created_ms);
    }
    for (const auto& f : actual.firewalls) {
      check("firewall", f.id, f.name, f.created_ms);
    }
    for (const auto& v : actual.volumes) {
      check("volume", v.id, v.name, v.created_ms);
    }
    for (const auto& i : actual.images) {
      check("image", i.id, i.description, i.created_ms);
    }
  }
  std::stable_sort(r.findings.begin(),
                   r.findings.end(),
                   [](const InventoryFinding& a, const InventoryFinding& b) {
                     if (a.kind != b.kind) {
                       return static_cast<int>(a.kind)
                              < static_cast<int>(b.kind);
                     }
                     return a.id.value_or(0) < b.id.value_or(0);
                   });
  return r;
}

} // namespace custody::collector::hcloud
