// Builds vaults for bench/verify.sh with the real writer (the same builder the
// adversarial tests use): custody_bench_vault DIR ENTRIES OBJECTS OBJECT_BYTES
// creates the vault DIR/vault (keys in DIR/keys) and prints its statistics.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "tests/adversarial/vault_fixture.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(
        stderr, "usage: %s DIR ENTRIES OBJECTS OBJECT_BYTES\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    const auto stats = custody::test::make_big_vault(dir / "vault",
                                                     dir / "keys",
                                                     std::stoull(argv[2]),
                                                     std::stoull(argv[3]),
                                                     std::stoull(argv[4]));
    std::printf(
        "entries %llu objects %llu object_bytes %llu checkpoints %llu\n",
        static_cast<unsigned long long>(stats.entries),
        static_cast<unsigned long long>(stats.objects),
        static_cast<unsigned long long>(stats.object_bytes),
        static_cast<unsigned long long>(stats.checkpoints));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custody_bench_vault: %s\n", e.what());
    return 2;
  }
}
