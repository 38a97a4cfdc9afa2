// Test-only support for the hcloud tests (not part of custody_collector):
// builds an hcloud::Client against a running hcloud-standin with small real
// waits (so retry and poll paths run for real, at a small scale), records
// every sleep, and captures the client's log lines.
#pragma once

#include "collector/hcloud_client.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/hcloud_standin/standin_process.hpp"

namespace custody::collector::hcloud::testing {

struct Harness {
  std::shared_ptr<std::ostringstream> log_text =
      std::make_shared<std::ostringstream>();
  std::shared_ptr<spdlog::logger> logger;
  std::shared_ptr<std::vector<std::chrono::milliseconds>> sleeps =
      std::make_shared<std::vector<std::chrono::milliseconds>>();

  Harness() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_text);
    logger = std::make_shared<spdlog::logger>("hcloud-test", sink);
    logger->set_level(spdlog::level::trace);
  }

  [[nodiscard]] std::string log() const {
    logger->flush();
    return log_text->str();
  }

  // Fast policies: retries 20 ms ×2 up to 400 ms, polls every 20 ms.
  ClientOptions options(const std::string& endpoint) {
    ClientOptions o;
    o.endpoint = endpoint;
    o.retry.base_delay = std::chrono::milliseconds(20);
    o.retry.max_delay = std::chrono::milliseconds(2500);
    o.poll.interval = std::chrono::milliseconds(20);
    o.poll.constant_polls = 5;
    o.poll.max_interval = std::chrono::milliseconds(100);
    o.request_timeout = std::chrono::milliseconds(5000);
    o.jitter_seed = 42;
    o.logger = logger;
    auto recorded = sleeps;
    o.clock.sleep = [recorded](std::chrono::milliseconds d) {
      recorded->push_back(d);
      std::this_thread::sleep_for(d);
    };
    return o;
  }

  Client client(test::StandinProcess& standin,
                const std::function<void(ClientOptions&)>& tweak = {}) {
    ClientOptions o = options(standin.endpoint());
    if (tweak) {
      tweak(o);
    }
    auto token = Token::from_string(standin.token());
    REQUIRE(token.has_value());
    auto c = Client::create(std::move(*token), std::move(o));
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
    return std::move(*c);
  }
};

// Returns every field of every exchange as one string (to search for secrets).
inline std::string dump_exchanges(const std::vector<HttpExchange>& exchanges) {
  std::string out;
  for (const auto& e : exchanges) {
    out += e.method + " " + e.path + " " + std::to_string(e.status) + " "
           + e.correlation_id + " " + e.api_error_code + " " + e.transport_error
           + " " + e.response_sha256 + "\n";
  }
  return out;
}

} // namespace custody::collector::hcloud::testing
