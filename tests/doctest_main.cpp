// Shared doctest main for every per-component unit-test executable.
//
// Each run gets a fresh temporary directory (exported as CUSTODY_TEST_TMP and
// made the working directory). It is removed when every test passes and kept,
// with its path printed, when one fails, so the evidence of a failure survives.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/testutil.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

int main(int argc, char** argv) {
  const std::filesystem::path dir = custody::test::make_temp_dir("custody-unit-");
  setenv("CUSTODY_TEST_TMP", dir.c_str(), 1);
  std::filesystem::current_path(dir);

  doctest::Context context;
  context.applyCommandLine(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) {
    return rc;
  }
  std::filesystem::current_path("/");
  if (rc == 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::fprintf(stderr, "test files kept in %s\n", dir.c_str());
  }
  return rc;
}
