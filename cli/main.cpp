#include "cli/commands.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  try {
    return custody::cli::run(argc, argv);
  } catch (const std::exception& e) {
    // Only a bug or resource exhaustion gets here: library code returns errors.
    std::fprintf(stderr, "custody: internal error: %s\n", e.what());
    return custody::cli::k_exit_error;
  }
}
