#include "collector/hcloud_workflow.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace custody::collector::hcloud {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

// The shared shape of label names and values.
bool label_token_ok(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front())
      || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
  });
}

bool dns_subdomain_ok(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view part = s.substr(
        start,
        dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const bool ok = !part.empty() && part.size() <= 63 && is_alnum(part.front())
                    && is_alnum(part.back())
                    && std::all_of(part.begin(), part.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                                || c == '-';
                       });
    if (!ok) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    out +=
        u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return out;
}

} // namespace

Result<void> validate_label_key(std::string_view key) {
  std::string_view name = key;
  if (const size_t slash = key.find('/'); slash != std::string_view::npos) {
    const std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!dns_subdomain_ok(prefix)) {
      return fail(
          Errc::invalid_input,
          fmt::format("label key '{}': the prefix must be a DNS subdomain",
                      printable(key)));
    }
    if (prefix == "hetzner.cloud" || prefix.ends_with(".hetzner.cloud")) {
      return fail(
          Errc::invalid_input,
          fmt::format("label key '{}': the hetzner.cloud/ prefix is reserved",
                      printable(key)));
    }
  }
  if (!label_token_ok(name)) {
    return fail(Errc::invalid_input,
                fmt::format("label key '{}': the name must be 1-63 characters "
                            "[A-Za-z0-9-_.], starting and ending "
                            "with a letter or digit",
                            printable(key)));
  }
  return {};
}

Result<void> validate_label_value(std::string_view value) {
  if (!value.empty() && !label_token_ok(value)) {
    return fail(Errc::invalid_input,
                fmt::format("label value '{}': must be empty or 1-63 "
                            "characters [A-Za-z0-9-_.], starting and "
                            "ending with a letter or digit",
                            printable(value)));
  }
  return {};
}

Result<void> validate_labels(const Labels& labels) {
  for (const auto& [k, v] : labels) {
    CUSTODY_TRY(validate_label_key(k));
    CUSTODY_TRY(validate_label_value(v));
  }
  return {};
}

Result<void> validate_incident_id(std::string_view incident) {
  if (!label_token_ok(incident)) {
    return fail(Errc::invalid_input,
                fmt::format("incident id '{}' must be 1-63 characters "
                            "[A-Za-z0-9-_.] starting and ending with a "
                            "letter or digit (e.g. INC-2026-12-03-1)",
                            printable(incident)));
  }
  return {};
}

Result<Labels> incident_labels(std::string_view incident,
                               std::string_view purpose,
                               std::optional<int64_t> server_id) {
  CUSTODY_TRY(validate_incident_id(incident));
  Labels labels{{std::string(k_label_incident), std::string(incident)},
                {std::string(k_label_purpose), std::string(purpose)}};
  if (server_id) {
    labels[std::string(k_label_server)] = std::to_string(*server_id);
  }
  CUSTODY_TRY(validate_labels(labels));
  return labels;
}

Result<std::string> snapshot_description(std::string_view incident,
                                         int64_t server_id,
                                         int64_t now_ms) {
  CUSTODY_TRY(validate_incident_id(incident));
  if (server_id < 1) {
    return fail(Errc::invalid_input,
                fmt::format("server id {} is not a valid id", server_id));
  }
  return fmt::format("forensic-snapshot-{}-{}-{}",
                     incident,
                     server_id,
                     format_utc_compact(now_ms));
}

Result<std::string> normalize_cidr(std::string_view text) {
  const std::string input(text);
  const size_t slash = input.find('/');
  const std::string addr = input.substr(0, slash);
  std::array<unsigned char, 16> bytes{};
  int family = AF_INET;
  int max_prefix = 32;
  if (inet_pton(AF_INET, addr.c_str(), bytes.data()) != 1) {
    if (inet_pton(AF_INET6, addr.c_str(), bytes.data()) != 1) {
      return fail(
          Errc::invalid_input,
          fmt::format("'{}' is not an IP address or CIDR", printable(text)));
    }
    family = AF_INET6;
    max_prefix = 128;
  }
  int prefix = max_prefix;
  if (slash != std::string::npos) {
    const std::string len = input.substr(slash + 1);
    if (len.empty() || len.size() > 3
        || !std::all_of(
            len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })
        || std::stoi(len) > max_prefix) {
      return fail(
          Errc::invalid_input,
          fmt::format("'{}' has an invalid prefix length", printable(text)));
    }
    prefix = std::stoi(len);
  }
  for (int bit = prefix; bit < max_prefix; ++bit) {
    bytes[static_cast<size_t>(bit / 8)] &=
        static_cast<unsigned char>(~(0x80U >> (bit % 8)));
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(family, bytes.data(), buf.data(), buf.size()) == nullptr) {
    return fail(Errc::internal, "inet_ntop failed");
  }
  return fmt::format("{}/{}", buf.data(), prefix);
}

Result<FirewallSpec> build_isolation_firewall(int64_t server_id,
                                              std::string_view admin_cidr,
                                              std::string_view incident,
                                              int64_t now_ms) {
  CUSTODY_TRY(validate_incident_id(incident));
  CUSTODY_TRY_ASSIGN(const std::string admin, normalize_cidr(admin_cidr));
  if (admin.ends_with("/0")) {
    return fail(Errc::invalid_input,
                fmt::format("admin CIDR {} allows the whole Internet; "
                            "isolation needs the responder's address",
                            admin));
  }
  if (server_id < 1) {
    return fail(Errc::invalid_input,
                fmt::format("server id {} is not a valid id", server_id));
  }
  FirewallSpec spec;
  spec.name = fmt::format("forensic-isolation-{}-{}-{}",
                          incident,
                          server_id,
                          format_utc_compact(now_ms));
  CUSTODY_TRY_ASSIGN(spec.labels,
                     incident_labels(incident, "isolation", server_id));
  FirewallRule ssh_in;
  ssh_in.direction = "in";
  ssh_in.protocol = "tcp";
  ssh_in.port = "22";
  ssh_in.source_ips = {admin};
  ssh_in.description =
      fmt::format("custody {}: SSH from the responder only", incident);
  FirewallRule icmp_out;
  icmp_out.direction = "out";
  icmp_out.protocol = "icmp";
  icmp_out.destination_ips = {admin};
  icmp_out.description = fmt::format(
      "custody {}: the only outbound rule, so all other outbound traffic is "
      "denied",
      incident);
  spec.rules = {ssh_in, icmp_out};
  return spec;
}

Result<SnapshotStarted> start_snapshot(Client& client,
                                       int64_t server_id,
                                       std::string_view incident,
                                       int64_t now_ms) {
  SnapshotStarted out;
  CUSTODY_TRY_ASSIGN(out.description,
                     snapshot_description(incident, server_id, now_ms));
  CUSTODY_TRY_ASSIGN(out.labels,
                     incident_labels(incident, "forensic-snapshot", server_id));
  CUSTODY_TRY_ASSIGN(auto server, client.get_server(server_id));
  out.server = std::move(server.value);
  out.server_body = std::move(server.bodies.front());
  CreateImageRequest request;
  request.type = "snapshot";
  request.description = out.description;
  request.labels = out.labels;
  CUSTODY_TRY_ASSIGN(auto created, client.create_image(server_id, request));
  out.created = std::move(created.value);
  out.create_body = std::move(created.bodies.front());
  return out;
}

Result<SnapshotFinished> finish_snapshot(Client& client,
                                         const SnapshotStarted& started,
                                         const WaitOptions& wait) {
  WaitOptions strict = wait;
  strict.accept_error = false;
  SnapshotFinished out;
  auto action = client.wait_for_action(started.created.action.id, strict);
  if (!action) {
    return tl::unexpected(
        with_context(action.error(),
                     fmt::format("snapshot of server {}", started.server.id)));
  }
  out.action = std::move(action->value);
  out.action_body =
      action->bodies.empty() ? std::string() : std::move(action->bodies.back());
  CUSTODY_TRY_ASSIGN(auto image, client.get_image(started.created.image.id));
  out.image = std::move(image.value);
  out.image_body = std::move(image.bodies.front());
  if (out.image.status != "available") {
    return fail(Errc::remote,
                fmt::format("snapshot of server {}: action {} succeeded but "
                            "image {} is '{}', not available",
                            started.server.id,
                            out.action.id,
                            out.image.id,
                            printable(out.image.status)));
  }
  return out;
}

IsolationOutcome isolate_server(Client& client,
                                int64_t server_id,
                                std::string_view admin_cidr,
                                std::string_view incident,
                                int64_t now_ms,
                                const WaitOptions& wait) {
  IsolationOutcome out;
  const std::string what = fmt::format("isolate server {}", server_id);
  auto stop = [&](const Error& e) {
    out.error = with_context(e, what);
    return out;
  };
  auto spec = build_isolation_firewall(server_id, admin_cidr, incident, now_ms);
  if (!spec) {
    return stop(spec.error());
  }
  auto before = client.get_server(server_id);
  if (!before) {
    return stop(before.error());
  }
  out.server_before = before->value;
  out.bodies.push_back(before->bodies.front());
  if (!before->value.ipv4 && !before->value.ipv6) {
    return stop(Error{Errc::invalid_input,
                      "the server has no public interface; Hetzner firewalls "
                      "filter only the public interface"});
  }

  auto created = client.create_firewall(*spec);
  if (!created) {
    return stop(created.error());
  }
  out.firewall = created->value.firewall;
  out.bodies.push_back(created->bodies.front());
  const int64_t fw_id = created->value.firewall.id;

  WaitOptions w = wait;
  w.accept_error = true; // record failed actions, then stop
  auto run_actions =
      [&](Result<Reply<std::vector<Action>>> started) -> Result<void> {
    if (!started) {
      return tl::unexpected(started.error());
    }
    out.bodies.push_back(started->bodies.front());
    std::vector<int64_t> ids;
    for (const auto& a : started->value) {
      ids.push_back(a.id);
    }
    CUSTODY_TRY_ASSIGN(auto done, client.wait_for_actions(ids, w));
    if (!done.bodies.empty()) {
      out.bodies.push_back(done.bodies.back());
    }
    for (const auto& a : done.value) {
      out.actions.push_back(a);
    }
    for (const auto& a : done.value) {
      if (a.failed()) {
        return fail(Errc::remote,
                    fmt::format("action {} ({}) failed: {}: {}",
                                a.id,
                                a.command,
                                a.error ? a.error->code : "",
                                a.error ? a.error->message : ""));
      }
    }
    return {};
  };
  if (auto applied = run_actions(client.apply_firewall(fw_id, {server_id}));
      !applied) {
    return stop(applied.error());
  }

  // Take every other firewall off the server: allow rules of all firewalls add
  // up.
  for (const auto& other : before->value.firewalls) {
    if (other.id == fw_id) {
      continue;
    }
    auto fw = client.get_firewall(other.id);
    if (!fw) {
      return stop(fw.error());
    }
    out.bodies.push_back(fw->bodies.front());
    const bool direct =
        std::any_of(fw->value.applied_to.begin(),
                    fw->value.applied_to.end(),
                    [&](const FirewallTarget& t) {
                      return t.type == "server" && t.server_id == server_id;
                    });
    if (!direct) {
      std::string selector;
      for (const auto& t : fw->value.applied_to) {
        if (t.type == "label_selector" && t.label_selector) {
          selector = *t.label_selector;
        }
      }
      out.warnings.push_back(
          fmt::format("firewall {} ('{}') reaches server {} through label "
                      "selector '{}' and cannot be removed from it alone; its "
                      "allow rules still apply. Change the server's labels or "
                      "the selector to take it off.",
                      other.id,
                      printable(fw->value.name),
                      server_id,
                      printable(selector)));
      continue;
    }
    if (auto removed =
            run_actions(client.remove_firewall(other.id, {server_id}));
        !removed) {
      return stop(removed.error());
    }
    out.removed_firewalls.push_back(other.id);
  }

  auto after = client.get_server(server_id);
  if (!after) {
    return stop(after.error());
  }
  out.server_after = after->value;
  out.bodies.push_back(after->bodies.front());
  const bool ours_applied =
      std::any_of(after->value.firewalls.begin(),
                  after->value.firewalls.end(),
                  [&](const ServerFirewall& f) {
                    return f.id == fw_id && f.status == "applied";
                  });
  if (!ours_applied) {
    return stop(Error{
        Errc::remote,
        fmt::format(
            "firewall {} is not reported as applied on the server afterwards",
            fw_id)});
  }
  out.warnings.emplace_back(k_isolation_caveats);
  return out;
}

} // namespace custody::collector::hcloud
