// Implementation notes.
//
// State lives in detail::Project, guarded by one mutex. Time is the wall
// clock: an action records when it started and when it will finish, its
// status and progress are computed from the clock whenever it is rendered,
// and its side effects (image available, server off, firewall applied…) are
// applied by tick() at the start of the next request after it finished, in
// finish order. That keeps the stand-in free of background threads.
//
// Resources are stored as JSON objects in API shape, with timestamps kept as
// integer milliseconds under their usual keys; render() turns those into
// RFC 3339 strings in the configured style, so `Z` and `+00:00` output come
// from the same data. Fields that depend on other resources (a server's
// firewalls and volumes, a firewall's applied_to) are computed at render time.
//
// Why exceptions: handle() is this program's request boundary, the equivalent
// of main() for one request. Handlers throw ApiError to answer with the error
// envelope and handle() catches everything; nothing crosses a C callback
// (cpp-httplib is C++ and calls us from its own threads).
#include "tests/hcloud_standin/standin.hpp"

#include "common/time.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string_view>

#include "hcloud_standin_catalog.inc" // generated: k_catalog_json

namespace custody::hcloud_standin {

using json = nlohmann::json;

namespace {

constexpr int64_t k_first_resource_id = 5'000'000'001;
constexpr int64_t k_first_action_id = 9'000'000'001;
constexpr int k_max_per_page = 50;
constexpr int k_default_per_page = 25;
constexpr size_t k_max_firewalls_per_server = 5;
constexpr size_t k_max_cidrs_per_list = 100;

struct ApiError {
  int status = 500;
  std::string code;
  std::string message;
  json details = nullptr;
};

[[noreturn]] void throw_api(int status,
                            std::string code,
                            std::string message,
                            json details = nullptr) {
  throw ApiError{
      status, std::move(code), std::move(message), std::move(details)};
}

[[noreturn]] void throw_not_found(std::string_view what) {
  throw_api(404, "not_found", fmt::format("{} not found", what));
}

// Collects field validation errors and raises one 422 invalid_input with
// details.fields = [{name, messages}], as the API does.
class FieldErrors {
public:
  void add(std::string field, std::string message) {
    m_items.emplace_back(std::move(field), std::move(message));
  }
  [[nodiscard]] bool empty() const {
    return m_items.empty();
  }
  void raise_if_any() const {
    if (m_items.empty()) {
      return;
    }
    json fields = json::array();
    std::vector<std::string> order;
    std::map<std::string, json> grouped;
    for (const auto& [name, msg] : m_items) {
      if (grouped.count(name) == 0) {
        order.push_back(name);
        grouped[name] = json::array();
      }
      grouped[name].push_back(msg);
    }
    for (const auto& name : order) {
      fields.push_back({{"name", name}, {"messages", grouped[name]}});
    }
    throw_api(422,
              "invalid_input",
              fmt::format("invalid input in field '{}': {}",
                          m_items.front().first,
                          m_items.front().second),
              {{"fields", fields}});
  }

private:
  std::vector<std::pair<std::string, std::string>> m_items;
};

// --- time -------------------------------------------------------------------

std::string format_ts(int64_t ms, TimestampStyle style) {
  std::string s = format_rfc3339_ms(ms).substr(0, 19); // YYYY-MM-DDTHH:MM:SS
  s += style == TimestampStyle::z ? "Z" : "+00:00";
  return s;
}

bool is_timestamp_key(std::string_view key) {
  static const std::array<std::string_view, 7> k_keys = {"created",
                                                         "started",
                                                         "finished",
                                                         "deprecated",
                                                         "deleted",
                                                         "announced",
                                                         "unavailable_after"};
  return std::find(k_keys.begin(), k_keys.end(), key) != k_keys.end();
}

// Converts integer-millisecond timestamps under the known keys to strings.
void render_timestamps(json& j, TimestampStyle style) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (is_timestamp_key(it.key()) && it.value().is_number_integer()) {
        it.value() = format_ts(it.value().get<int64_t>(), style);
      } else {
        render_timestamps(it.value(), style);
      }
    }
  } else if (j.is_array()) {
    for (auto& item : j) {
      render_timestamps(item, style);
    }
  }
}

// Converts seed timestamps (strings, `Z` or offset) to integer milliseconds.
void load_timestamps(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (is_timestamp_key(it.key()) && it.value().is_string()) {
        auto ms = parse_rfc3339_ms(it.value().get<std::string>());
        if (!ms) {
          throw std::runtime_error("seed: bad timestamp in '" + it.key()
                                   + "': " + ms.error().message);
        }
        it.value() = *ms;
      } else {
        load_timestamps(it.value());
      }
    }
  } else if (j.is_array()) {
    for (auto& item : j) {
      load_timestamps(item);
    }
  }
}

// --- small parsers
// ------------------------------------------------------------

std::optional<int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 16) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 9'007'199'254'740'991) {
    return std::nullopt;
  }
  return v;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') {
      ++i;
    }
    size_t j = i;
    while (j < path.size() && path[j] != '/') {
      ++j;
    }
    if (j > i) {
      out.emplace_back(path.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) {
    ++b;
  }
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

// Label rules (DOCS "Labels"): name ≤63 chars, alphanumeric at both ends,
// `-_.` inside; optional DNS-subdomain prefix ≤253 chars; `hetzner.cloud/`
// reserved. Values ≤63 chars, may be empty, same charset.
bool valid_label_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front())
      || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
  });
}

bool valid_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(
        start,
        dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 63 || !is_alnum(part.front())
        || !is_alnum(part.back())) {
      return false;
    }
    if (!std::all_of(part.begin(), part.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

void validate_labels(const json& labels,
                     const std::string& field,
                     FieldErrors& errors) {
  if (labels.is_null()) {
    return;
  }
  if (!labels.is_object()) {
    errors.add(field, "must be an object");
    return;
  }
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    const std::string& key = it.key();
    const std::string where = field + "." + key;
    std::string_view name = key;
    const size_t slash = key.find('/');
    if (slash != std::string::npos) {
      std::string_view prefix = std::string_view(key).substr(0, slash);
      name = std::string_view(key).substr(slash + 1);
      if (!valid_dns_subdomain(prefix)) {
        errors.add(where, "label key prefix must be a DNS subdomain");
      }
      if (prefix == "hetzner.cloud" || prefix.ends_with(".hetzner.cloud")) {
        errors.add(where, "label key prefix hetzner.cloud/ is reserved");
      }
    }
    if (!valid_label_name(name)) {
      errors.add(where, "label key is invalid");
    }
    if (!it.value().is_string()) {
      errors.add(where, "label value must be a string");
      continue;
    }
    const auto value = it.value().get<std::string>();
    if (!value.empty() && !valid_label_name(value)) {
      errors.add(where, "label value is invalid");
    }
  }
}

// Returns the canonical CIDR (host bits must be zero; IPv6 in RFC 5952 form)
// or an error message.
std::pair<std::string, std::string> canonical_cidr(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return {"", "is not a CIDR (missing /prefix)"};
  }
  const std::string addr = text.substr(0, slash);
  const std::string len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3
      || !std::all_of(len_text.begin(), len_text.end(), [](char c) {
           return c >= '0' && c <= '9';
         })) {
    return {"", "has an invalid prefix length"};
  }
  const int prefix = std::stoi(len_text);
  std::array<unsigned char, 16> bytes{};
  int family = 0;
  size_t nbytes = 0;
  if (inet_pton(AF_INET, addr.c_str(), bytes.data()) == 1) {
    family = AF_INET;
    nbytes = 4;
  } else if (inet_pton(AF_INET6, addr.c_str(), bytes.data()) == 1) {
    family = AF_INET6;
    nbytes = 16;
  } else {
    return {"", "is not a valid IP address"};
  }
  if (prefix > static_cast<int>(nbytes * 8)) {
    return {"", "has an invalid prefix length"};
  }
  for (size_t bit = static_cast<size_t>(prefix); bit < nbytes * 8; ++bit) {
    if ((bytes[bit / 8] & (0x80U >> (bit % 8))) != 0) {
      return {"", "has host bits set"};
    }
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(family, bytes.data(), buf.data(), buf.size()) == nullptr) {
    return {"", "is not a valid IP address"};
  }
  return {std::string(buf.data()) + "/" + std::to_string(prefix), ""};
}

bool valid_port(const std::string& port) {
  auto parse = [](std::string_view s) -> int {
    if (s.empty() || s.size() > 5
        || !std::all_of(
            s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return -1;
    }
    const int v = std::stoi(std::string(s));
    return v >= 1 && v <= 65535 ? v : -1;
  };
  const size_t dash = port.find('-');
  if (dash == std::string::npos) {
    return parse(port) > 0;
  }
  const int lo = parse(std::string_view(port).substr(0, dash));
  const int hi = parse(std::string_view(port).substr(dash + 1));
  return lo > 0 && hi > 0 && lo < hi;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    std::string_view part = s.substr(
        start,
        dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 63 || part.front() == '-'
        || part.back() == '-') {
      return false;
    }
    if (!std::all_of(part.begin(), part.end(), [](char c) {
          return is_alnum(c) || c == '-';
        })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// --- label selectors (DOCS "Label Selector")
// ----------------------------------

struct SelectorTerm {
  enum class Op { eq, neq, exists, not_exists, in, notin };
  Op op = Op::exists;
  std::string key;
  std::vector<std::string> values;
};

std::vector<SelectorTerm> parse_selector(const std::string& text) {
  auto bad = [&]() {
    throw_api(422,
              "invalid_input",
              "invalid label_selector: " + text,
              {{"fields",
                json::array({{{"name", "label_selector"},
                              {"messages", {"is invalid"}}}})}});
  };
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    }
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  std::vector<SelectorTerm> terms;
  for (const auto& raw : parts) {
    const std::string part = trim(raw);
    if (part.empty()) {
      bad();
    }
    SelectorTerm t;
    size_t pos = 0;
    if (part.front() == '!') {
      t.op = SelectorTerm::Op::not_exists;
      t.key = trim(part.substr(1));
    } else if ((pos = part.find(" notin ")) != std::string::npos
               || (pos = part.find(" in ")) != std::string::npos) {
      const bool notin = part.compare(pos, 7, " notin ") == 0;
      t.op = notin ? SelectorTerm::Op::notin : SelectorTerm::Op::in;
      t.key = trim(part.substr(0, pos));
      std::string list = trim(part.substr(pos + (notin ? 7 : 4)));
      if (list.size() < 2 || list.front() != '(' || list.back() != ')') {
        bad();
      }
      std::string item;
      for (char c : list.substr(1, list.size() - 2)) {
        if (c == ',') {
          t.values.push_back(trim(item));
          item.clear();
        } else {
          item += c;
        }
      }
      t.values.push_back(trim(item));
    } else if ((pos = part.find("!=")) != std::string::npos) {
      t.op = SelectorTerm::Op::neq;
      t.key = trim(part.substr(0, pos));
      t.values.push_back(trim(part.substr(pos + 2)));
    } else if ((pos = part.find("==")) != std::string::npos) {
      t.op = SelectorTerm::Op::eq;
      t.key = trim(part.substr(0, pos));
      t.values.push_back(trim(part.substr(pos + 2)));
    } else if ((pos = part.find('=')) != std::string::npos) {
      t.op = SelectorTerm::Op::eq;
      t.key = trim(part.substr(0, pos));
      t.values.push_back(trim(part.substr(pos + 1)));
    } else {
      t.op = SelectorTerm::Op::exists;
      t.key = part;
    }
    if (t.key.empty() || t.key.find(' ') != std::string::npos) {
      bad();
    }
    terms.push_back(std::move(t));
  }
  return terms;
}

bool selector_matches(const std::vector<SelectorTerm>& terms,
                      const json& labels) {
  for (const auto& t : terms) {
    const bool has = labels.is_object() && labels.contains(t.key);
    const std::string value =
        has ? labels.at(t.key).get<std::string>() : std::string();
    const bool in_values =
        std::find(t.values.begin(), t.values.end(), value) != t.values.end();
    bool ok = false;
    switch (t.op) {
    case SelectorTerm::Op::eq:
      ok = has && value == t.values.front();
      break;
    case SelectorTerm::Op::neq:
      ok = !has || value != t.values.front();
      break;
    case SelectorTerm::Op::exists:
      ok = has;
      break;
    case SelectorTerm::Op::not_exists:
      ok = !has;
      break;
    case SelectorTerm::Op::in:
      ok = has && in_values;
      break;
    case SelectorTerm::Op::notin:
      ok = !has || !in_values;
      break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

// --- requests
// -----------------------------------------------------------------

std::vector<std::string> query_all(const Request& req, const std::string& key) {
  std::vector<std::string> out;
  auto [b, e] = req.query.equal_range(key);
  for (auto it = b; it != e; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::optional<std::string> query_one(const Request& req,
                                     const std::string& key) {
  auto it = req.query.find(key);
  if (it == req.query.end()) {
    return std::nullopt;
  }
  return it->second;
}

json parse_body(const Request& req, bool allow_empty) {
  if (req.body.empty() && allow_empty) {
    return json::object();
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    throw_api(400, "json_error", "invalid JSON input in request body");
  }
  if (!body.is_object()) {
    throw_api(400, "json_error", "request body must be a JSON object");
  }
  return body;
}

int compare_json(const json& a, const json& b) {
  if (a.is_null() || b.is_null()) {
    return static_cast<int>(!a.is_null()) - static_cast<int>(!b.is_null());
  }
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const std::string x = a.is_string() ? a.get<std::string>() : a.dump();
  const std::string y = b.is_string() ? b.get<std::string>() : b.dump();
  return x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
}

// Sorts `items` by the repeated `sort` query parameter (`field[:asc|:desc]`).
void apply_sort(const Request& req,
                std::vector<json>& items,
                const std::vector<std::string>& allowed) {
  std::vector<std::pair<std::string, bool>> keys; // field, descending
  for (const auto& s : query_all(req, "sort")) {
    std::string field = s;
    bool desc = false;
    const size_t colon = s.find(':');
    if (colon != std::string::npos) {
      field = s.substr(0, colon);
      const std::string dir = s.substr(colon + 1);
      if (dir != "asc" && dir != "desc") {
        throw_api(422,
                  "invalid_input",
                  "invalid sort direction: " + s,
                  {{"fields",
                    json::array(
                        {{{"name", "sort"}, {"messages", {"is invalid"}}}})}});
      }
      desc = dir == "desc";
    }
    if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
      throw_api(
          422,
          "invalid_input",
          "invalid sort field: " + s,
          {{"fields",
            json::array({{{"name", "sort"}, {"messages", {"is invalid"}}}})}});
    }
    keys.emplace_back(field, desc);
  }
  keys.emplace_back("id", false);
  std::stable_sort(
      items.begin(), items.end(), [&](const json& a, const json& b) {
        for (const auto& [field, desc] : keys) {
          const int c =
              compare_json(a.value(field, json()), b.value(field, json()));
          if (c != 0) {
            return desc ? c > 0 : c < 0;
          }
        }
        return false;
      });
}

int64_t
int_param(const Request& req, const std::string& key, int64_t fallback) {
  auto v = query_one(req, key);
  if (!v) {
    return fallback;
  }
  auto id = parse_id(*v);
  if (!id) {
    throw_api(
        422,
        "invalid_input",
        fmt::format("invalid input in field '{}': must be a positive integer",
                    key),
        {{"fields",
          json::array({{{"name", key},
                        {"messages", {"must be a positive integer"}}}})}});
  }
  return *id;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

} // namespace

// --- the project
// ----------------------------------------------------------------

namespace detail {

struct ActionRec {
  int64_t id = 0;
  std::string command;
  int64_t started_ms = 0;
  int64_t finish_ms = 0;
  std::vector<std::pair<int64_t, std::string>> resources;
  std::optional<std::pair<std::string, std::string>>
      error;            // how it ends, if it fails
  bool applied = false; // side effects done
  std::function<void(bool ok)> on_finish;
};

struct AppliedServer {
  int64_t server_id = 0;
  bool pending = true;   // apply_firewall still running
  bool removing = false; // remove_firewall running
};

struct FirewallRec {
  int64_t id = 0;
  std::string name;
  json labels = json::object();
  int64_t created_ms = 0;
  json rules = json::array();
  std::vector<AppliedServer> servers;
  std::vector<std::string> selectors;
};

struct Fault {
  int64_t id = 0;
  std::string method; // "" = any
  std::string path;   // exact decoded path
  std::string
      uri; // exact request target (path + query), like hcloud-go mockutil
  std::string path_prefix; // path prefix
  int64_t remaining = 1;
  int64_t skip = 0;
  int status = 0; // 0 = answer normally (only delay/drop apply)
  std::string code;
  std::string message;
  json details = nullptr;
  std::string body = "json"; // json | bare | text
  std::map<std::string, std::string> headers;
  int64_t reset_after_s = -1;
  int64_t delay_ms = 0;
  bool drop = false;
  json spec; // as submitted, for GET /__standin/faults
};

struct ActionFault {
  std::string command;
  int64_t resource_id = 0; // 0 = any
  int64_t remaining = 1;
  std::string code = "action_failed";
  std::string message = "Action failed";
  int64_t duration_ms = -1;
  json spec;
};

class Project {
public:
  explicit Project(Config cfg)
      : m_cfg(std::move(cfg)),
        m_tokens(m_cfg.rate_capacity),
        m_last_refill_ms(now_ms()),
        m_rng(std::random_device{}()) {}

  void load_seed();
  Reply handle(const Request& req);

private:
  // infrastructure
  Reply api(const Request& req);
  Reply control(const Request& req);
  Reply route(const Request& req);
  void tick();
  bool take_token(int64_t now);
  void add_common_headers(Reply& reply, int64_t now, bool exhausted);
  std::optional<Fault> match_fault(const Request& req);
  std::string correlation_id();
  Reply json_reply(int status, const json& body);
  Reply error_reply(const ApiError& e);
  Reply list_reply(const Request& req,
                   const std::string& key,
                   std::vector<json> items);
  json render(json j) const;

  // actions
  ActionRec&
  start_action(const std::string& command,
               std::vector<std::pair<int64_t, std::string>> resources,
               std::function<void(bool)> on_finish,
               int64_t duration_scale = 1);
  json render_action(const ActionRec& a, int64_t now) const;
  bool action_running(const ActionRec& a, int64_t now) const;
  void check_not_locked(int64_t server_id);

  // resources
  json& server_or_404(int64_t id);
  FirewallRec& firewall_or_404(int64_t id);
  json render_server(const json& s) const;
  json render_firewall(const FirewallRec& f) const;
  json server_type_json(const json& t) const;
  const json* find_catalog(const std::string& key,
                           const json& id_or_name,
                           const std::string& arch = "") const;
  json location_json(const std::string& name) const;
  json make_server(int64_t id,
                   const std::string& name,
                   const std::string& status,
                   int64_t created_ms,
                   const json& type,
                   const json& location,
                   const json& image,
                   const json& ipv4,
                   const json& ipv6,
                   const json& labels,
                   const json& extra) const;
  size_t firewall_count(int64_t server_id) const;
  json validated_rules(const json& rules, FieldErrors& errors) const;

  // handlers
  Reply list_servers(const Request& req);
  Reply create_server(const Request& req);
  Reply delete_server(int64_t id);
  Reply server_action(int64_t id, const std::string& name, const Request& req);
  Reply list_actions(const Request& req,
                     std::optional<int64_t> server_id,
                     bool by_ids,
                     bool all_servers);
  Reply get_action(int64_t id, std::optional<int64_t> server_id);
  Reply list_images(const Request& req);
  Reply list_firewalls(const Request& req);
  Reply create_firewall(const Request& req);
  Reply delete_firewall(int64_t id);
  Reply firewall_apply(int64_t id, const Request& req);
  Reply firewall_remove(int64_t id, const Request& req);
  Reply list_simple(const Request& req,
                    const std::map<int64_t, json>& items,
                    const std::string& key,
                    const std::vector<std::string>& sorts);

  std::mutex m_mu;
  Config m_cfg;
  json m_catalog = builtin_catalog();
  std::map<int64_t, json> m_servers;
  std::map<int64_t, json> m_images;
  std::map<int64_t, json> m_ssh_keys;
  std::map<int64_t, json> m_volumes;
  std::map<int64_t, FirewallRec> m_firewalls;
  std::map<int64_t, ActionRec> m_actions;
  std::vector<std::pair<int64_t, std::function<void()>>> m_timers;
  int64_t m_next_id = k_first_resource_id;
  int64_t m_next_action_id = k_first_action_id;
  int64_t m_next_fault_id = 1;
  int m_next_ip = 10;
  double m_tokens;
  int64_t m_last_refill_ms;
  std::vector<Fault> m_faults;
  std::vector<ActionFault> m_action_faults;
  json m_log = json::array();
  std::mt19937_64 m_rng;
};

// ---- seed
// ----------------------------------------------------------------------

json Project::location_json(const std::string& name) const {
  for (const auto& l : m_catalog.at("locations")) {
    if (l.at("name") == name) {
      return l;
    }
  }
  throw std::runtime_error("unknown location " + name);
}

const json* Project::find_catalog(const std::string& key,
                                  const json& id_or_name,
                                  const std::string& arch) const {
  auto matches = [&](const json& item) {
    if (id_or_name.is_number_integer()) {
      return item.at("id") == id_or_name;
    }
    if (id_or_name.is_string()) {
      const auto s = id_or_name.get<std::string>();
      if (item.at("name").is_string() && item.at("name") == s
          && (arch.empty() || !item.contains("architecture")
              || item.at("architecture") == arch)) {
        return true;
      }
      auto id = parse_id(s);
      return id && item.at("id") == *id;
    }
    return false;
  };
  if (key == "images") {
    for (const auto& [id, img] : m_images) {
      (void)id;
      if (matches(img)) {
        return &img;
      }
    }
    return nullptr;
  }
  for (const auto& item : m_catalog.at(key)) {
    if (matches(item)) {
      return &item;
    }
  }
  return nullptr;
}

json Project::server_type_json(const json& t) const {
  json prices = json::array();
  auto gross = [](const std::string& net) {
    return fmt::format("{:.10f}", std::stod(net) * 1.19);
  };
  for (const auto& l : m_catalog.at("locations")) {
    prices.push_back({{"location", l.at("name")},
                      {"price_hourly",
                       {{"net", t.at("price_hourly_net")},
                        {"gross", gross(t.at("price_hourly_net"))}}},
                      {"price_monthly",
                       {{"net", t.at("price_monthly_net")},
                        {"gross", gross(t.at("price_monthly_net"))}}},
                      {"included_traffic", int64_t{21'990'232'555'520}},
                      {"price_per_tb_traffic",
                       {{"net", "1.0000000000"}, {"gross", "1.1900000000"}}}});
  }
  json locations = json::array();
  for (const auto& l : m_catalog.at("locations")) {
    locations.push_back({{"id", l.at("id")},
                         {"name", l.at("name")},
                         {"deprecation", nullptr},
                         {"available", true},
                         {"recommended", true}});
  }
  return {{"id", t.at("id")},
          {"name", t.at("name")},
          {"description", t.at("description")},
          {"cores", t.at("cores")},
          {"memory", t.at("memory")},
          {"disk", t.at("disk")},
          {"deprecated", false},
          {"deprecation", nullptr},
          {"prices", prices},
          {"storage_type", t.at("storage_type")},
          {"cpu_type", t.at("cpu_type")},
          {"category", t.at("category")},
          {"architecture", t.at("architecture")},
          {"locations", locations}};
}

json Project::make_server(int64_t id,
                          const std::string& name,
                          const std::string& status,
                          int64_t created_ms,
                          const json& type,
                          const json& location,
                          const json& image,
                          const json& ipv4,
                          const json& ipv6,
                          const json& labels,
                          const json& extra) const {
  json pn = {
      {"ipv4", nullptr}, {"ipv6", nullptr}, {"floating_ips", json::array()}};
  if (ipv4.is_string()) {
    pn["ipv4"] = {{"id", id + 1'000'000},
                  {"ip", ipv4},
                  {"blocked", false},
                  {"dns_ptr",
                   fmt::format("static.{}.clients.your-server.de",
                               ipv4.get<std::string>())}};
  }
  if (ipv6.is_string()) {
    pn["ipv6"] = {{"id", id + 2'000'000},
                  {"ip", ipv6},
                  {"blocked", false},
                  {"dns_ptr", json::array()}};
  }
  json s = {
      {"id", id},
      {"name", name},
      {"status", status},
      {"created", created_ms},
      {"public_net", pn},
      {"private_net", extra.value("private_net", json::array())},
      {"server_type", server_type_json(type)},
      {"location", location},
      {"image", image},
      {"iso", nullptr},
      {"rescue_enabled", extra.value("rescue_enabled", false)},
      {"locked", false},
      {"backup_window", extra.value("backup_window", json())},
      {"outgoing_traffic",
       extra.value("outgoing_traffic", json(int64_t{123'456'789}))},
      {"ingoing_traffic",
       extra.value("ingoing_traffic", json(int64_t{987'654'321}))},
      {"included_traffic", int64_t{21'990'232'555'520}},
      {"protection",
       extra.value("protection", json{{"delete", false}, {"rebuild", false}})},
      {"labels", labels.is_object() ? labels : json::object()},
      {"volumes", json::array()},
      {"load_balancers", json::array()},
      {"primary_disk_size", type.at("disk")},
      {"placement_group", nullptr}};
  return s;
}

void Project::load_seed() {
  json seed = m_cfg.seed;
  load_timestamps(seed);
  json catalog_images = m_catalog.at("images");
  load_timestamps(catalog_images);
  for (const auto& img : catalog_images) {
    m_images[img.at("id").get<int64_t>()] = img;
  }
  for (auto img : seed.value("images", json::array())) {
    const int64_t id = img.at("id").get<int64_t>();
    json full = {
        {"id", id},
        {"type", img.value("type", "snapshot")},
        {"status", img.value("status", "available")},
        {"name", img.value("name", json())},
        {"description", img.value("description", "")},
        {"image_size", img.value("image_size", json())},
        {"disk_size", img.value("disk_size", 20)},
        {"created", img.at("created")},
        {"created_from", img.value("created_from", json())},
        {"bound_to", img.value("bound_to", json())},
        {"os_flavor", img.value("os_flavor", "unknown")},
        {"os_version", img.value("os_version", json())},
        {"rapid_deploy", false},
        {"protection", img.value("protection", json{{"delete", false}})},
        {"deprecated", nullptr},
        {"deleted", nullptr},
        {"labels", img.value("labels", json::object())},
        {"architecture", img.value("architecture", "x86")}};
    m_images[id] = full;
  }
  for (const auto& s : seed.value("servers", json::array())) {
    const json* type = find_catalog("server_types", s.at("server_type"));
    if (type == nullptr) {
      throw std::runtime_error("seed: unknown server_type "
                               + s.at("server_type").dump());
    }
    const json* image =
        s.contains("image") && !s.at("image").is_null()
            ? find_catalog("images",
                           s.at("image"),
                           type->at("architecture").get<std::string>())
            : nullptr;
    const int64_t id = s.at("id").get<int64_t>();
    m_servers[id] = make_server(id,
                                s.at("name"),
                                s.value("status", "running"),
                                s.at("created").get<int64_t>(),
                                *type,
                                location_json(s.at("location")),
                                image != nullptr ? *image : json(),
                                s.value("ipv4", json()),
                                s.value("ipv6", json()),
                                s.value("labels", json::object()),
                                s);
  }
  for (const auto& k : seed.value("ssh_keys", json::array())) {
    json key = {{"id", k.at("id")},
                {"name", k.at("name")},
                {"fingerprint", k.at("fingerprint")},
                {"public_key", k.at("public_key")},
                {"labels", k.value("labels", json::object())},
                {"created", k.at("created")}};
    m_ssh_keys[k.at("id").get<int64_t>()] = key;
  }
  for (const auto& v : seed.value("volumes", json::array())) {
    const int64_t id = v.at("id").get<int64_t>();
    m_volumes[id] = {
        {"id", id},
        {"created", v.at("created")},
        {"name", v.at("name")},
        {"server", v.value("server", json())},
        {"location", location_json(v.at("location"))},
        {"size", v.at("size")},
        {"linux_device", fmt::format("/dev/disk/by-id/scsi-0HC_Volume_{}", id)},
        {"protection", v.value("protection", json{{"delete", false}})},
        {"labels", v.value("labels", json::object())},
        {"status", "available"},
        {"format", v.value("format", json())}};
  }
  for (const auto& f : seed.value("firewalls", json::array())) {
    FirewallRec rec;
    rec.id = f.at("id").get<int64_t>();
    rec.name = f.at("name").get<std::string>();
    rec.labels = f.value("labels", json::object());
    rec.created_ms = f.at("created").get<int64_t>();
    FieldErrors errors;
    rec.rules = validated_rules(f.value("rules", json::array()), errors);
    if (!errors.empty()) {
      throw std::runtime_error("seed: invalid rules in firewall " + rec.name);
    }
    for (const auto& a : f.value("applied_to", json::array())) {
      if (a.at("type") == "server") {
        rec.servers.push_back(
            {a.at("server").at("id").get<int64_t>(), false, false});
      } else {
        rec.selectors.push_back(
            a.at("label_selector").at("selector").get<std::string>());
      }
    }
    m_firewalls[rec.id] = rec;
  }
  for (const auto& a : seed.value("actions", json::array())) {
    ActionRec rec;
    rec.id = a.at("id").get<int64_t>();
    rec.command = a.at("command").get<std::string>();
    rec.started_ms = a.at("started").get<int64_t>();
    rec.finish_ms = a.at("finished").get<int64_t>();
    for (const auto& r : a.at("resources")) {
      rec.resources.emplace_back(r.at("id").get<int64_t>(),
                                 r.at("type").get<std::string>());
    }
    if (a.value("status", "success") == "error") {
      const json e = a.value(
          "error",
          json{{"code", "action_failed"}, {"message", "Action failed"}});
      rec.error = std::make_pair(e.at("code").get<std::string>(),
                                 e.at("message").get<std::string>());
    }
    rec.applied = true;
    m_actions[rec.id] = rec;
  }
  for (auto& f : m_cfg.faults) {
    Request r;
    r.method = "POST";
    r.path = "/__standin/faults";
    r.body = f.dump();
    (void)control(r);
  }
}

// ---- infrastructure
// --------------------------------------------------------------

json Project::render(json j) const {
  render_timestamps(j, m_cfg.timestamps);
  return j;
}

std::string Project::correlation_id() {
  return fmt::format("{:016x}", m_rng());
}

Reply Project::json_reply(int status, const json& body) {
  Reply r;
  r.status = status;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Reply Project::error_reply(const ApiError& e) {
  return json_reply(
      e.status,
      {{"error",
        {{"code", e.code}, {"message", e.message}, {"details", e.details}}}});
}

bool Project::take_token(int64_t now) {
  const double elapsed_s = static_cast<double>(now - m_last_refill_ms) / 1000.0;
  m_tokens = std::min(m_cfg.rate_capacity,
                      m_tokens + elapsed_s * m_cfg.rate_refill_per_s);
  m_last_refill_ms = now;
  if (m_tokens >= 1.0) {
    m_tokens -= 1.0;
    return true;
  }
  return false;
}

void Project::add_common_headers(Reply& reply, int64_t now, bool exhausted) {
  const double deficit = m_cfg.rate_capacity - m_tokens;
  const auto reset_s =
      now / 1000
      + static_cast<int64_t>(std::ceil(deficit / m_cfg.rate_refill_per_s));
  reply.headers.emplace_back(
      "RateLimit-Limit",
      fmt::format("{}", static_cast<int64_t>(m_cfg.rate_capacity)));
  reply.headers.emplace_back(
      "RateLimit-Remaining",
      fmt::format("{}", exhausted ? 0 : static_cast<int64_t>(m_tokens)));
  reply.headers.emplace_back("RateLimit-Reset", fmt::format("{}", reset_s));
  reply.headers.emplace_back("X-Correlation-Id", correlation_id());
  reply.headers.emplace_back("Access-Control-Expose-Headers",
                             "Link,X-Correlation-ID");
}

std::optional<Fault> Project::match_fault(const Request& req) {
  for (auto it = m_faults.begin(); it != m_faults.end(); ++it) {
    Fault& f = *it;
    if (!f.method.empty() && f.method != req.method) {
      continue;
    }
    if (!f.uri.empty() && f.uri != req.target) {
      continue;
    }
    if (!f.path.empty() && f.path != req.path) {
      continue;
    }
    if (!f.path_prefix.empty() && !req.path.starts_with(f.path_prefix)) {
      continue;
    }
    if (f.skip > 0) {
      --f.skip;
      continue;
    }
    Fault hit = f;
    if (--f.remaining <= 0) {
      m_faults.erase(it);
    }
    return hit;
  }
  return std::nullopt;
}

void Project::tick() {
  const int64_t now = now_ms();
  while (true) {
    // Next due event: the earliest finished-but-unapplied action or timer.
    ActionRec* next_action = nullptr;
    for (auto& [id, a] : m_actions) {
      (void)id;
      if (!a.applied && a.finish_ms <= now
          && (next_action == nullptr || a.finish_ms < next_action->finish_ms)) {
        next_action = &a;
      }
    }
    auto next_timer = m_timers.end();
    for (auto it = m_timers.begin(); it != m_timers.end(); ++it) {
      if (it->first <= now
          && (next_timer == m_timers.end() || it->first < next_timer->first)) {
        next_timer = it;
      }
    }
    if (next_action == nullptr && next_timer == m_timers.end()) {
      return;
    }
    if (next_action != nullptr
        && (next_timer == m_timers.end()
            || next_action->finish_ms <= next_timer->first)) {
      next_action->applied = true;
      if (next_action->on_finish) {
        next_action->on_finish(!next_action->error.has_value());
      }
    } else {
      auto fn = std::move(next_timer->second);
      m_timers.erase(next_timer);
      fn();
    }
  }
}

Reply Project::handle(const Request& req) {
  std::lock_guard<std::mutex> lock(m_mu);
  if (req.path.starts_with("/__standin/") || req.path == "/__standin") {
    try {
      return control(req);
    } catch (const ApiError& e) {
      return error_reply(e);
    } catch (const std::exception& e) {
      return error_reply(ApiError{
          400, "invalid_input", std::string("control request: ") + e.what()});
    }
  }
  const int64_t now = now_ms();
  json entry = {{"method", req.method}, {"target", req.target}, {"t_ms", now}};
  const auto auth = req.headers.find("authorization");
  entry["authorization"] =
      auth == req.headers.end()
          ? "absent"
          : (auth->second == "Bearer " + m_cfg.token ? "valid" : "invalid");

  Reply reply;
  bool exhausted = false;
  if (auto fault = match_fault(req)) {
    entry["fault"] = fault->id;
    if (fault->status != 0) {
      if (fault->body == "json") {
        reply = error_reply(ApiError{
            fault->status, fault->code, fault->message, fault->details});
      } else {
        reply.status = fault->status;
        if (fault->body == "text") {
          reply.body = fmt::format(
              "<html><body><h1>{} error</h1></body></html>\n", fault->status);
          reply.headers.emplace_back("Content-Type", "text/html");
        }
      }
      exhausted = fault->status == 429;
    } else {
      reply = api(req);
    }
    reply.delay_ms = fault->delay_ms;
    reply.drop = fault->drop;
    add_common_headers(reply, now, exhausted);
    if (fault->reset_after_s >= 0) {
      for (auto& [k, v] : reply.headers) {
        if (k == "RateLimit-Reset") {
          v = fmt::format("{}", now / 1000 + fault->reset_after_s);
        }
      }
    }
    for (const auto& [k, v] : fault->headers) {
      reply.headers.emplace_back(k, v);
    }
  } else if (!take_token(now)) {
    reply = error_reply(
        ApiError{429,
                 "rate_limit_exceeded",
                 fmt::format("limit of {} requests per hour reached",
                             static_cast<int64_t>(m_cfg.rate_capacity))});
    add_common_headers(reply, now, true);
  } else {
    reply = api(req);
    add_common_headers(reply, now, false);
  }
  entry["status"] = reply.status;
  for (const auto& [k, v] : reply.headers) {
    if (k == "X-Correlation-Id") {
      entry["correlation_id"] = v;
    }
  }
  m_log.push_back(entry);
  return reply;
}

Reply Project::api(const Request& req) {
  try {
    const auto auth = req.headers.find("authorization");
    if (auth == req.headers.end() || m_cfg.token.empty()
        || auth->second != "Bearer " + m_cfg.token) {
      throw_api(401, "unauthorized", "unable to authenticate");
    }
    tick();
    return route(req);
  } catch (const ApiError& e) {
    return error_reply(e);
  } catch (const std::exception& e) {
    return error_reply(
        ApiError{500,
                 "server_error",
                 std::string("stand-in internal error: ") + e.what()});
  }
}

Reply Project::list_reply(const Request& req,
                          const std::string& key,
                          std::vector<json> items) {
  const int64_t page = int_param(req, "page", 1);
  const int64_t per_page = std::min<int64_t>(
      int_param(req, "per_page", k_default_per_page), k_max_per_page);
  const auto total = static_cast<int64_t>(items.size());
  const int64_t last_page =
      std::max<int64_t>(1, (total + per_page - 1) / per_page);
  json page_items = json::array();
  for (int64_t i = (page - 1) * per_page; i < std::min(total, page * per_page);
       ++i) {
    page_items.push_back(render(items[static_cast<size_t>(i)]));
  }
  const json prev = page > 1 ? json(std::min(page - 1, last_page)) : json();
  const json next = page < last_page ? json(page + 1) : json();
  json body = {{key, page_items},
               {"meta",
                {{"pagination",
                  {{"page", page},
                   {"per_page", per_page},
                   {"previous_page", prev},
                   {"next_page", next},
                   {"last_page", last_page},
                   {"total_entries", total}}}}}};
  Reply r = json_reply(200, body);

  // Link header with the other query parameters preserved.
  std::string base;
  for (const auto& [k, v] : req.query) {
    if (k != "page" && k != "per_page") {
      base += url_encode(k) + "=" + url_encode(v) + "&";
    }
  }
  const auto host = req.headers.count("host") != 0 ? req.headers.at("host")
                                                   : std::string("127.0.0.1");
  auto link = [&](int64_t p, const char* rel) {
    return fmt::format("<http://{}{}?{}page={}&per_page={}>; rel=\"{}\"",
                       host,
                       req.path,
                       base,
                       p,
                       per_page,
                       rel);
  };
  std::vector<std::string> links;
  if (!prev.is_null()) {
    links.push_back(link(prev.get<int64_t>(), "prev"));
  }
  if (!next.is_null()) {
    links.push_back(link(next.get<int64_t>(), "next"));
  }
  links.push_back(link(last_page, "last"));
  std::string header;
  for (const auto& l : links) {
    header += (header.empty() ? "" : ", ") + l;
  }
  r.headers.emplace_back("Link", header);
  if (!next.is_null()) {
    r.headers.emplace_back("x-next", link(next.get<int64_t>(), "next"));
  }
  return r;
}

// ---- actions
// ------------------------------------------------------------------------

ActionRec&
Project::start_action(const std::string& command,
                      std::vector<std::pair<int64_t, std::string>> resources,
                      std::function<void(bool)> on_finish,
                      int64_t duration_scale) {
  ActionRec a;
  a.id = m_next_action_id++;
  a.command = command;
  a.started_ms = now_ms();
  auto dur = m_cfg.command_ms.find(command);
  int64_t duration =
      (dur != m_cfg.command_ms.end() ? dur->second : m_cfg.action_ms)
      * duration_scale;
  a.resources = std::move(resources);
  for (auto it = m_action_faults.begin(); it != m_action_faults.end(); ++it) {
    const bool resource_ok = it->resource_id == 0
                             || std::any_of(a.resources.begin(),
                                            a.resources.end(),
                                            [&](const auto& r) {
                                              return r.first == it->resource_id;
                                            });
    if (it->command == command && resource_ok) {
      a.error = std::make_pair(it->code, it->message);
      if (it->duration_ms >= 0) {
        duration = it->duration_ms;
      }
      if (--it->remaining <= 0) {
        m_action_faults.erase(it);
      }
      break;
    }
  }
  a.finish_ms = a.started_ms + duration;
  a.on_finish = std::move(on_finish);
  const int64_t id = a.id;
  m_actions[id] = std::move(a);
  return m_actions[id];
}

bool Project::action_running(const ActionRec& a, int64_t now) const {
  return !a.applied && now < a.finish_ms;
}

json Project::render_action(const ActionRec& a, int64_t now) const {
  const bool done = a.applied || now >= a.finish_ms;
  json resources = json::array();
  for (const auto& [id, type] : a.resources) {
    resources.push_back({{"id", id}, {"type", type}});
  }
  int64_t progress = 100;
  if (!done) {
    const int64_t span = std::max<int64_t>(1, a.finish_ms - a.started_ms);
    progress = std::clamp<int64_t>((now - a.started_ms) * 100 / span, 0, 99);
  }
  json j = {{"id", a.id},
            {"command", a.command},
            {"status", !done ? "running" : (a.error ? "error" : "success")},
            {"progress", progress},
            {"started", a.started_ms},
            {"finished", done ? json(a.finish_ms) : json()},
            {"resources", resources},
            {"error",
             done && a.error
                 ? json{{"code", a.error->first}, {"message", a.error->second}}
                 : json()}};
  return j;
}

void Project::check_not_locked(int64_t server_id) {
  const int64_t now = now_ms();
  for (const auto& [id, a] : m_actions) {
    (void)id;
    if (!action_running(a, now)) {
      continue;
    }
    for (const auto& r : a.resources) {
      if (r.first == server_id && r.second == "server") {
        throw_api(
            423, "locked", "cannot perform operation because server is locked");
      }
    }
  }
}

// ---- resources
// ----------------------------------------------------------------------

json& Project::server_or_404(int64_t id) {
  auto it = m_servers.find(id);
  if (it == m_servers.end()) {
    throw_not_found(fmt::format("server with ID '{}'", id));
  }
  return it->second;
}

FirewallRec& Project::firewall_or_404(int64_t id) {
  auto it = m_firewalls.find(id);
  if (it == m_firewalls.end()) {
    throw_not_found(fmt::format("firewall with ID '{}'", id));
  }
  return it->second;
}

size_t Project::firewall_count(int64_t server_id) const {
  const json& s = m_servers.at(server_id);
  size_t n = 0;
  for (const auto& [id, f] : m_firewalls) {
    (void)id;
    bool applied = std::any_of(
        f.servers.begin(), f.servers.end(), [&](const AppliedServer& a) {
          return a.server_id == server_id;
        });
    for (const auto& sel : f.selectors) {
      applied =
          applied || selector_matches(parse_selector(sel), s.at("labels"));
    }
    n += applied ? 1 : 0;
  }
  return n;
}

json Project::render_server(const json& s) const {
  json out = s;
  const int64_t id = s.at("id").get<int64_t>();
  json fws = json::array();
  for (const auto& [fid, f] : m_firewalls) {
    bool listed = false;
    for (const auto& a : f.servers) {
      if (a.server_id == id) {
        fws.push_back(
            {{"id", fid}, {"status", a.pending ? "pending" : "applied"}});
        listed = true;
      }
    }
    for (const auto& sel : f.selectors) {
      if (!listed && selector_matches(parse_selector(sel), s.at("labels"))) {
        fws.push_back({{"id", fid}, {"status", "applied"}});
        listed = true;
      }
    }
  }
  out["public_net"]["firewalls"] = fws;
  json vols = json::array();
  for (const auto& [vid, v] : m_volumes) {
    if (v.at("server") == id) {
      vols.push_back(vid);
    }
  }
  out["volumes"] = vols;
  return out;
}

json Project::render_firewall(const FirewallRec& f) const {
  json applied = json::array();
  for (const auto& a : f.servers) {
    applied.push_back({{"type", "server"}, {"server", {{"id", a.server_id}}}});
  }
  for (const auto& sel : f.selectors) {
    json resources = json::array();
    const auto terms = parse_selector(sel);
    for (const auto& [sid, s] : m_servers) {
      if (selector_matches(terms, s.at("labels"))) {
        resources.push_back({{"type", "server"}, {"server", {{"id", sid}}}});
      }
    }
    applied.push_back({{"type", "label_selector"},
                       {"label_selector", {{"selector", sel}}},
                       {"applied_to_resources", resources}});
  }
  return {{"id", f.id},
          {"name", f.name},
          {"labels", f.labels},
          {"created", f.created_ms},
          {"rules", f.rules},
          {"applied_to", applied}};
}

json Project::validated_rules(const json& rules, FieldErrors& errors) const {
  json out = json::array();
  if (rules.is_null()) {
    return out;
  }
  if (!rules.is_array()) {
    errors.add("rules", "must be an array");
    return out;
  }
  static const std::set<std::string> k_protocols = {
      "tcp", "udp", "icmp", "esp", "gre"};
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    const std::string f = fmt::format("rules[{}]", i);
    if (!r.is_object()) {
      errors.add(f, "must be an object");
      continue;
    }
    const std::string direction = r.value("direction", json()).is_string()
                                      ? r.at("direction").get<std::string>()
                                      : "";
    const std::string protocol = r.value("protocol", json()).is_string()
                                     ? r.at("protocol").get<std::string>()
                                     : "";
    if (!r.contains("direction")) {
      errors.add(f + ".direction", "is required");
    } else if (direction != "in" && direction != "out") {
      errors.add(f + ".direction", "must be one of: in, out");
    }
    if (!r.contains("protocol")) {
      errors.add(f + ".protocol", "is required");
    } else if (k_protocols.count(protocol) == 0) {
      errors.add(f + ".protocol", "must be one of: tcp, udp, icmp, esp, gre");
    }
    json port = r.value("port", json());
    if (protocol == "tcp" || protocol == "udp") {
      if (!port.is_string()) {
        errors.add(f + ".port", "is required for tcp and udp");
      } else if (!valid_port(port.get<std::string>())) {
        errors.add(f + ".port",
                   "must be a port (1-65535) or a range like 1024-5000");
      }
    } else if (!port.is_null()) {
      errors.add(f + ".port", "is only allowed for tcp and udp");
    }
    json description = r.value("description", json());
    if (!description.is_null()
        && (!description.is_string()
            || description.get<std::string>().size() > 255)) {
      errors.add(f + ".description",
                 "must be a string of at most 255 characters");
    }
    json lists[2] = {json::array(), json::array()};
    const char* names[2] = {"source_ips", "destination_ips"};
    for (int k = 0; k < 2; ++k) {
      const json v = r.value(names[k], json());
      const bool wanted = (k == 0) == (direction == "in");
      if (v.is_null() || (v.is_array() && v.empty())) {
        if (wanted && !direction.empty()) {
          errors.add(f + "." + names[k],
                     "is required for direction " + direction);
        }
        continue;
      }
      if (!wanted) {
        errors.add(f + "." + names[k],
                   "is not allowed for direction " + direction);
        continue;
      }
      if (!v.is_array()) {
        errors.add(f + "." + names[k], "must be an array");
        continue;
      }
      if (v.size() > k_max_cidrs_per_list) {
        errors.add(f + "." + names[k],
                   "must not contain more than 100 entries");
      }
      for (size_t j = 0; j < v.size(); ++j) {
        if (!v[j].is_string()) {
          errors.add(fmt::format("{}.{}[{}]", f, names[k], j),
                     "must be a string");
          continue;
        }
        auto [canon, err] = canonical_cidr(v[j].get<std::string>());
        if (!err.empty()) {
          errors.add(fmt::format("{}.{}[{}]", f, names[k], j),
                     fmt::format("'{}' {}", v[j].get<std::string>(), err));
        } else {
          lists[k].push_back(canon);
        }
      }
    }
    out.push_back(
        {{"description", description},
         {"direction", direction},
         {"protocol", protocol},
         {"port", protocol == "tcp" || protocol == "udp" ? port : json()},
         {"source_ips", lists[0]},
         {"destination_ips", lists[1]}});
  }
  return out;
}

// ---- routing
// ------------------------------------------------------------------------

Reply Project::route(const Request& req) {
  const auto seg = split_path(req.path);
  if (seg.empty() || seg[0] != "v1") {
    throw_not_found("resource");
  }
  const std::string& m = req.method;
  const size_t n = seg.size();
  auto id_at = [&](size_t i) {
    auto id = parse_id(seg[i]);
    if (!id) {
      throw_not_found(fmt::format("resource '{}'", seg[i]));
    }
    return *id;
  };
  auto method_not_allowed = [&]() -> Reply {
    throw_api(405, "method_not_allowed", "method not allowed: " + m);
  };
  if (n < 2) {
    throw_not_found("resource");
  }
  const std::string& kind = seg[1];
  if (kind == "servers") {
    if (n == 2) {
      return m == "GET"
                 ? list_servers(req)
                 : (m == "POST" ? create_server(req) : method_not_allowed());
    }
    if (seg[2] == "actions") {
      if (n == 3) {
        return m == "GET" ? list_actions(req, std::nullopt, false, true)
                          : method_not_allowed();
      }
      if (n == 4) {
        return m == "GET" ? get_action(id_at(3), std::nullopt)
                          : method_not_allowed();
      }
      throw_not_found("resource");
    }
    const int64_t id = id_at(2);
    if (n == 3) {
      if (m == "GET") {
        return json_reply(
            200, {{"server", render(render_server(server_or_404(id)))}});
      }
      return m == "DELETE" ? delete_server(id) : method_not_allowed();
    }
    if (n >= 4 && seg[3] == "actions") {
      if (n == 4) {
        server_or_404(id);
        return m == "GET" ? list_actions(req, id, false, false)
                          : method_not_allowed();
      }
      if (n == 5) {
        if (auto action_id = parse_id(seg[4])) {
          return m == "GET" ? get_action(*action_id, id) : method_not_allowed();
        }
        return m == "POST" ? server_action(id, seg[4], req)
                           : method_not_allowed();
      }
    }
    throw_not_found("resource");
  }
  if (kind == "actions") {
    if (n == 2) {
      return m == "GET" ? list_actions(req, std::nullopt, true, false)
                        : method_not_allowed();
    }
    if (n == 3) {
      return m == "GET" ? get_action(id_at(2), std::nullopt)
                        : method_not_allowed();
    }
    throw_not_found("resource");
  }
  if (kind == "images") {
    if (n == 2) {
      return m == "GET" ? list_images(req) : method_not_allowed();
    }
    if (n == 3) {
      if (m != "GET") {
        return method_not_allowed();
      }
      auto it = m_images.find(id_at(2));
      if (it == m_images.end()) {
        throw_not_found(fmt::format("image with ID '{}'", seg[2]));
      }
      return json_reply(200, {{"image", render(it->second)}});
    }
    throw_not_found("resource");
  }
  if (kind == "firewalls") {
    if (n == 2) {
      return m == "GET"
                 ? list_firewalls(req)
                 : (m == "POST" ? create_firewall(req) : method_not_allowed());
    }
    const int64_t id = id_at(2);
    if (n == 3) {
      if (m == "GET") {
        return json_reply(
            200, {{"firewall", render(render_firewall(firewall_or_404(id)))}});
      }
      return m == "DELETE" ? delete_firewall(id) : method_not_allowed();
    }
    if (n == 5 && seg[3] == "actions" && m == "POST") {
      if (seg[4] == "apply_to_resources") {
        return firewall_apply(id, req);
      }
      if (seg[4] == "remove_from_resources") {
        return firewall_remove(id, req);
      }
    }
    throw_not_found("resource");
  }
  if (kind == "ssh_keys" || kind == "volumes") {
    const auto& items = kind == "ssh_keys" ? m_ssh_keys : m_volumes;
    if (n == 2) {
      if (m != "GET") {
        return method_not_allowed();
      }
      return list_simple(
          req,
          items,
          kind,
          kind == "ssh_keys"
              ? std::vector<std::string>{"id", "name"}
              : std::vector<std::string>{"id", "name", "created"});
    }
    if (n == 3 && m == "GET") {
      auto it = items.find(id_at(2));
      if (it == items.end()) {
        throw_not_found(fmt::format("{} with ID '{}'",
                                    kind == "ssh_keys" ? "SSH key" : "volume",
                                    seg[2]));
      }
      return json_reply(
          200,
          {{kind == "ssh_keys" ? "ssh_key" : "volume", render(it->second)}});
    }
    throw_not_found("resource");
  }
  throw_not_found("resource");
}

// ---- handlers
// -------------------------------------------------------------------------

Reply Project::list_simple(const Request& req,
                           const std::map<int64_t, json>& items,
                           const std::string& key,
                           const std::vector<std::string>& sorts) {
  std::vector<std::vector<SelectorTerm>> selector;
  if (auto sel = query_one(req, "label_selector")) {
    selector.push_back(parse_selector(*sel));
  }
  const auto name = query_one(req, "name");
  const auto fingerprint = query_one(req, "fingerprint");
  const auto statuses = query_all(req, "status");
  std::vector<json> out;
  for (const auto& [id, item] : items) {
    (void)id;
    if (name && item.at("name") != *name) {
      continue;
    }
    if (fingerprint && item.value("fingerprint", "") != *fingerprint) {
      continue;
    }
    if (!statuses.empty()
        && std::find(statuses.begin(), statuses.end(), item.value("status", ""))
               == statuses.end()) {
      continue;
    }
    if (!selector.empty()
        && !selector_matches(selector.front(), item.at("labels"))) {
      continue;
    }
    out.push_back(item);
  }
  apply_sort(req, out, sorts);
  return list_reply(req, key, std::move(out));
}

Reply Project::list_servers(const Request& req) {
  std::map<int64_t, json> rendered;
  for (const auto& [id, s] : m_servers) {
    rendered[id] = render_server(s);
  }
  return list_simple(req, rendered, "servers", {"id", "name", "created"});
}

Reply Project::list_images(const Request& req) {
  const auto types = query_all(req, "type");
  const auto arch = query_one(req, "architecture");
  const auto bound_to = query_all(req, "bound_to");
  std::map<int64_t, json> filtered;
  for (const auto& [id, img] : m_images) {
    if (!types.empty()
        && std::find(
               types.begin(), types.end(), img.at("type").get<std::string>())
               == types.end()) {
      continue;
    }
    if (arch && img.at("architecture") != *arch) {
      continue;
    }
    if (!bound_to.empty()
        && (img.at("bound_to").is_null()
            || std::find(
                   bound_to.begin(), bound_to.end(), img.at("bound_to").dump())
                   == bound_to.end())) {
      continue;
    }
    filtered[id] = img;
  }
  // `name` is null for snapshots; list_simple compares with at("name").
  std::map<int64_t, json> named;
  const auto name = query_one(req, "name");
  for (auto& [id, img] : filtered) {
    if (name && img.at("name") != *name) {
      continue;
    }
    named[id] = img;
  }
  Request without_name = req;
  without_name.query.erase("name");
  return list_simple(without_name, named, "images", {"id", "name", "created"});
}

Reply Project::list_firewalls(const Request& req) {
  std::map<int64_t, json> rendered;
  for (const auto& [id, f] : m_firewalls) {
    rendered[id] = render_firewall(f);
  }
  return list_simple(req, rendered, "firewalls", {"id", "name", "created"});
}

Reply Project::list_actions(const Request& req,
                            std::optional<int64_t> server_id,
                            bool by_ids,
                            bool all_servers) {
  const int64_t now = now_ms();
  std::vector<int64_t> ids;
  for (const auto& s : query_all(req, "id")) {
    auto id = parse_id(s);
    if (!id) {
      throw_api(
          422,
          "invalid_input",
          "invalid input in field 'id': must be a positive integer",
          {{"fields",
            json::array({{{"name", "id"},
                          {"messages", {"must be a positive integer"}}}})}});
    }
    ids.push_back(*id);
  }
  if (by_ids && ids.empty()) {
    throw_api(
        422,
        "invalid_input",
        "invalid input in field 'id': is required",
        {{"fields",
          json::array({{{"name", "id"}, {"messages", {"is required"}}}})}});
  }
  const auto statuses = query_all(req, "status");
  std::vector<json> out;
  for (const auto& [id, a] : m_actions) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) {
      continue;
    }
    const bool on_server =
        std::any_of(a.resources.begin(), a.resources.end(), [&](const auto& r) {
          return r.second == "server" && (!server_id || r.first == *server_id);
        });
    if ((server_id || all_servers) && !on_server) {
      continue;
    }
    json j = render_action(a, now);
    if (!statuses.empty()
        && std::find(statuses.begin(),
                     statuses.end(),
                     j.at("status").get<std::string>())
               == statuses.end()) {
      continue;
    }
    out.push_back(std::move(j));
  }
  apply_sort(req, out, {"id", "command", "status", "started", "finished"});
  return list_reply(req, "actions", std::move(out));
}

Reply Project::get_action(int64_t id, std::optional<int64_t> server_id) {
  auto it = m_actions.find(id);
  const bool ok =
      it != m_actions.end()
      && (!server_id
          || std::any_of(it->second.resources.begin(),
                         it->second.resources.end(),
                         [&](const auto& r) {
                           return r.first == *server_id && r.second == "server";
                         }));
  if (!ok) {
    throw_not_found(fmt::format("action with ID '{}'", id));
  }
  return json_reply(200,
                    {{"action", render(render_action(it->second, now_ms()))}});
}

Reply Project::server_action(int64_t id,
                             const std::string& name,
                             const Request& req) {
  json& server = server_or_404(id);
  static const std::set<std::string> k_known = {
      "create_image", "poweroff", "shutdown", "poweron"};
  if (k_known.count(name) == 0) {
    throw_not_found("resource");
  }
  const json body = parse_body(req, true);
  check_not_locked(id);
  const int64_t now = now_ms();
  if (name == "create_image") {
    FieldErrors errors;
    const json type = body.value("type", json("snapshot"));
    if (!type.is_string() || (type != "snapshot" && type != "backup")) {
      errors.add("type", "must be one of: snapshot, backup");
    }
    const json description = body.value("description", json());
    if (!description.is_null() && !description.is_string()) {
      errors.add("description", "must be a string");
    }
    validate_labels(body.value("labels", json()), "labels", errors);
    errors.raise_if_any();
    const int64_t image_id = m_next_id++;
    const json& src = server.at("image");
    m_images[image_id] = {
        {"id", image_id},
        {"type", type},
        {"status", "creating"},
        {"name", nullptr},
        {"description",
         description.is_string()
             ? description.get<std::string>()
             : fmt::format("{}-{}",
                           server.at("name").get<std::string>(),
                           format_utc_compact(now))},
        {"image_size", nullptr},
        {"disk_size", server.at("primary_disk_size")},
        {"created", now},
        {"created_from", {{"id", id}, {"name", server.at("name")}}},
        {"bound_to", type == "backup" ? json(id) : json()},
        {"os_flavor", src.is_object() ? src.at("os_flavor") : json("unknown")},
        {"os_version", src.is_object() ? src.at("os_version") : json()},
        {"rapid_deploy", false},
        {"protection", {{"delete", false}}},
        {"deprecated", nullptr},
        {"deleted", nullptr},
        {"labels", body.value("labels", json::object())},
        {"architecture", server.at("server_type").at("architecture")}};
    ActionRec& a = start_action(
        "create_image", {{id, "server"}}, [this, image_id](bool ok) {
          auto it = m_images.find(image_id);
          if (it == m_images.end()) {
            return;
          }
          if (ok) {
            it->second["status"] = "available";
            it->second["image_size"] =
                std::round(it->second.at("disk_size").get<double>() * 14.0)
                / 100.0;
          } else {
            m_images.erase(it); // a failed snapshot does not survive
          }
        });
    return json_reply(201,
                      {{"image", render(m_images.at(image_id))},
                       {"action", render(render_action(a, now_ms()))}});
  }
  if (name == "poweroff" || name == "poweron") {
    const bool off = name == "poweroff";
    ActionRec& a = start_action(off ? "stop_server" : "start_server",
                                {{id, "server"}},
                                [this, id, off](bool ok) {
                                  auto it = m_servers.find(id);
                                  if (ok && it != m_servers.end()) {
                                    it->second["status"] =
                                        off ? "off" : "running";
                                  }
                                });
    return json_reply(201, {{"action", render(render_action(a, now_ms()))}});
  }
  // shutdown: the action only says the ACPI request was sent (§2.8).
  ActionRec& a =
      start_action("shutdown_server", {{id, "server"}}, [this, id](bool ok) {
        const int64_t delay = m_cfg.shutdown_off_ms == -2
                                  ? m_cfg.action_ms
                                  : m_cfg.shutdown_off_ms;
        if (!ok || delay < 0) {
          return;
        }
        m_timers.emplace_back(now_ms() + delay, [this, id]() {
          auto it = m_servers.find(id);
          if (it != m_servers.end()) {
            it->second["status"] = "off";
          }
        });
      });
  return json_reply(201, {{"action", render(render_action(a, now_ms()))}});
}

Reply Project::delete_server(int64_t id) {
  json& server = server_or_404(id);
  check_not_locked(id);
  server["status"] = "deleting";
  ActionRec& a =
      start_action("delete_server", {{id, "server"}}, [this, id](bool ok) {
        if (!ok) {
          return;
        }
        m_servers.erase(id);
        for (auto& [vid, v] : m_volumes) {
          (void)vid;
          if (v.at("server") == id) {
            v["server"] = nullptr;
          }
        }
        for (auto& [fid, f] : m_firewalls) {
          (void)fid;
          std::erase_if(f.servers, [&](const AppliedServer& s) {
            return s.server_id == id;
          });
        }
        // Backups are bound to their server; snapshots outlive it.
        std::erase_if(m_images, [&](const auto& kv) {
          return kv.second.at("bound_to") == id;
        });
      });
  return json_reply(200, {{"action", render(render_action(a, now_ms()))}});
}

Reply Project::create_server(const Request& req) {
  const json body = parse_body(req, false);
  FieldErrors errors;
  const json name = body.value("name", json());
  if (!name.is_string()) {
    errors.add("name", "is required");
  } else if (!valid_hostname(name.get<std::string>())) {
    errors.add("name", "must be a valid hostname (RFC 1123)");
  }
  const json* type = nullptr;
  if (!body.contains("server_type")) {
    errors.add("server_type", "is required");
  } else if ((type = find_catalog("server_types", body.at("server_type")))
             == nullptr) {
    errors.add("server_type", "server type not found");
  }
  const std::string arch =
      type != nullptr ? type->at("architecture").get<std::string>() : "";
  const json* image = nullptr;
  if (!body.contains("image")) {
    errors.add("image", "is required");
  } else if ((image = find_catalog("images", body.at("image"), arch)) == nullptr
             || image->at("status") != "available") {
    errors.add("image", "image not found or not available");
    image = nullptr;
  } else if (type != nullptr && image->at("architecture") != arch) {
    errors.add("image", "image architecture does not match the server type");
  }
  json location;
  const json loc_arg = body.value("location", json("fsn1"));
  for (const auto& l : m_catalog.at("locations")) {
    if ((loc_arg.is_string()
         && (l.at("name") == loc_arg
             || l.at("id").dump() == loc_arg.get<std::string>()))
        || l.at("id") == loc_arg) {
      location = l;
    }
  }
  if (location.is_null()) {
    errors.add("location", "location not found");
  }
  std::vector<int64_t> key_ids;
  for (const auto& k : body.value("ssh_keys", json::array())) {
    bool found = false;
    for (const auto& [kid, key] : m_ssh_keys) {
      if (k == kid
          || (k.is_string()
              && (key.at("name") == k
                  || std::to_string(kid) == k.get<std::string>()))) {
        key_ids.push_back(kid);
        found = true;
      }
    }
    if (!found) {
      errors.add("ssh_keys", fmt::format("SSH key {} not found", k.dump()));
    }
  }
  std::vector<int64_t> fw_ids;
  for (const auto& f : body.value("firewalls", json::array())) {
    const json fid = f.is_object() ? f.value("firewall", json()) : json();
    if (!fid.is_number_integer()
        || m_firewalls.count(fid.get<int64_t>()) == 0) {
      errors.add("firewalls", fmt::format("firewall {} not found", f.dump()));
    } else {
      fw_ids.push_back(fid.get<int64_t>());
    }
  }
  validate_labels(body.value("labels", json()), "labels", errors);
  const json user_data = body.value("user_data", json());
  if (!user_data.is_null()
      && (!user_data.is_string()
          || user_data.get<std::string>().size() > 32 * 1024)) {
    errors.add("user_data", "must be a string of at most 32 KiB");
  }
  const json start = body.value("start_after_create", json(true));
  if (!start.is_boolean()) {
    errors.add("start_after_create", "must be a boolean");
  }
  errors.raise_if_any();
  for (const auto& [sid, s] : m_servers) {
    (void)sid;
    if (s.at("name") == name) {
      throw_api(409,
                "uniqueness_error",
                "server name is already used",
                {{"fields", json::array({{{"name", "name"}}})}});
    }
  }
  const json pn = body.value("public_net", json::object());
  const int ip = m_next_ip++;
  const json ipv4 = pn.value("enable_ipv4", true)
                        ? json(fmt::format("192.0.2.{}", ip % 250 + 1))
                        : json();
  const json ipv6 = pn.value("enable_ipv6", true)
                        ? json(fmt::format("2001:db8:ffff:{:x}::/64", ip))
                        : json();
  const int64_t id = m_next_id++;
  const bool start_after = start.get<bool>();
  m_servers[id] = make_server(id,
                              name.get<std::string>(),
                              "initializing",
                              now_ms(),
                              *type,
                              location,
                              *image,
                              ipv4,
                              ipv6,
                              body.value("labels", json::object()),
                              json::object());
  ActionRec& create = start_action(
      "create_server", {{id, "server"}}, [this, id, start_after](bool ok) {
        auto it = m_servers.find(id);
        if (it != m_servers.end()) {
          it->second["status"] = ok && start_after ? "starting" : "off";
        }
      });
  const int64_t now = now_ms();
  json action = render(render_action(create, now));
  json next = json::array();
  if (start_after) {
    ActionRec& s = start_action(
        "start_server",
        {{id, "server"}},
        [this, id](bool ok) {
          auto it = m_servers.find(id);
          if (ok && it != m_servers.end()) {
            it->second["status"] = "running";
          }
        },
        2);
    next.push_back(render(render_action(s, now)));
  }
  for (int64_t fid : fw_ids) {
    m_firewalls.at(fid).servers.push_back({id, true, false});
    ActionRec& a = start_action("apply_firewall",
                                {{id, "server"}, {fid, "firewall"}},
                                [this, id, fid](bool ok) {
                                  auto it = m_firewalls.find(fid);
                                  if (it == m_firewalls.end()) {
                                    return;
                                  }
                                  for (auto& s : it->second.servers) {
                                    if (s.server_id == id) {
                                      s.pending = false;
                                    }
                                  }
                                  if (!ok) {
                                    std::erase_if(it->second.servers,
                                                  [&](const AppliedServer& s) {
                                                    return s.server_id == id;
                                                  });
                                  }
                                });
    next.push_back(render(render_action(a, now)));
  }
  json password = nullptr;
  if (key_ids.empty()) {
    password = fmt::format("{:016x}", m_rng()).substr(0, 16);
  }
  return json_reply(201,
                    {{"server", render(render_server(m_servers.at(id)))},
                     {"action", action},
                     {"next_actions", next},
                     {"root_password", password}});
}

Reply Project::create_firewall(const Request& req) {
  const json body = parse_body(req, false);
  FieldErrors errors;
  const json name = body.value("name", json());
  if (!name.is_string() || name.get<std::string>().empty()) {
    errors.add("name", "is required");
  } else if (name.get<std::string>().size() > 128) {
    errors.add("name", "must be at most 128 characters");
  }
  validate_labels(body.value("labels", json()), "labels", errors);
  const json rules =
      validated_rules(body.value("rules", json::array()), errors);
  std::vector<int64_t> servers;
  std::vector<std::string> selectors;
  const json apply_to = body.value("apply_to", json::array());
  if (!apply_to.is_array()) {
    errors.add("apply_to", "must be an array");
  } else {
    for (size_t i = 0; i < apply_to.size(); ++i) {
      const json& a = apply_to[i];
      const std::string type = a.is_object() ? a.value("type", "") : "";
      if (type == "server" && a.contains("server")
          && a.at("server").value("id", json()).is_number_integer()) {
        servers.push_back(a.at("server").at("id").get<int64_t>());
      } else if (type == "label_selector" && a.contains("label_selector")
                 && a.at("label_selector")
                        .value("selector", json())
                        .is_string()) {
        selectors.push_back(
            a.at("label_selector").at("selector").get<std::string>());
        (void)parse_selector(selectors.back());
      } else {
        errors.add(fmt::format("apply_to[{}]", i),
                   "must be {type: server, server: {id}} or {type: "
                   "label_selector, label_selector: {selector}}");
      }
    }
  }
  errors.raise_if_any();
  for (const auto& [fid, f] : m_firewalls) {
    (void)fid;
    if (f.name == name.get<std::string>()) {
      throw_api(409,
                "uniqueness_error",
                "firewall name is already used",
                {{"fields", json::array({{{"name", "name"}}})}});
    }
  }
  for (int64_t sid : servers) {
    if (m_servers.count(sid) == 0) {
      throw_api(422,
                "firewall_resource_not_found",
                fmt::format("server with ID '{}' not found", sid));
    }
    if (firewall_count(sid) >= k_max_firewalls_per_server) {
      throw_api(
          403,
          "resource_limit_exceeded",
          fmt::format("server {} already has 5 firewalls", sid),
          {{"limits", json::array({{{"name", "firewalls_per_server"}}})}});
    }
  }
  FirewallRec rec;
  rec.id = m_next_id++;
  rec.name = name.get<std::string>();
  rec.labels = body.value("labels", json::object());
  rec.created_ms = now_ms();
  rec.rules = rules;
  rec.selectors = selectors;
  const int64_t fid = rec.id;
  m_firewalls[fid] = rec;
  const int64_t now = now_ms();
  json actions = json::array();
  actions.push_back(render(render_action(
      start_action("set_firewall_rules", {{fid, "firewall"}}, nullptr), now)));
  for (int64_t sid : servers) {
    m_firewalls.at(fid).servers.push_back({sid, true, false});
    ActionRec& a = start_action("apply_firewall",
                                {{sid, "server"}, {fid, "firewall"}},
                                [this, sid, fid](bool ok) {
                                  auto it = m_firewalls.find(fid);
                                  if (it == m_firewalls.end()) {
                                    return;
                                  }
                                  for (auto& s : it->second.servers) {
                                    if (s.server_id == sid) {
                                      s.pending = false;
                                    }
                                  }
                                  if (!ok) {
                                    std::erase_if(it->second.servers,
                                                  [&](const AppliedServer& s) {
                                                    return s.server_id == sid;
                                                  });
                                  }
                                });
    actions.push_back(render(render_action(a, now)));
  }
  return json_reply(201,
                    {{"firewall", render(render_firewall(m_firewalls.at(fid)))},
                     {"actions", actions}});
}

Reply Project::delete_firewall(int64_t id) {
  FirewallRec& f = firewall_or_404(id);
  if (!f.servers.empty() || !f.selectors.empty()) {
    throw_api(422, "resource_in_use", "firewall is still applied to resources");
  }
  m_firewalls.erase(id);
  Reply r;
  r.status = 204;
  return r;
}

Reply Project::firewall_apply(int64_t id, const Request& req) {
  FirewallRec& f = firewall_or_404(id);
  const json body = parse_body(req, false);
  const json apply_to = body.value("apply_to", json());
  if (!apply_to.is_array() || apply_to.empty()) {
    FieldErrors e;
    e.add("apply_to", "is required");
    e.raise_if_any();
  }
  std::vector<int64_t> servers;
  std::vector<std::string> selectors;
  for (size_t i = 0; i < apply_to.size(); ++i) {
    const json& a = apply_to[i];
    const std::string type = a.is_object() ? a.value("type", "") : "";
    if (type == "server" && a.contains("server")
        && a.at("server").value("id", json()).is_number_integer()) {
      const int64_t sid = a.at("server").at("id").get<int64_t>();
      auto it = m_servers.find(sid);
      if (it == m_servers.end()) {
        throw_api(404,
                  "firewall_resource_not_found",
                  fmt::format("server with ID '{}' not found", sid));
      }
      if (std::any_of(
              f.servers.begin(), f.servers.end(), [&](const AppliedServer& s) {
                return s.server_id == sid;
              })) {
        throw_api(422,
                  "firewall_already_applied",
                  fmt::format("firewall is already applied to server {}", sid));
      }
      if (it->second.at("public_net").at("ipv4").is_null()
          && it->second.at("public_net").at("ipv6").is_null()) {
        throw_api(422,
                  "private_net_only_server",
                  fmt::format("server {} has no public interface", sid));
      }
      if (firewall_count(sid) >= k_max_firewalls_per_server) {
        throw_api(
            403,
            "resource_limit_exceeded",
            fmt::format("server {} already has 5 firewalls", sid),
            {{"limits", json::array({{{"name", "firewalls_per_server"}}})}});
      }
      check_not_locked(sid);
      servers.push_back(sid);
    } else if (type == "label_selector" && a.contains("label_selector")
               && a.at("label_selector")
                      .value("selector", json())
                      .is_string()) {
      const auto sel = a.at("label_selector").at("selector").get<std::string>();
      (void)parse_selector(sel);
      if (std::find(f.selectors.begin(), f.selectors.end(), sel)
          != f.selectors.end()) {
        throw_api(422,
                  "firewall_already_applied",
                  "firewall is already applied to label selector " + sel);
      }
      selectors.push_back(sel);
    } else {
      FieldErrors e;
      e.add(fmt::format("apply_to[{}]", i),
            "must be {type: server, server: {id}} or {type: label_selector, "
            "label_selector: {selector}}");
      e.raise_if_any();
    }
  }
  const int64_t now = now_ms();
  json actions = json::array();
  for (int64_t sid : servers) {
    f.servers.push_back({sid, true, false});
    ActionRec& a = start_action("apply_firewall",
                                {{sid, "server"}, {id, "firewall"}},
                                [this, sid, id](bool ok) {
                                  auto it = m_firewalls.find(id);
                                  if (it == m_firewalls.end()) {
                                    return;
                                  }
                                  for (auto& s : it->second.servers) {
                                    if (s.server_id == sid) {
                                      s.pending = false;
                                    }
                                  }
                                  if (!ok) {
                                    std::erase_if(it->second.servers,
                                                  [&](const AppliedServer& s) {
                                                    return s.server_id == sid;
                                                  });
                                  }
                                });
    actions.push_back(render(render_action(a, now)));
  }
  for (const auto& sel : selectors) {
    f.selectors.push_back(sel);
    actions.push_back(render(render_action(
        start_action("apply_firewall", {{id, "firewall"}}, nullptr), now)));
  }
  return json_reply(201, {{"actions", actions}});
}

Reply Project::firewall_remove(int64_t id, const Request& req) {
  FirewallRec& f = firewall_or_404(id);
  const json body = parse_body(req, false);
  const json remove_from = body.value("remove_from", json());
  if (!remove_from.is_array() || remove_from.empty()) {
    FieldErrors e;
    e.add("remove_from", "is required");
    e.raise_if_any();
  }
  std::vector<int64_t> servers;
  for (size_t i = 0; i < remove_from.size(); ++i) {
    const json& a = remove_from[i];
    if (!(a.is_object() && a.value("type", "") == "server"
          && a.contains("server")
          && a.at("server").value("id", json()).is_number_integer())) {
      FieldErrors e;
      e.add(fmt::format("remove_from[{}]", i),
            "must be {type: server, server: {id}}");
      e.raise_if_any();
    }
    const int64_t sid = a.at("server").at("id").get<int64_t>();
    auto it = m_servers.find(sid);
    const bool direct =
        std::any_of(f.servers.begin(),
                    f.servers.end(),
                    [&](const AppliedServer& s) { return s.server_id == sid; });
    if (!direct) {
      for (const auto& sel : f.selectors) {
        if (it != m_servers.end()
            && selector_matches(parse_selector(sel), it->second.at("labels"))) {
          throw_api(422,
                    "firewall_managed_by_label_selector",
                    fmt::format("firewall is applied to server {} through "
                                "label selector '{}'",
                                sid,
                                sel));
        }
      }
      throw_api(404,
                "firewall_resource_not_found",
                fmt::format("firewall is not applied to server {}", sid));
    }
    check_not_locked(sid);
    servers.push_back(sid);
  }
  const int64_t now = now_ms();
  json actions = json::array();
  for (int64_t sid : servers) {
    for (auto& s : f.servers) {
      if (s.server_id == sid) {
        s.removing = true;
      }
    }
    ActionRec& a = start_action("remove_firewall",
                                {{sid, "server"}, {id, "firewall"}},
                                [this, sid, id](bool ok) {
                                  auto it = m_firewalls.find(id);
                                  if (it == m_firewalls.end()) {
                                    return;
                                  }
                                  if (ok) {
                                    std::erase_if(it->second.servers,
                                                  [&](const AppliedServer& s) {
                                                    return s.server_id == sid;
                                                  });
                                  } else {
                                    for (auto& s : it->second.servers) {
                                      s.removing = false;
                                    }
                                  }
                                });
    actions.push_back(render(render_action(a, now)));
  }
  return json_reply(201, {{"actions", actions}});
}

// ---- control surface
// --------------------------------------------------------------

Reply Project::control(const Request& req) {
  const auto seg = split_path(req.path);
  const std::string what = seg.size() >= 2 ? seg[1] : "";
  auto items_of = [&](const json& body) {
    if (body.is_array()) {
      return body;
    }
    for (const char* key : {"faults", "action_faults"}) {
      if (body.is_object() && body.contains(key)) {
        return body.at(key);
      }
    }
    return json::array({body});
  };
  if (what == "health") {
    return json_reply(200, {{"ok", true}});
  }
  if (what == "faults") {
    if (req.method == "GET") {
      json out = json::array();
      for (const auto& f : m_faults) {
        json j = f.spec;
        j["id"] = f.id;
        j["remaining"] = f.remaining;
        out.push_back(j);
      }
      return json_reply(200, {{"faults", out}});
    }
    if (req.method == "DELETE") {
      m_faults.clear();
      return json_reply(200, {{"faults", json::array()}});
    }
    json body = json::parse(req.body);
    json ids = json::array();
    for (const auto& spec : items_of(body)) {
      Fault f;
      f.id = m_next_fault_id++;
      f.spec = spec;
      f.method = spec.value("method", "");
      f.path = spec.value("path", "");
      f.uri = spec.value("uri", "");
      f.path_prefix = spec.value("path_prefix", "");
      f.remaining = spec.value("count", int64_t{1});
      f.skip = spec.value("skip", int64_t{0});
      f.status = spec.value("status", 0);
      f.code = spec.value("code", "");
      f.message = spec.value("message",
                             f.code.empty() ? "" : "injected fault: " + f.code);
      f.details = spec.value("details", json());
      f.body = spec.value("body", "json");
      f.reset_after_s = spec.value("reset_after_s", int64_t{-1});
      f.delay_ms = spec.value("delay_ms", int64_t{0});
      f.drop = spec.value("drop", false);
      const json headers = spec.value("headers", json::object());
      for (const auto& [k, v] : headers.items()) {
        f.headers[k] = v.get<std::string>();
      }
      if (f.body != "json" && f.body != "bare" && f.body != "text") {
        throw_api(
            400, "invalid_input", "fault body must be json, bare or text");
      }
      if (f.status != 0 && f.body == "json" && f.code.empty()) {
        throw_api(400,
                  "invalid_input",
                  "a fault with status and a json body needs a code");
      }
      ids.push_back(f.id);
      m_faults.push_back(std::move(f));
    }
    return json_reply(201, {{"ids", ids}});
  }
  if (what == "action_faults") {
    json body = json::parse(req.body);
    for (const auto& spec : items_of(body)) {
      ActionFault f;
      f.spec = spec;
      f.command = spec.at("command").get<std::string>();
      f.resource_id = spec.value("resource_id", int64_t{0});
      f.remaining = spec.value("count", int64_t{1});
      f.code = spec.value("code", f.code);
      f.message = spec.value("message", f.message);
      f.duration_ms = spec.value("duration_ms", int64_t{-1});
      m_action_faults.push_back(std::move(f));
    }
    return json_reply(201, {{"action_faults", m_action_faults.size()}});
  }
  if (what == "config") {
    json body = json::parse(req.body);
    if (body.contains("action_ms")) {
      m_cfg.action_ms = body.at("action_ms").get<int64_t>();
    }
    const json command_ms = body.value("command_ms", json::object());
    for (const auto& [k, v] : command_ms.items()) {
      m_cfg.command_ms[k] = v.get<int64_t>();
    }
    if (body.contains("shutdown_off_ms")) {
      m_cfg.shutdown_off_ms = body.at("shutdown_off_ms").get<int64_t>();
    }
    if (body.contains("timestamps")) {
      m_cfg.timestamps = body.at("timestamps") == "offset"
                             ? TimestampStyle::offset
                             : TimestampStyle::z;
    }
    if (body.contains("rate_limit")) {
      m_cfg.rate_capacity =
          body.at("rate_limit").value("capacity", m_cfg.rate_capacity);
      m_cfg.rate_refill_per_s =
          body.at("rate_limit").value("refill_per_s", m_cfg.rate_refill_per_s);
      m_tokens = body.at("rate_limit").value("tokens", m_cfg.rate_capacity);
      m_last_refill_ms = now_ms();
    }
    return json_reply(200, {{"ok", true}});
  }
  if (what == "requests") {
    if (req.method == "DELETE") {
      m_log = json::array();
    }
    return json_reply(200, {{"requests", m_log}});
  }
  throw_not_found("control endpoint");
}

} // namespace detail

// ---- public
// -----------------------------------------------------------------------------

const nlohmann::json& builtin_catalog() {
  static const json k_catalog = json::parse(k_catalog_json);
  return k_catalog;
}

Result<std::unique_ptr<Standin>> Standin::create(Config config) {
  auto project = std::make_unique<detail::Project>(std::move(config));
  try {
    project->load_seed();
  } catch (const std::exception& e) {
    return fail(Errc::invalid_input, std::string("seed: ") + e.what());
  } catch (const ApiError& e) {
    return fail(Errc::invalid_input, "seed: " + e.message);
  }
  return std::unique_ptr<Standin>(new Standin(std::move(project)));
}

Standin::Standin(std::unique_ptr<detail::Project> project)
    : m_project(std::move(project)) {}

Standin::~Standin() = default;

Reply Standin::handle(const Request& request) {
  return m_project->handle(request);
}

} // namespace custody::hcloud_standin
