// hcloud-standin: runs the Hetzner Cloud API stand-in (standin.hpp) over HTTP
// on 127.0.0.1 with cpp-httplib. Usage and the control surface are documented
// in README.md next to this file; `hcloud-standin --help` prints a summary.
//
// It never binds anything but loopback, and it takes the expected token from
// a file or the environment, never from argv (argv is visible to every user
// through /proc).
#include <fmt/format.h>

#include <httplib.h>
#include <pthread.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/hcloud_standin/standin.hpp"

#ifndef HCLOUD_STANDIN_DEFAULT_SEED
#  define HCLOUD_STANDIN_DEFAULT_SEED ""
#endif

namespace {

using custody::hcloud_standin::Config;
using custody::hcloud_standin::Reply;
using custody::hcloud_standin::Request;
using custody::hcloud_standin::Standin;
using custody::hcloud_standin::TimestampStyle;

constexpr const char* k_usage = R"(usage: hcloud-standin [options]

Serves a stand-in for the Hetzner Cloud API on http://127.0.0.1:PORT/v1.

  --seed FILE            project seed (default: the built-in seed_project.json path)
  --token-file FILE      file holding the valid bearer token (or env HCLOUD_STANDIN_TOKEN)
  --port N               port to listen on (default 0 = any free port)
  --port-file FILE       write the chosen port to FILE once listening
  --action-ms N          running time of every action (default 300)
  --command-ms CMD=N     running time of one action command, e.g. create_image=2000
  --shutdown-off-ms N    delay from shutdown to status off; -1 = never (default: action time)
  --rate-capacity N      token bucket capacity, RateLimit-Limit (default 3600)
  --rate-refill N        tokens per second (default 1)
  --timestamps z|offset  emit "...Z" (default) or "...+00:00"
  --faults FILE          initial fault script (JSON, as POST /__standin/faults)
  --quiet                do not log requests to stderr
)";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("open " + path + ": cannot read");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) {
      throw std::runtime_error("write " + tmp + " failed");
    }
  }
  std::filesystem::rename(tmp,
                          path); // atomic: readers never see a partial port
}

Request to_request(const httplib::Request& in) {
  Request r;
  r.method = in.method;
  r.path = in.path;
  r.target = in.target;
  r.body = in.body;
  for (const auto& [k, v] : in.params) {
    r.query.emplace(k, v);
  }
  for (const auto& [k, v] : in.headers) {
    std::string key = k;
    for (auto& c : key) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    r.headers[key] = v;
  }
  return r;
}

void to_response(const Reply& reply, httplib::Response& out) {
  out.status = reply.status;
  std::string content_type = "application/json";
  for (const auto& [k, v] : reply.headers) {
    if (k == "Content-Type") {
      content_type = v;
    } else {
      out.set_header(k, v);
    }
  }
  if (reply.drop) {
    // Send the headers and half of the body, then make httplib abort the
    // connection by failing the content provider.
    auto body = std::make_shared<std::string>(
        reply.body.empty() ? std::string("{\"truncated\":true}") : reply.body);
    out.set_content_provider(
        body->size(),
        content_type,
        [body](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write(body->data(), body->size() / 2);
          }
          return false;
        });
    return;
  }
  if (!reply.body.empty()) {
    out.set_content(reply.body, content_type);
  }
}

} // namespace

int main(int argc, char** argv) {
  try {
    Config cfg;
    std::string seed_path = HCLOUD_STANDIN_DEFAULT_SEED;
    std::string token_file;
    std::string port_file;
    std::string faults_file;
    int port = 0;
    bool quiet = false;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) {
          throw std::runtime_error(arg + " needs a value");
        }
        return argv[++i];
      };
      if (arg == "--help" || arg == "-h") {
        std::fputs(k_usage, stdout);
        return 0;
      }
      if (arg == "--seed") {
        seed_path = value();
      } else if (arg == "--token-file") {
        token_file = value();
      } else if (arg == "--port") {
        port = std::stoi(value());
      } else if (arg == "--port-file") {
        port_file = value();
      } else if (arg == "--action-ms") {
        cfg.action_ms = std::stoll(value());
      } else if (arg == "--command-ms") {
        const std::string v = value();
        const size_t eq = v.find('=');
        if (eq == std::string::npos) {
          throw std::runtime_error("--command-ms wants CMD=N");
        }
        cfg.command_ms[v.substr(0, eq)] = std::stoll(v.substr(eq + 1));
      } else if (arg == "--shutdown-off-ms") {
        cfg.shutdown_off_ms = std::stoll(value());
      } else if (arg == "--rate-capacity") {
        cfg.rate_capacity = std::stod(value());
      } else if (arg == "--rate-refill") {
        cfg.rate_refill_per_s = std::stod(value());
      } else if (arg == "--timestamps") {
        const std::string v = value();
        if (v != "z" && v != "offset") {
          throw std::runtime_error("--timestamps wants z or offset");
        }
        cfg.timestamps = v == "z" ? TimestampStyle::z : TimestampStyle::offset;
      } else if (arg == "--faults") {
        faults_file = value();
      } else if (arg == "--quiet") {
        quiet = true;
      } else {
        throw std::runtime_error("unknown option " + arg + " (see --help)");
      }
    }
    if (!token_file.empty()) {
      cfg.token = read_all(token_file);
    } else if (const char* env = std::getenv("HCLOUD_STANDIN_TOKEN");
               env != nullptr) {
      cfg.token = env;
    } else {
      throw std::runtime_error(
          "no token: pass --token-file FILE or set HCLOUD_STANDIN_TOKEN");
    }
    while (!cfg.token.empty()
           && (cfg.token.back() == '\n' || cfg.token.back() == '\r')) {
      cfg.token.pop_back();
    }
    if (cfg.token.empty()) {
      throw std::runtime_error("the token is empty");
    }
    if (cfg.rate_capacity < 1 || cfg.rate_refill_per_s <= 0) {
      throw std::runtime_error("rate capacity must be >= 1 and refill > 0");
    }
    if (!seed_path.empty()) {
      cfg.seed = nlohmann::json::parse(read_all(seed_path));
    }
    if (!faults_file.empty()) {
      cfg.faults = nlohmann::json::parse(read_all(faults_file));
      if (!cfg.faults.is_array()) {
        cfg.faults = nlohmann::json::array({cfg.faults});
      }
    }
    auto standin = Standin::create(std::move(cfg));
    if (!standin) {
      throw std::runtime_error(standin.error().message);
    }

    // Block the termination signals in every thread; one thread waits for them.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    httplib::Server server;
    Standin& core = **standin;
    auto handler = [&core, quiet](const httplib::Request& req,
                                  httplib::Response& res) {
      const Reply reply = core.handle(to_request(req));
      if (reply.delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
      }
      to_response(reply, res);
      if (!quiet) {
        // Never log request headers: they carry the bearer token.
        std::fprintf(stderr,
                     "hcloud-standin: %s %s -> %d%s\n",
                     req.method.c_str(),
                     req.target.c_str(),
                     reply.status,
                     reply.drop ? " (dropped)" : "");
      }
    };
    server.Get(".*", handler);
    server.Post(".*", handler);
    server.Put(".*", handler);
    server.Delete(".*", handler);
    server.Patch(".*", handler);

    if (port == 0) {
      port = server.bind_to_any_port("127.0.0.1");
    } else if (!server.bind_to_port("127.0.0.1", port)) {
      port = -1;
    }
    if (port <= 0) {
      throw std::runtime_error("cannot bind 127.0.0.1");
    }
    std::thread waiter([&server, sigs]() {
      int sig = 0;
      sigwait(&sigs, &sig);
      server.stop();
    });
    waiter.detach();
    if (!port_file.empty()) {
      write_port_file(port_file, port);
    }
    std::printf("hcloud-standin listening on http://127.0.0.1:%d/v1\n", port);
    std::fflush(stdout);
    if (!server.listen_after_bind()) {
      throw std::runtime_error("listen failed");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcloud-standin: %s\n", e.what());
    return 2;
  }
}
