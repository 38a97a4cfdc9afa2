// hcloud::Client implementation.
//
// Every call goes through Impl::call(), which owns the retry loop and the
// exchange log. Lists go through Impl::list_all() (pagination), waits through
// Impl::poll() (poll backoff + deadline). The libcurl callbacks only append
// bytes to a buffer; they catch everything, so no exception crosses into C
// (curl/curl#3413 shows a handle left unusable after a throw).
#include "collector/hcloud_client.hpp"

#include "common/c_handle.hpp"
#include "common/digest.hpp"
#include "common/time.hpp"
#include "common/version.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace custody::collector::hcloud {

using json = nlohmann::json;

namespace {

constexpr int k_per_page = 50;
constexpr size_t k_action_batch = 25;
constexpr int64_t k_max_pages = 10'000;
constexpr size_t k_max_remote_text = 300;

using CurlPtr = CHandle<CURL, curl_easy_cleanup>;
using SlistPtr = CHandle<curl_slist, curl_slist_free_all>;

std::once_flag g_curl_once;
CURLcode g_curl_init_rc = CURLE_OK;

// Returns remote text safe to put in an error or a log line: control
// characters escaped as \xNN, at most `cap` bytes.
std::string sanitize(std::string_view text, size_t cap = k_max_remote_text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= cap) {
      out += "…";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9') || c == '-' || c == '_'
                            || c == '.' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

using Query = std::vector<std::pair<std::string, std::string>>;

std::string with_query(const std::string& path, const Query& query) {
  std::string out = path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep;
    out += url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  return out;
}

Query list_query(const ListOptions& o) {
  Query q;
  if (!o.name.empty()) {
    q.emplace_back("name", o.name);
  }
  if (!o.label_selector.empty()) {
    q.emplace_back("label_selector", o.label_selector);
  }
  for (const auto& s : o.status) {
    q.emplace_back("status", s);
  }
  for (const auto& s : o.sort) {
    q.emplace_back("sort", s);
  }
  return q;
}

std::string summarize_details(const json& details) {
  if (!details.is_object() || details.empty()) {
    return "";
  }
  std::string out;
  if (auto fields = details.find("fields");
      fields != details.end() && fields->is_array()) {
    out = "fields: ";
    size_t n = 0;
    for (const auto& f : *fields) {
      if (n++ == 5) {
        out += ", …";
        break;
      }
      out += n > 1 ? ", " : "";
      out += f.is_object() && f.contains("name") && f.at("name").is_string()
                 ? f.at("name").get<std::string>()
                 : "?";
      if (f.is_object() && f.contains("messages")
          && f.at("messages").is_array()) {
        std::string msgs;
        for (const auto& m : f.at("messages")) {
          if (m.is_string()) {
            msgs += (msgs.empty() ? "" : "; ") + m.get<std::string>();
          }
        }
        if (!msgs.empty()) {
          out += ": " + msgs;
        }
      }
    }
    return sanitize(out);
  }
  if (auto limits = details.find("limits");
      limits != details.end() && limits->is_array()) {
    out = "limits: ";
    for (const auto& l : *limits) {
      if (l.is_object() && l.contains("name") && l.at("name").is_string()) {
        out += (out.size() > 8 ? ", " : "") + l.at("name").get<std::string>();
      }
    }
    return sanitize(out);
  }
  if (auto ann = details.find("announcement");
      ann != details.end() && ann->is_string()) {
    return sanitize("announcement: " + ann->get<std::string>());
  }
  return sanitize(details.dump(), 200);
}

Errc errc_for(long status, const std::string& code) {
  if (status == 404 || code == "not_found") {
    return Errc::not_found;
  }
  if (code == "invalid_input" || code == "json_error" || status == 400) {
    return Errc::invalid_input;
  }
  if (status == 409 || status == 423 || code == "uniqueness_error"
      || code == "conflict") {
    return Errc::conflict;
  }
  return Errc::remote;
}

bool transient_curl_error(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SSL_CONNECT_ERROR:
    return true;
  default:
    return false;
  }
}

struct Sink {
  std::string body;
  std::map<std::string, std::string> headers; // lower-case names
  size_t cap = 0;
  bool overflow = false;
};

size_t write_cb(char* ptr, size_t size, size_t nmemb, void* userdata) noexcept {
  try {
    auto* sink = static_cast<Sink*>(userdata);
    const size_t n = size * nmemb;
    if (sink->body.size() + n > sink->cap) {
      sink->overflow = true;
      return 0; // makes curl fail with CURLE_WRITE_ERROR
    }
    sink->body.append(ptr, n);
    return n;
  } catch (...) {
    return 0;
  }
}

size_t
header_cb(char* buffer, size_t size, size_t nitems, void* userdata) noexcept {
  try {
    auto* sink = static_cast<Sink*>(userdata);
    const size_t n = size * nitems;
    std::string_view line(buffer, n);
    if (line.starts_with("HTTP/")) {
      sink->headers.clear(); // a new response (e.g. after 100 Continue)
      return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return n;
    }
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty()
           && (value.back() == '\r' || value.back() == '\n'
               || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    sink->headers[name] = std::string(value);
    return n;
  } catch (...) {
    return 0;
  }
}

std::optional<int64_t>
header_int(const std::map<std::string, std::string>& headers,
           const std::string& name) {
  auto it = headers.find(name);
  if (it == headers.end() || it->second.empty() || it->second.size() > 18) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

// Calls `parse` and turns a nlohmann exception (a value of an unexpected
// type deep inside) into an Errc::remote error.
template<typename T>
Result<T> parse_safely(Result<T> (*parse)(const json&),
                       const json& j,
                       const std::string& what) {
  try {
    auto r = parse(j);
    if (!r) {
      return tl::unexpected(with_context(r.error(), what));
    }
    return r;
  } catch (const json::exception& e) {
    return fail(
        Errc::remote,
        fmt::format("{}: malformed response: {}", what, sanitize(e.what())));
  }
}

json id_or_name_json(const IdOrName& v) {
  if (const auto* id = std::get_if<int64_t>(&v)) {
    return *id;
  }
  return std::get<std::string>(v);
}

bool is_loopback_endpoint(std::string_view url) {
  for (std::string_view prefix : {"http://", "https://"}) {
    if (url.starts_with(prefix)) {
      url.remove_prefix(prefix.size());
    }
  }
  for (std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
    if (url.starts_with(host)
        && (url.size() == host.size() || url[host.size()] == ':'
            || url[host.size()] == '/')) {
      return true;
    }
  }
  return false;
}

std::string id_list(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) {
    out += (out.empty() ? "" : ", ") + std::to_string(id);
  }
  return "[" + out + "]";
}

} // namespace

Clock Clock::system() {
  return Clock{
      [] { return custody::now_ms(); },
      [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }};
}

std::string describe_api_error(const ApiError& error) {
  std::string out = fmt::format("HTTP {}", error.http_status);
  if (!error.code.empty()) {
    out += " " + sanitize(error.code, 64);
  }
  if (!error.message.empty()) {
    out += ": " + sanitize(error.message);
  }
  const std::string details = summarize_details(error.details);
  if (!details.empty()) {
    out += " (" + details + ")";
  }
  return out;
}

struct Client::Impl {
  struct Call {
    std::string method;
    std::string path; // relative to the endpoint, with query
    std::optional<json> body;
    std::string what; // for errors: "get server 42"
    std::vector<int64_t>
        lock_servers; // servers whose running actions a 423 waits for
  };

  struct Response {
    long status = 0;
    std::string body;
    json parsed;
  };

  struct Attempt {
    CURLcode rc = CURLE_OK;
    long status = 0;
    Sink sink;
    std::string curl_error;
  };

  Impl(Token t, ClientOptions o, CurlPtr c)
      : token(std::move(t)),
        opt(std::move(o)),
        curl(std::move(c)),
        rng(opt.jitter_seed != 0 ? opt.jitter_seed : std::random_device{}()),
        log(opt.logger ? opt.logger : spdlog::default_logger()) {}

  Token token;
  ClientOptions opt;
  CurlPtr curl;
  std::vector<HttpExchange> exchanges;
  std::optional<ApiError> last_error;
  std::mt19937_64 rng;
  std::shared_ptr<spdlog::logger> log;
  bool loopback = is_loopback_endpoint(opt.endpoint);

  Attempt perform(const Call& c, const std::string& body_text);
  Result<Response> call(const Call& c);
  std::chrono::milliseconds backoff(int retry);
  Result<bool> wait_for_lock(const Call& c);

  template<typename T>
  Result<Reply<std::vector<T>>> list_all(const std::string& path,
                                         const Query& query,
                                         const std::string& key,
                                         Result<T> (*parse)(const json&),
                                         const std::string& what);
  Result<Reply<std::vector<Action>>>
  fetch_actions(const std::vector<int64_t>& ids);
  Result<Reply<std::vector<Action>>> poll(const std::vector<int64_t>& ids,
                                          const WaitOptions& options);

  template<typename T>
  Result<Reply<T>> get_one(const std::string& path,
                           const std::string& key,
                           Result<T> (*parse)(const json&),
                           const std::string& what) {
    CUSTODY_TRY_ASSIGN(auto resp, call({"GET", path, std::nullopt, what, {}}));
    CUSTODY_TRY_ASSIGN(T value,
                       parse_safely(parse,
                                    resp.parsed.is_object()
                                        ? resp.parsed.value(key, json())
                                        : json(),
                                    what));
    return Reply<T>{std::move(value), {std::move(resp.body)}};
  }

  Result<Reply<Action>> action_call(const Call& c) {
    CUSTODY_TRY_ASSIGN(auto resp, call(c));
    CUSTODY_TRY_ASSIGN(Action a,
                       parse_safely(parse_action,
                                    resp.parsed.value("action", json()),
                                    c.what));
    return Reply<Action>{std::move(a), {std::move(resp.body)}};
  }

  Result<Reply<std::vector<Action>>> actions_call(const Call& c) {
    CUSTODY_TRY_ASSIGN(auto resp, call(c));
    std::vector<Action> actions;
    const json list = resp.parsed.value("actions", json::array());
    if (!list.is_array()) {
      return fail(Errc::remote, c.what + ": response has no 'actions' array");
    }
    for (const auto& a : list) {
      CUSTODY_TRY_ASSIGN(Action action, parse_safely(parse_action, a, c.what));
      actions.push_back(std::move(action));
    }
    return Reply<std::vector<Action>>{std::move(actions),
                                      {std::move(resp.body)}};
  }
};

Client::Impl::Attempt Client::Impl::perform(const Call& c,
                                            const std::string& body_text) {
  Attempt a;
  a.sink.cap = opt.max_response_bytes;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  CURL* h = curl.get();
  curl_easy_reset(h); // keeps the connection cache

  SlistPtr headers;
  auto add_header = [&](const char* line) {
    curl_slist* next = curl_slist_append(headers.get(), line);
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  add_header("Accept: application/json");
  add_header("Expect:");
  if (c.body) {
    add_header("Content-Type: application/json");
  }
  const std::string url = opt.endpoint + c.path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  if (loopback) {
    // A local stand-in is never reached through an http_proxy from the
    // environment; remote endpoints honour the proxy settings.
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h,
                   CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(opt.connect_timeout.count()));
  curl_easy_setopt(
      h, CURLOPT_TIMEOUT_MS, static_cast<long>(opt.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, opt.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
  curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, token.reveal());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf.data());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a.sink);
  if (c.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h,
                     CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body_text.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_text.c_str());
  } else if (c.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
  }

  a.rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
  if (a.rc != CURLE_OK) {
    a.curl_error = errbuf[0] != '\0' ? std::string(errbuf.data())
                                     : std::string(curl_easy_strerror(a.rc));
    if (a.sink.overflow) {
      a.curl_error =
          fmt::format("response larger than {} bytes", opt.max_response_bytes);
    }
  }
  // Drop the token and our stack buffers from the handle before returning.
  curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, "");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
  return a;
}

std::chrono::milliseconds Client::Impl::backoff(int retry) {
  const auto base = static_cast<double>(opt.retry.base_delay.count());
  const auto cap = static_cast<double>(opt.retry.max_delay.count());
  double computed = std::min(cap, base * std::pow(2.0, retry - 1));
  if (opt.retry.jitter && computed > base) {
    std::uniform_real_distribution<double> dist(base, computed);
    computed = dist(rng);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(computed));
}

Result<Client::Impl::Response> Client::Impl::call(const Call& c) {
  const std::string body_text = c.body ? c.body->dump() : std::string();
  const int max_attempts = std::max(1, opt.retry.max_attempts);
  std::string failure;
  Errc errc = Errc::remote;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    HttpExchange ex;
    ex.method = c.method;
    ex.path = c.path;
    ex.attempt = attempt;
    ex.started_ms = opt.clock.now_ms();
    Attempt a = perform(c, body_text);
    ex.finished_ms = opt.clock.now_ms();
    ex.status = a.rc == CURLE_OK ? a.status : 0;
    ex.response_bytes = a.sink.body.size();
    ex.response_sha256 = to_hex(sha256(a.sink.body));
    ex.ratelimit_remaining = header_int(a.sink.headers, "ratelimit-remaining");
    for (const char* name : {"x-correlation-id", "x-request-id"}) {
      if (auto it = a.sink.headers.find(name);
          it != a.sink.headers.end() && ex.correlation_id.empty()) {
        ex.correlation_id = sanitize(it->second, 128);
      }
    }
    log->debug("hcloud: {} {} -> {} in {} ms{}",
               c.method,
               c.path,
               ex.status,
               ex.finished_ms - ex.started_ms,
               ex.correlation_id.empty()
                   ? ""
                   : " (correlation " + ex.correlation_id + ")");

    std::optional<std::chrono::milliseconds>
        delay;           // set = retry after this long
    bool locked = false; // 423: wait for the running action, then retry
    if (a.rc != CURLE_OK) {
      ex.transport_error = sanitize(a.curl_error);
      failure = fmt::format("{} {}: {}", c.method, c.path, ex.transport_error);
      errc = Errc::remote;
      if (!a.sink.overflow && transient_curl_error(a.rc)) {
        delay = backoff(attempt);
      }
    } else if (a.status >= 200 && a.status < 300) {
      exchanges.push_back(std::move(ex));
      Response resp{a.status, std::move(a.sink.body), json()};
      if (!resp.body.empty()) {
        resp.parsed = json::parse(resp.body, nullptr, false);
        if (resp.parsed.is_discarded() || !resp.parsed.is_object()) {
          return fail(
              Errc::remote,
              fmt::format("{}: {} {}: HTTP {} response is not a JSON object",
                          c.what,
                          c.method,
                          c.path,
                          a.status));
        }
      } else if (a.status != 204) {
        return fail(Errc::remote,
                    fmt::format("{}: {} {}: HTTP {} with an empty body",
                                c.what,
                                c.method,
                                c.path,
                                a.status));
      }
      return resp;
    } else {
      ApiError ae;
      ae.http_status = a.status;
      ae.correlation_id = ex.correlation_id;
      const json body = json::parse(a.sink.body, nullptr, false);
      if (!body.is_discarded() && body.is_object() && body.contains("error")
          && body.at("error").is_object()) {
        const json& e = body.at("error");
        ae.code = e.contains("code") && e.at("code").is_string()
                      ? e.at("code").get<std::string>()
                      : "";
        ae.message = e.contains("message") && e.at("message").is_string()
                         ? e.at("message").get<std::string>()
                         : "";
        ae.details = e.value("details", json());
        ex.api_error_code = sanitize(ae.code, 64);
        failure = describe_api_error(ae);
      } else if (a.sink.body.empty()) {
        failure = fmt::format("HTTP {} (no error body)", a.status);
      } else {
        failure =
            fmt::format("HTTP {}: {}", a.status, sanitize(a.sink.body, 120));
      }
      errc = errc_for(a.status, ae.code);
      const std::string code = ae.code;
      last_error = std::move(ae);
      if (a.status == 502 || a.status == 504 || code == "conflict"
          || code == "bad_gateway" || code == "timeout") {
        delay = backoff(attempt);
      } else if (code == "rate_limit_exceeded" || code == "limit_reached") {
        // Wait for the backoff or until RateLimit-Reset, whichever is later,
        // but never longer than max_delay: Reset is when the bucket is full
        // again, which can be an hour away while one request is possible
        // after a second.
        delay = backoff(attempt);
        if (auto reset = header_int(a.sink.headers, "ratelimit-reset")) {
          const int64_t until_reset = *reset * 1000 - opt.clock.now_ms();
          delay = std::max(*delay, std::chrono::milliseconds(until_reset));
        }
        delay = std::min(*delay, opt.retry.max_delay);
      } else if (code == "locked") {
        locked = true;
      }
    }
    exchanges.push_back(std::move(ex));

    if (!delay && !locked) {
      break; // not retryable
    }
    if (attempt == max_attempts) {
      failure += fmt::format(" (gave up after {} attempts)", attempt);
      break;
    }
    if (locked) {
      log->warn(
          "hcloud: {}: {}; waiting for the server's running action, then "
          "retrying (attempt {}/{})",
          c.what,
          failure,
          attempt + 1,
          max_attempts);
      CUSTODY_TRY_ASSIGN(const bool waited, wait_for_lock(c));
      if (!waited) {
        opt.clock.sleep(backoff(attempt));
      }
      continue;
    }
    log->warn("hcloud: {}: {}; retrying in {} ms (attempt {}/{})",
              c.what,
              failure,
              delay->count(),
              attempt + 1,
              max_attempts);
    if (delay->count() > 0) {
      opt.clock.sleep(*delay);
    }
  }
  return fail(errc, c.what + ": " + failure);
}

Result<bool> Client::Impl::wait_for_lock(const Call& c) {
  bool waited = false;
  for (int64_t server_id : c.lock_servers) {
    auto running = list_all<Action>(
        fmt::format("/servers/{}/actions", server_id),
        {{"status", "running"}},
        "actions",
        parse_action,
        fmt::format(
            "{}: list running actions of server {}", c.what, server_id));
    if (!running) {
      log->warn("hcloud: {}", running.error().message);
      continue;
    }
    std::vector<int64_t> ids;
    for (const auto& a : running->value) {
      ids.push_back(a.id);
    }
    if (ids.empty()) {
      continue;
    }
    WaitOptions w;
    w.timeout = opt.lock_wait;
    w.accept_error = true; // someone else's action failing does not fail ours
    auto done = poll(ids, w);
    if (!done) {
      return tl::unexpected(with_context(
          done.error(),
          fmt::format("{}: server {} is locked", c.what, server_id)));
    }
    waited = true;
  }
  return waited;
}

template<typename T>
Result<Reply<std::vector<T>>>
Client::Impl::list_all(const std::string& path,
                       const Query& query,
                       const std::string& key,
                       Result<T> (*parse)(const json&),
                       const std::string& what) {
  Reply<std::vector<T>> out;
  int64_t page = 1;
  for (int64_t pages = 0; pages < k_max_pages; ++pages) {
    Query q = query;
    q.emplace_back("page", std::to_string(page));
    q.emplace_back("per_page", std::to_string(k_per_page));
    const std::string page_what =
        page == 1 ? what : fmt::format("{} (page {})", what, page);
    CUSTODY_TRY_ASSIGN(
        auto resp,
        call({"GET", with_query(path, q), std::nullopt, page_what, {}}));
    const json items = resp.parsed.value(key, json());
    if (!items.is_array()) {
      return fail(
          Errc::remote,
          fmt::format("{}: response has no '{}' array", page_what, key));
    }
    for (const auto& item : items) {
      CUSTODY_TRY_ASSIGN(T value, parse_safely(parse, item, page_what));
      out.value.push_back(std::move(value));
    }
    out.bodies.push_back(std::move(resp.body));
    json next;
    if (auto meta = resp.parsed.find("meta");
        meta != resp.parsed.end() && meta->is_object()) {
      if (auto p = meta->find("pagination");
          p != meta->end() && p->is_object()) {
        next = p->value("next_page", json());
      }
    }
    if (!next.is_number_integer() || next.get<int64_t>() == 0) {
      return out;
    }
    if (next.get<int64_t>() <= page) {
      return fail(
          Errc::remote,
          fmt::format(
              "{}: pagination does not advance (next_page {} after page {})",
              page_what,
              next.get<int64_t>(),
              page));
    }
    page = next.get<int64_t>();
  }
  return fail(Errc::remote,
              fmt::format("{}: more than {} pages", what, k_max_pages));
}

Result<Reply<std::vector<Action>>>
Client::Impl::fetch_actions(const std::vector<int64_t>& ids) {
  Reply<std::vector<Action>> out;
  std::map<int64_t, Action> found;
  for (size_t i = 0; i < ids.size(); i += k_action_batch) {
    Query q;
    for (size_t j = i; j < std::min(ids.size(), i + k_action_batch); ++j) {
      q.emplace_back("id", std::to_string(ids[j]));
    }
    CUSTODY_TRY_ASSIGN(auto batch,
                       list_all<Action>("/actions",
                                        q,
                                        "actions",
                                        parse_action,
                                        "get actions " + id_list(ids)));
    for (auto& a : batch.value) {
      found[a.id] = std::move(a);
    }
    for (auto& b : batch.bodies) {
      out.bodies.push_back(std::move(b));
    }
  }
  std::vector<int64_t> missing;
  for (int64_t id : ids) {
    auto it = found.find(id);
    if (it == found.end()) {
      missing.push_back(id);
    } else {
      out.value.push_back(it->second);
    }
  }
  if (!missing.empty()) {
    return fail(Errc::not_found,
                "get actions: actions not found: " + id_list(missing));
  }
  return out;
}

Result<Reply<std::vector<Action>>>
Client::Impl::poll(const std::vector<int64_t>& ids,
                   const WaitOptions& options) {
  if (ids.empty()) {
    return Reply<std::vector<Action>>{};
  }
  const int64_t started = opt.clock.now_ms();
  const int64_t deadline = started + options.timeout.count();
  const std::string what = ids.size() == 1
                               ? fmt::format("wait for action {}", ids[0])
                               : "wait for actions " + id_list(ids);
  for (int polls = 0;; ++polls) {
    Reply<std::vector<Action>> current;
    if (ids.size() == 1) {
      CUSTODY_TRY_ASSIGN(auto one,
                         get_one<Action>(fmt::format("/actions/{}", ids[0]),
                                         "action",
                                         parse_action,
                                         what));
      current.value.push_back(std::move(one.value));
      current.bodies = std::move(one.bodies);
    } else {
      CUSTODY_TRY_ASSIGN(current, fetch_actions(ids));
    }
    const Action* running = nullptr;
    for (const auto& a : current.value) {
      if (options.on_progress) {
        options.on_progress(a);
      }
      if (a.failed() && !options.accept_error) {
        return fail(
            Errc::remote,
            fmt::format("{}: action {} ({}) failed: {}: {}",
                        what,
                        a.id,
                        sanitize(a.command, 64),
                        sanitize(a.error ? a.error->code : "action_failed", 64),
                        sanitize(a.error ? a.error->message : "")));
      }
      if (a.running() && running == nullptr) {
        running = &a;
      }
    }
    if (running == nullptr) {
      return current;
    }
    auto interval = opt.poll.interval;
    if (polls >= opt.poll.constant_polls) {
      const double grown =
          static_cast<double>(opt.poll.interval.count())
          * std::pow(opt.poll.growth, polls - opt.poll.constant_polls + 1);
      interval =
          std::min(opt.poll.max_interval,
                   std::chrono::milliseconds(static_cast<int64_t>(grown)));
    }
    const int64_t now = opt.clock.now_ms();
    if (now + interval.count() > deadline) {
      return fail(
          Errc::remote,
          fmt::format(
              "{}: action {} ({}) still running after {} s (progress {}%)",
              what,
              running->id,
              sanitize(running->command, 64),
              (now - started) / 1000,
              running->progress));
    }
    opt.clock.sleep(interval);
  }
}

// ---- Client
// ------------------------------------------------------------------------

Result<Client> Client::create(Token token, ClientOptions options) {
  std::call_once(g_curl_once, [] {
    g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  });
  if (g_curl_init_rc != CURLE_OK) {
    return fail(Errc::internal,
                std::string("curl_global_init: ")
                    + curl_easy_strerror(g_curl_init_rc));
  }
  CUSTODY_TRY_ASSIGN(options.endpoint, validate_endpoint(options.endpoint));
  if (options.user_agent.empty()) {
    options.user_agent = std::string("custody/") + k_tool_version;
  }
  if (!options.clock.now_ms || !options.clock.sleep) {
    return fail(Errc::invalid_input,
                "hcloud client: the clock needs now_ms and sleep");
  }
  CurlPtr curl(curl_easy_init());
  if (!curl) {
    return fail(Errc::internal, "curl_easy_init failed");
  }
  return Client(std::make_unique<Impl>(
      std::move(token), std::move(options), std::move(curl)));
}

Client::Client(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

const std::string& Client::endpoint() const {
  return m_impl->opt.endpoint;
}

const std::vector<HttpExchange>& Client::exchanges() const {
  return m_impl->exchanges;
}

std::vector<HttpExchange> Client::take_exchanges() {
  return std::exchange(m_impl->exchanges, {});
}

const std::optional<ApiError>& Client::last_api_error() const {
  return m_impl->last_error;
}

Result<Reply<Server>> Client::get_server(int64_t id) {
  return m_impl->get_one<Server>(fmt::format("/servers/{}", id),
                                 "server",
                                 parse_server,
                                 fmt::format("get server {}", id));
}

Result<Reply<std::vector<Server>>>
Client::list_servers(const ListOptions& options) {
  return m_impl->list_all<Server>(
      "/servers", list_query(options), "servers", parse_server, "list servers");
}

Result<Reply<std::vector<Action>>>
Client::list_server_actions(int64_t server_id, const ListOptions& options) {
  return m_impl->list_all<Action>(
      fmt::format("/servers/{}/actions", server_id),
      list_query(options),
      "actions",
      parse_action,
      fmt::format("list actions of server {}", server_id));
}

Result<Reply<CreateServerResult>>
Client::create_server(const CreateServerRequest& r) {
  const std::string what =
      fmt::format("create server '{}'", sanitize(r.name, 64));
  if (r.ssh_keys.empty()) {
    return fail(Errc::invalid_input,
                what + ": give at least one SSH key (without one the API issues a root password, a secret custody "
                       "would have to keep in its evidence)");
  }
  json body = {
      {"name", r.name},
      {"server_type", id_or_name_json(r.server_type)},
      {"image", id_or_name_json(r.image)},
      {"start_after_create", r.start_after_create},
      {"labels", r.labels},
      {"public_net",
       {{"enable_ipv4", r.enable_ipv4}, {"enable_ipv6", r.enable_ipv6}}}};
  if (r.location) {
    body["location"] = id_or_name_json(*r.location);
  }
  body["ssh_keys"] = json::array();
  for (const auto& k : r.ssh_keys) {
    body["ssh_keys"].push_back(id_or_name_json(k));
  }
  if (!r.firewalls.empty()) {
    body["firewalls"] = json::array();
    for (int64_t f : r.firewalls) {
      body["firewalls"].push_back({{"firewall", f}});
    }
  }
  if (r.user_data) {
    body["user_data"] = *r.user_data;
  }
  CUSTODY_TRY_ASSIGN(auto resp,
                     m_impl->call({"POST", "/servers", body, what, {}}));
  // The root password is a secret; with SSH keys the API sends null, but if
  // it ever sends one, keep it out of the evidence and out of memory.
  if (resp.parsed.contains("root_password")
      && !resp.parsed.at("root_password").is_null()) {
    resp.parsed["root_password"] = "[redacted by custody]";
    resp.body = resp.parsed.dump();
  }
  CreateServerResult out;
  CUSTODY_TRY_ASSIGN(
      out.server,
      parse_safely(parse_server, resp.parsed.value("server", json()), what));
  CUSTODY_TRY_ASSIGN(
      out.action,
      parse_safely(parse_action, resp.parsed.value("action", json()), what));
  for (const auto& a : resp.parsed.value("next_actions", json::array())) {
    CUSTODY_TRY_ASSIGN(Action next, parse_safely(parse_action, a, what));
    out.next_actions.push_back(std::move(next));
  }
  return Reply<CreateServerResult>{std::move(out), {std::move(resp.body)}};
}

Result<Reply<Action>> Client::poweroff_server(int64_t id) {
  return m_impl->action_call({"POST",
                              fmt::format("/servers/{}/actions/poweroff", id),
                              std::nullopt,
                              fmt::format("power off server {}", id),
                              {id}});
}

Result<Reply<Action>> Client::shutdown_server(int64_t id) {
  return m_impl->action_call({"POST",
                              fmt::format("/servers/{}/actions/shutdown", id),
                              std::nullopt,
                              fmt::format("shut down server {}", id),
                              {id}});
}

Result<Reply<Action>> Client::delete_server(int64_t id) {
  return m_impl->action_call({"DELETE",
                              fmt::format("/servers/{}", id),
                              std::nullopt,
                              fmt::format("delete server {}", id),
                              {id}});
}

Result<Reply<CreateImageResult>>
Client::create_image(int64_t server_id, const CreateImageRequest& r) {
  const std::string what =
      fmt::format("create {} of server {}", sanitize(r.type, 16), server_id);
  json body = {{"type", r.type}, {"labels", r.labels}};
  if (r.description) {
    body["description"] = *r.description;
  }
  CUSTODY_TRY_ASSIGN(
      auto resp,
      m_impl->call({"POST",
                    fmt::format("/servers/{}/actions/create_image", server_id),
                    body,
                    what,
                    {server_id}}));
  CreateImageResult out;
  CUSTODY_TRY_ASSIGN(
      out.image,
      parse_safely(parse_image, resp.parsed.value("image", json()), what));
  CUSTODY_TRY_ASSIGN(
      out.action,
      parse_safely(parse_action, resp.parsed.value("action", json()), what));
  return Reply<CreateImageResult>{std::move(out), {std::move(resp.body)}};
}

Result<Reply<Action>> Client::get_action(int64_t id) {
  return m_impl->get_one<Action>(fmt::format("/actions/{}", id),
                                 "action",
                                 parse_action,
                                 fmt::format("get action {}", id));
}

Result<Reply<std::vector<Action>>>
Client::get_actions(const std::vector<int64_t>& ids) {
  return m_impl->fetch_actions(ids);
}

Result<Reply<Action>> Client::wait_for_action(int64_t id,
                                              const WaitOptions& options) {
  CUSTODY_TRY_ASSIGN(auto done, m_impl->poll({id}, options));
  return Reply<Action>{std::move(done.value.front()), std::move(done.bodies)};
}

Result<Reply<std::vector<Action>>>
Client::wait_for_actions(const std::vector<int64_t>& ids,
                         const WaitOptions& options) {
  return m_impl->poll(ids, options);
}

Result<Reply<Image>> Client::get_image(int64_t id) {
  return m_impl->get_one<Image>(fmt::format("/images/{}", id),
                                "image",
                                parse_image,
                                fmt::format("get image {}", id));
}

Result<Reply<std::vector<Image>>>
Client::list_images(const ImageListOptions& options) {
  Query q = list_query(options.list);
  for (const auto& t : options.type) {
    q.emplace_back("type", t);
  }
  return m_impl->list_all<Image>(
      "/images", q, "images", parse_image, "list images");
}

Result<Reply<CreateFirewallResult>>
Client::create_firewall(const FirewallSpec& spec) {
  const std::string what =
      fmt::format("create firewall '{}'", sanitize(spec.name, 128));
  json rules = json::array();
  for (const auto& r : spec.rules) {
    rules.push_back(to_request_json(r));
  }
  json body = {{"name", spec.name}, {"labels", spec.labels}, {"rules", rules}};
  if (!spec.apply_to_servers.empty()) {
    body["apply_to"] = json::array();
    for (int64_t id : spec.apply_to_servers) {
      body["apply_to"].push_back(
          {{"type", "server"}, {"server", {{"id", id}}}});
    }
  }
  CUSTODY_TRY_ASSIGN(
      auto resp,
      m_impl->call({"POST", "/firewalls", body, what, spec.apply_to_servers}));
  CreateFirewallResult out;
  CUSTODY_TRY_ASSIGN(out.firewall,
                     parse_safely(parse_firewall,
                                  resp.parsed.value("firewall", json()),
                                  what));
  for (const auto& a : resp.parsed.value("actions", json::array())) {
    CUSTODY_TRY_ASSIGN(Action action, parse_safely(parse_action, a, what));
    out.actions.push_back(std::move(action));
  }
  return Reply<CreateFirewallResult>{std::move(out), {std::move(resp.body)}};
}

Result<Reply<Firewall>> Client::get_firewall(int64_t id) {
  return m_impl->get_one<Firewall>(fmt::format("/firewalls/{}", id),
                                   "firewall",
                                   parse_firewall,
                                   fmt::format("get firewall {}", id));
}

Result<Reply<std::vector<Firewall>>>
Client::list_firewalls(const ListOptions& options) {
  return m_impl->list_all<Firewall>("/firewalls",
                                    list_query(options),
                                    "firewalls",
                                    parse_firewall,
                                    "list firewalls");
}

Result<Reply<std::vector<Action>>>
Client::apply_firewall(int64_t firewall_id,
                       const std::vector<int64_t>& server_ids) {
  json targets = json::array();
  for (int64_t id : server_ids) {
    targets.push_back({{"type", "server"}, {"server", {{"id", id}}}});
  }
  return m_impl->actions_call(
      {"POST",
       fmt::format("/firewalls/{}/actions/apply_to_resources", firewall_id),
       json{{"apply_to", targets}},
       fmt::format(
           "apply firewall {} to servers {}", firewall_id, id_list(server_ids)),
       server_ids});
}

Result<Reply<std::vector<Action>>>
Client::remove_firewall(int64_t firewall_id,
                        const std::vector<int64_t>& server_ids) {
  json targets = json::array();
  for (int64_t id : server_ids) {
    targets.push_back({{"type", "server"}, {"server", {{"id", id}}}});
  }
  return m_impl->actions_call(
      {"POST",
       fmt::format("/firewalls/{}/actions/remove_from_resources", firewall_id),
       json{{"remove_from", targets}},
       fmt::format("remove firewall {} from servers {}",
                   firewall_id,
                   id_list(server_ids)),
       server_ids});
}

Result<void> Client::delete_firewall(int64_t id) {
  CUSTODY_TRY(m_impl->call({"DELETE",
                            fmt::format("/firewalls/{}", id),
                            std::nullopt,
                            fmt::format("delete firewall {}", id),
                            {}}));
  return {};
}

Result<Reply<std::vector<SshKey>>>
Client::list_ssh_keys(const ListOptions& options) {
  return m_impl->list_all<SshKey>("/ssh_keys",
                                  list_query(options),
                                  "ssh_keys",
                                  parse_ssh_key,
                                  "list SSH keys");
}

Result<Reply<std::vector<Volume>>>
Client::list_volumes(const ListOptions& options) {
  return m_impl->list_all<Volume>(
      "/volumes", list_query(options), "volumes", parse_volume, "list volumes");
}

} // namespace custody::collector::hcloud
