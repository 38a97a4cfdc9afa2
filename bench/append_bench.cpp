// Durable appends per second to a custody ledger: N entries one per
// transaction (each commit fsynced: synchronous=FULL), then N entries in
// batches of B per transaction. Each entry is schema-checked, rule-checked,
// Ed25519-signed and inserted with its projection rows. Prints one line per
// mode: "<mode> <entries> <seconds> <entries/s>".
#include "common/time.hpp"
#include "vault/ledger.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace custody;
using namespace custody::vault;

namespace {

Draft incident(verify::ProjectionStore& store, int64_t now) {
  const std::string id = *verify::next_incident_id(now, store);
  return Draft{"incident_open", id,
               Json{{"id", id}, {"severity", "P3"}, {"title", "benchmark incident"},
                    {"detected_at_ms", now}, {"reporter", "bench"}, {"commander", "bench"},
                    {"affected_systems", {"hetzner"}}, {"affected_customers", Json::array()},
                    {"playbook", "none"}, {"description", std::string(200, 'd')},
                    {"root_cause", ""}}};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR N [BATCH]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int n = std::atoi(argv[2]);
  const int batch = argc > 3 ? std::atoi(argv[3]) : 100;
  auto ledger_key = *SigningKey::generate();
  const Signer who{"bench", *SigningKey::generate()};
  auto ledger = Ledger::create(dir / "ledger.db", "bench.local/append", ledger_key, who, "h");
  if (!ledger) {
    std::fprintf(stderr, "%s\n", ledger.error().message.c_str());
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = ledger->append(who, [](verify::ProjectionStore& s, int64_t now) -> Result<std::vector<Draft>> {
      return std::vector<Draft>{incident(s, now)};
    });
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 2;
    }
  }
  const double single = seconds_since(t0);
  std::printf("single %d %.3f %.0f\n", n, single, n / single);

  t0 = std::chrono::steady_clock::now();
  for (int done = 0; done < n; done += batch) {
    const int k = std::min(batch, n - done);
    auto r = ledger->append(who, [k](verify::ProjectionStore& s, int64_t now) -> Result<std::vector<Draft>> {
      std::vector<Draft> v;
      // Each draft needs the id after the previous one's: the rules count
      // incidents per UTC day, so number them from the first free id.
      const std::string first = *verify::next_incident_id(now, s);
      const std::string prefix = first.substr(0, first.rfind('-') + 1);
      const int64_t base = std::stoll(first.substr(first.rfind('-') + 1));
      for (int j = 0; j < k; ++j) {
        Draft d = incident(s, now);
        const std::string id = prefix + std::to_string(base + j);
        d.incident = id;
        d.fields["id"] = id;
        v.push_back(std::move(d));
      }
      return v;
    });
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 2;
    }
  }
  const double batched = seconds_since(t0);
  std::printf("batched %d %.3f %.0f\n", n, batched, n / batched);
  auto cp = ledger->checkpoint(ledger_key);
  std::printf("checkpoint %llu entries\n", static_cast<unsigned long long>(cp ? cp->checkpoint.size : 0));
  return 0;
}
