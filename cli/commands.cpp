#include "cli/commands.hpp"

#include "cli/context.hpp"
#include "common/version.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

namespace custody::cli {

int run(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("custody");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("custody: %^%l%$: %v");
  spdlog::set_level(spdlog::level::info);

  Context ctx;
  CLI::App app{"custody: forensic evidence collector and chain-of-custody vault", "custody"};
  app.set_version_flag("--version", fmt::format("{} {}", k_tool_name, k_tool_version));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.add_flag("-v,--verbose", ctx.opt.verbosity, "More log output on stderr (repeatable)");
  app.add_flag("-q,--quiet", ctx.opt.quiet, "Only errors on stderr");
  app.footer("Exit codes: 0 ok, 1 a finding (verification failed, evidence incomplete), "
             "2 usage or tool error.\nEvery subcommand has --help.");
  setup_vault_commands(app, ctx);
  setup_hcloud_commands(app, ctx);
  setup_verify_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) { // --help, --version
      return app.exit(e);
    }
    spdlog::error("{} (see --help)", e.what());
    return k_exit_error;
  }
  if (ctx.opt.quiet) {
    spdlog::set_level(spdlog::level::err);
  } else if (ctx.opt.verbosity > 0) {
    spdlog::set_level(ctx.opt.verbosity > 1 ? spdlog::level::trace : spdlog::level::debug);
  }
  if (!ctx.run) {
    std::cerr << app.help();
    return k_exit_error;
  }
  const int rc = ctx.run();
  std::fflush(stdout);
  return rc;
}

} // namespace custody::cli
