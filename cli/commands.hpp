// The `custody` command line: argv -> one library call -> exit code.
//
// Exit codes (DESIGN §7): 0 success; 1 a finding (verification failed,
// evidence incomplete); 2 usage or tool error. Every error is printed once to
// stderr as "custody: error: <thing>: <cause>". Library code does the work;
// this layer only parses options, resolves defaults from the environment
// (CUSTODY_VAULT, CUSTODY_ACTOR, CUSTODY_KEY, CUSTODY_PASSPHRASE_FILE),
// formats output and maps results to exit codes.
#pragma once

namespace custody::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_finding = 1;
inline constexpr int k_exit_error = 2;

// Runs the custody command line; returns the process exit code.
int run(int argc, char** argv);

} // namespace custody::cli
