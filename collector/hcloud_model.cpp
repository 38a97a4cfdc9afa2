#include "collector/hcloud_model.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

namespace custody::collector::hcloud {

using json = nlohmann::json;

namespace {

// Reads typed fields of one JSON object; errors name the object and field.
class Fields {
public:
  Fields(const json& j, std::string what)
      : m_j(j),
        m_what(std::move(what)) {}

  [[nodiscard]] Result<void> require_object() const {
    if (!m_j.is_object()) {
      return fail(Errc::remote,
                  fmt::format("{}: expected a JSON object, got {}",
                              m_what,
                              m_j.type_name()));
    }
    return {};
  }

  [[nodiscard]] tl::unexpected<Error> bad(std::string_view key,
                                          std::string_view why) const {
    return fail(Errc::remote,
                fmt::format("{}: field '{}': {}", m_what, key, why));
  }

  [[nodiscard]] const json* find(std::string_view key) const {
    auto it = m_j.find(key);
    return it == m_j.end() ? nullptr : &*it;
  }

  [[nodiscard]] Result<int64_t> id(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || !v->is_number_integer()) {
      return bad(key, "missing or not an integer");
    }
    return v->get<int64_t>();
  }

  [[nodiscard]] Result<std::optional<int64_t>>
  opt_id(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || v->is_null()) {
      return std::optional<int64_t>();
    }
    if (!v->is_number_integer()) {
      return bad(key, "not an integer");
    }
    return std::optional<int64_t>(v->get<int64_t>());
  }

  [[nodiscard]] Result<std::string> str(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || !v->is_string()) {
      return bad(key, "missing or not a string");
    }
    return v->get<std::string>();
  }

  [[nodiscard]] Result<std::optional<std::string>>
  opt_str(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || v->is_null()) {
      return std::optional<std::string>();
    }
    if (!v->is_string()) {
      return bad(key, "not a string");
    }
    return std::optional<std::string>(v->get<std::string>());
  }

  [[nodiscard]] Result<double> number(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || !v->is_number()) {
      return bad(key, "missing or not a number");
    }
    return v->get<double>();
  }

  [[nodiscard]] Result<std::optional<double>>
  opt_number(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || v->is_null()) {
      return std::optional<double>();
    }
    if (!v->is_number()) {
      return bad(key, "not a number");
    }
    return std::optional<double>(v->get<double>());
  }

  [[nodiscard]] bool boolean(std::string_view key) const {
    const json* v = find(key);
    return v != nullptr && v->is_boolean() && v->get<bool>();
  }

  [[nodiscard]] Result<int64_t> time(std::string_view key) const {
    CUSTODY_TRY_ASSIGN(const std::string text, str(key));
    auto ms = parse_rfc3339_ms(text);
    if (!ms) {
      return bad(key, ms.error().message);
    }
    return *ms;
  }

  [[nodiscard]] Result<std::optional<int64_t>>
  opt_time(std::string_view key) const {
    const json* v = find(key);
    if (v == nullptr || v->is_null()) {
      return std::optional<int64_t>();
    }
    CUSTODY_TRY_ASSIGN(const int64_t ms, time(key));
    return std::optional<int64_t>(ms);
  }

  // `labels` is `{}` when empty; a missing or null object reads as empty.
  [[nodiscard]] Result<Labels> labels() const {
    Labels out;
    const json* v = find("labels");
    if (v == nullptr || v->is_null()) {
      return out;
    }
    if (!v->is_object()) {
      return bad("labels", "not an object");
    }
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it.value().is_string()) {
        return bad("labels",
                   fmt::format("value of '{}' is not a string", it.key()));
      }
      out[it.key()] = it.value().get<std::string>();
    }
    return out;
  }

  [[nodiscard]] const std::string& what() const {
    return m_what;
  }

private:
  const json& m_j;
  std::string m_what;
};

std::string describe(std::string_view kind, const json& j) {
  if (j.is_object() && j.contains("id") && j.at("id").is_number_integer()) {
    return fmt::format("{} {}", kind, j.at("id").get<int64_t>());
  }
  return std::string(kind);
}

Result<std::vector<std::string>>
string_list(const json& j, std::string_view key, const Fields& f) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return f.bad(key, "not an array");
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return f.bad(key, "contains a non-string");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

} // namespace

Result<Action> parse_action(const json& j) {
  const Fields f(j, describe("action", j));
  CUSTODY_TRY(f.require_object());
  Action a;
  CUSTODY_TRY_ASSIGN(a.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(a.command, f.str("command"));
  CUSTODY_TRY_ASSIGN(a.status, f.str("status"));
  if (a.status != "running" && a.status != "success" && a.status != "error") {
    return f.bad("status", fmt::format("unknown status '{}'", a.status));
  }
  CUSTODY_TRY_ASSIGN(const double progress, f.number("progress"));
  a.progress = static_cast<int>(progress);
  CUSTODY_TRY_ASSIGN(a.started_ms, f.time("started"));
  CUSTODY_TRY_ASSIGN(a.finished_ms, f.opt_time("finished"));
  if (const json* rs = f.find("resources"); rs != nullptr && rs->is_array()) {
    for (const auto& r : *rs) {
      const Fields rf(r, f.what() + " resource");
      CUSTODY_TRY(rf.require_object());
      ActionResource res;
      CUSTODY_TRY_ASSIGN(res.id, rf.id("id"));
      CUSTODY_TRY_ASSIGN(res.type, rf.str("type"));
      a.resources.push_back(std::move(res));
    }
  }
  // The documented examples carry an error object even on success (research
  // §1.7); only an action whose status is "error" has a meaningful one.
  if (const json* e = f.find("error"); a.status == "error") {
    ActionError err{"action_failed", "no error details"};
    if (e != nullptr && e->is_object()) {
      const Fields ef(*e, f.what() + " error");
      CUSTODY_TRY_ASSIGN(auto code, ef.opt_str("code"));
      CUSTODY_TRY_ASSIGN(auto message, ef.opt_str("message"));
      err.code = code.value_or(err.code);
      err.message = message.value_or(err.message);
    }
    a.error = err;
  }
  a.raw = j;
  return a;
}

Result<Server> parse_server(const json& j) {
  const Fields f(j, describe("server", j));
  CUSTODY_TRY(f.require_object());
  Server s;
  CUSTODY_TRY_ASSIGN(s.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(s.name, f.str("name"));
  CUSTODY_TRY_ASSIGN(s.status, f.str("status"));
  CUSTODY_TRY_ASSIGN(s.created_ms, f.time("created"));
  if (const json* loc = f.find("location");
      loc != nullptr && loc->is_object()) {
    CUSTODY_TRY_ASSIGN(s.location,
                       Fields(*loc, f.what() + " location").str("name"));
  }
  if (const json* type = f.find("server_type");
      type != nullptr && type->is_object()) {
    CUSTODY_TRY_ASSIGN(s.server_type,
                       Fields(*type, f.what() + " server_type").str("name"));
  }
  if (const json* img = f.find("image"); img != nullptr && img->is_object()
                                         && img->contains("id")
                                         && img->at("id").is_number_integer()) {
    s.image_id = img->at("id").get<int64_t>();
  }
  if (const json* pn = f.find("public_net"); pn != nullptr && pn->is_object()) {
    if (auto v4 = pn->find("ipv4"); v4 != pn->end() && v4->is_object()) {
      CUSTODY_TRY_ASSIGN(
          s.ipv4, Fields(*v4, f.what() + " public_net.ipv4").opt_str("ip"));
    }
    if (auto v6 = pn->find("ipv6"); v6 != pn->end() && v6->is_object()) {
      CUSTODY_TRY_ASSIGN(
          s.ipv6, Fields(*v6, f.what() + " public_net.ipv6").opt_str("ip"));
    }
    if (auto fws = pn->find("firewalls"); fws != pn->end() && fws->is_array()) {
      for (const auto& fw : *fws) {
        const Fields ff(fw, f.what() + " public_net.firewalls[]");
        CUSTODY_TRY(ff.require_object());
        ServerFirewall sf;
        CUSTODY_TRY_ASSIGN(sf.id, ff.id("id"));
        CUSTODY_TRY_ASSIGN(sf.status, ff.str("status"));
        s.firewalls.push_back(sf);
      }
    }
  }
  if (const json* vols = f.find("volumes");
      vols != nullptr && vols->is_array()) {
    for (const auto& v : *vols) {
      if (!v.is_number_integer()) {
        return f.bad("volumes", "contains a non-integer");
      }
      s.volumes.push_back(v.get<int64_t>());
    }
  }
  CUSTODY_TRY_ASSIGN(s.labels, f.labels());
  s.locked = f.boolean("locked");
  s.rescue_enabled = f.boolean("rescue_enabled");
  s.raw = j;
  return s;
}

Result<Image> parse_image(const json& j) {
  const Fields f(j, describe("image", j));
  CUSTODY_TRY(f.require_object());
  Image img;
  CUSTODY_TRY_ASSIGN(img.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(img.type, f.str("type"));
  CUSTODY_TRY_ASSIGN(img.status, f.str("status"));
  CUSTODY_TRY_ASSIGN(img.name, f.opt_str("name"));
  CUSTODY_TRY_ASSIGN(auto description, f.opt_str("description"));
  img.description = description.value_or("");
  CUSTODY_TRY_ASSIGN(img.image_size_gb, f.opt_number("image_size"));
  CUSTODY_TRY_ASSIGN(auto disk, f.opt_number("disk_size"));
  img.disk_size_gb = disk.value_or(0);
  CUSTODY_TRY_ASSIGN(img.created_ms, f.time("created"));
  if (const json* cf = f.find("created_from");
      cf != nullptr && cf->is_object()) {
    const Fields cff(*cf, f.what() + " created_from");
    CUSTODY_TRY_ASSIGN(img.created_from_id, cff.opt_id("id"));
    CUSTODY_TRY_ASSIGN(img.created_from_name, cff.opt_str("name"));
  }
  CUSTODY_TRY_ASSIGN(img.bound_to, f.opt_id("bound_to"));
  CUSTODY_TRY_ASSIGN(img.labels, f.labels());
  img.raw = j;
  return img;
}

Result<Firewall> parse_firewall(const json& j) {
  const Fields f(j, describe("firewall", j));
  CUSTODY_TRY(f.require_object());
  Firewall fw;
  CUSTODY_TRY_ASSIGN(fw.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(fw.name, f.str("name"));
  CUSTODY_TRY_ASSIGN(fw.created_ms, f.time("created"));
  CUSTODY_TRY_ASSIGN(fw.labels, f.labels());
  if (const json* rules = f.find("rules");
      rules != nullptr && rules->is_array()) {
    for (const auto& r : *rules) {
      const Fields rf(r, f.what() + " rule");
      CUSTODY_TRY(rf.require_object());
      FirewallRule rule;
      CUSTODY_TRY_ASSIGN(rule.direction, rf.str("direction"));
      CUSTODY_TRY_ASSIGN(rule.protocol, rf.str("protocol"));
      CUSTODY_TRY_ASSIGN(rule.port, rf.opt_str("port"));
      CUSTODY_TRY_ASSIGN(rule.description, rf.opt_str("description"));
      CUSTODY_TRY_ASSIGN(rule.source_ips, string_list(r, "source_ips", rf));
      CUSTODY_TRY_ASSIGN(rule.destination_ips,
                         string_list(r, "destination_ips", rf));
      fw.rules.push_back(std::move(rule));
    }
  }
  if (const json* applied = f.find("applied_to");
      applied != nullptr && applied->is_array()) {
    for (const auto& a : *applied) {
      const Fields af(a, f.what() + " applied_to[]");
      CUSTODY_TRY(af.require_object());
      FirewallTarget t;
      CUSTODY_TRY_ASSIGN(t.type, af.str("type"));
      if (auto srv = a.find("server"); srv != a.end() && srv->is_object()) {
        CUSTODY_TRY_ASSIGN(t.server_id,
                           Fields(*srv, af.what() + " server").opt_id("id"));
      }
      if (auto sel = a.find("label_selector");
          sel != a.end() && sel->is_object()) {
        CUSTODY_TRY_ASSIGN(
            t.label_selector,
            Fields(*sel, af.what() + " label_selector").opt_str("selector"));
      }
      if (auto res = a.find("applied_to_resources");
          res != a.end() && res->is_array()) {
        for (const auto& r : *res) {
          if (r.is_object() && r.contains("server")
              && r.at("server").is_object()) {
            CUSTODY_TRY_ASSIGN(
                auto id,
                Fields(r.at("server"), af.what() + " resource").id("id"));
            t.selector_servers.push_back(id);
          }
        }
      }
      fw.applied_to.push_back(std::move(t));
    }
  }
  fw.raw = j;
  return fw;
}

Result<SshKey> parse_ssh_key(const json& j) {
  const Fields f(j, describe("SSH key", j));
  CUSTODY_TRY(f.require_object());
  SshKey k;
  CUSTODY_TRY_ASSIGN(k.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(k.name, f.str("name"));
  CUSTODY_TRY_ASSIGN(k.fingerprint, f.str("fingerprint"));
  CUSTODY_TRY_ASSIGN(k.public_key, f.str("public_key"));
  CUSTODY_TRY_ASSIGN(k.created_ms, f.time("created"));
  CUSTODY_TRY_ASSIGN(k.labels, f.labels());
  k.raw = j;
  return k;
}

Result<Volume> parse_volume(const json& j) {
  const Fields f(j, describe("volume", j));
  CUSTODY_TRY(f.require_object());
  Volume v;
  CUSTODY_TRY_ASSIGN(v.id, f.id("id"));
  CUSTODY_TRY_ASSIGN(v.name, f.str("name"));
  CUSTODY_TRY_ASSIGN(v.server_id, f.opt_id("server"));
  if (const json* loc = f.find("location");
      loc != nullptr && loc->is_object()) {
    CUSTODY_TRY_ASSIGN(v.location,
                       Fields(*loc, f.what() + " location").str("name"));
  }
  CUSTODY_TRY_ASSIGN(v.size_gb, f.number("size"));
  CUSTODY_TRY_ASSIGN(v.status, f.str("status"));
  CUSTODY_TRY_ASSIGN(v.created_ms, f.time("created"));
  CUSTODY_TRY_ASSIGN(v.labels, f.labels());
  v.raw = j;
  return v;
}

json to_request_json(const FirewallRule& rule) {
  json j = {{"direction", rule.direction}, {"protocol", rule.protocol}};
  if (rule.port && (rule.protocol == "tcp" || rule.protocol == "udp")) {
    j["port"] = *rule.port;
  }
  if (rule.direction == "in") {
    j["source_ips"] = rule.source_ips;
  } else {
    j["destination_ips"] = rule.destination_ips;
  }
  if (rule.description) {
    j["description"] = *rule.description;
  }
  return j;
}

} // namespace custody::collector::hcloud
