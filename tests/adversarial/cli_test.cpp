// The `custody verify` command line: exit codes (0 clean, 1 finding, 2
// could not run), one line per finding, --json against
// schemas/verify-report.schema.json, --record, and progress on a TTY only.
#include "common/canonical_json.hpp"
#include "common/json_schema.hpp"
#include "vault/vault.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>

#include "schemas/embedded.hpp"
#include "tests/adversarial/verify_run.hpp"
#include "tests/testutil.hpp"

using namespace custody;
using namespace custody::test;
namespace fs = std::filesystem;

namespace {

struct Cli {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q.push_back(c);
    }
  }
  return q + "'";
}

std::string command_line(const std::vector<std::string>& args) {
  std::string cmd = quote(CUSTODY_BIN);
  for (const auto& a : args) {
    cmd += " " + quote(a);
  }
  return cmd;
}

// Runs custody with `args`; stdout and stderr are captured in files.
Cli run_cli(const fs::path& dir, const std::vector<std::string>& args) {
  const std::string cmd =
      fmt::format("cd {} && env -u CUSTODY_VAULT {} >{} 2>{}",
                  quote(dir.string()),
                  command_line(args),
                  quote((dir / "stdout").string()),
                  quote((dir / "stderr").string()));
  const int status = std::system(cmd.c_str());
  Cli r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(dir / "stdout");
  r.err = read_file(dir / "stderr");
  return r;
}

struct CliVault {
  fs::path root;
  SmallVault s;
  fs::path trusted;
  std::vector<std::string> args; // --vault V --trusted-keys T --checkpoint ...
};

CliVault make_cli_vault(const std::string& name) {
  const fs::path root = case_dir(name);
  CliVault c{root, make_small_vault(root / "v"), root / "trusted.keys", {}};
  write_file(c.trusted, verify::format_trusted_keys(trusted_keys_of(c.s)));
  c.args = {"verify",
            "--vault",
            c.s.dir.string(),
            "--trusted-keys",
            c.trusted.string(),
            "--checkpoint"};
  for (const auto& f : c.s.checkpoint_files) {
    c.args.push_back(f.string());
  }
  return c;
}

std::vector<std::string> with(std::vector<std::string> args,
                              std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

void damage_object(const SmallVault& s, const std::string& item) {
  RawDb raw(s.dir / "ledger.db");
  const fs::path obj = verify::object_path(
      s.dir, raw.get("items", "sha256", fmt::format("key = '{}'", item)));
  std::string bytes = read_file(obj);
  bytes[0] = static_cast<char>(bytes[0] ^ 1);
  ::chmod(obj.c_str(), 0644);
  write_file(obj, bytes);
  ::chmod(obj.c_str(), 0444);
}

std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) {
    return "";
  }
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end + 1 - (start == std::string::npos ? 0 : start + 1));
}

} // namespace

TEST_SUITE("cli") {
  TEST_CASE(
      "custody verify: exit 0 when clean, 1 on a finding (one line naming it), "
      "2 when it cannot run") {
    CliVault c = make_cli_vault("cli-exit");
    const Cli ok = run_cli(c.root, c.args);
    INFO(ok.out, ok.err);
    CHECK(ok.rc == 0);
    CHECK(last_line(ok.out).starts_with(
        "verify: OK: 11 entries, 3 stored checkpoints, 3/3 external"));
    CHECK(ok.out.find("warning:") == std::string::npos); // everything pinned
    CHECK(ok.out.find("; 0 warnings;") != std::string::npos);

    const Cli quick = run_cli(c.root, with(c.args, {"--no-rehash"}));
    CHECK(quick.rc == 0);
    CHECK(quick.out.find("presence and size only") != std::string::npos);

    damage_object(c.s, c.s.incident + "-E2");
    const Cli bad = run_cli(c.root, c.args);
    INFO(bad.out, bad.err);
    CHECK(bad.rc == 1);
    CHECK(bad.out.find(fmt::format("item {}-E2: its object objects/sha256/",
                                   c.s.incident))
          != std::string::npos);
    CHECK(last_line(bad.out).starts_with("verify: FAILED: 1 finding"));

    const Cli scoped =
        run_cli(c.root, with(c.args, {"--incident", c.s.incident}));
    CHECK(scoped.rc == 1);
    CHECK(scoped.out.find("the whole ledger chain was verified")
          != std::string::npos);

    CHECK(
        run_cli(c.root, {"verify", "--vault", (c.root / "missing").string()}).rc
        == 2);
    CHECK(run_cli(c.root, {"verify"}).rc == 2);
    CHECK(run_cli(c.root,
                  {"verify",
                   "--vault",
                   c.s.dir.string(),
                   "--checkpoint",
                   (c.root / "missing.note").string()})
              .rc
          == 2);
    write_file(c.root / "bad.keys", "origin a\norigin b\n");
    const Cli keys = run_cli(c.root,
                             {"verify",
                              "--vault",
                              c.s.dir.string(),
                              "--trusted-keys",
                              (c.root / "bad.keys").string()});
    CHECK(keys.rc == 2);
    CHECK(keys.err.find("line 2: origin is given twice") != std::string::npos);
    CHECK(run_cli(c.root,
                  {"verify",
                   "--vault",
                   c.s.dir.string(),
                   "--incident",
                   "INC-2001-01-01-1"})
              .rc
          == 2);
    CHECK(
        run_cli(
            c.root,
            {"verify", "--vault", c.s.dir.string(), "--origin", "someone/else"})
            .rc
        == 1);
  }

  TEST_CASE("custody verify --json follows schemas/verify-report.schema.json") {
    CliVault c = make_cli_vault("cli-json");
    const auto schema =
        JsonSchema::parse(*schemas::find("verify-report.schema.json"));
    REQUIRE(schema);
    for (const bool damaged : {false, true}) {
      CAPTURE(damaged);
      if (damaged) {
        damage_object(c.s, c.s.incident + "-E1");
      }
      const Cli r = run_cli(c.root, with(c.args, {"--json"}));
      INFO(r.out, r.err);
      CHECK(r.rc == (damaged ? 1 : 0));
      const auto j = verify::Json::parse(r.out, nullptr, false);
      REQUIRE_FALSE(j.is_discarded());
      const auto errors = schema->validate(j);
      CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors[0]));
      CHECK(j.at("ok") == !damaged);
      CHECK(j.at("ledger").at("entries") == 11);
      if (damaged) {
        REQUIRE(j.at("findings").size() == 1);
        CHECK(j.at("findings")[0].at("code") == "object_mismatch");
        CHECK(j.at("findings")[0].at("item") == c.s.incident + "-E1");
      }
    }
  }

  TEST_CASE(
      "custody verify --record appends a verify entry by the auditor and signs "
      "a checkpoint") {
    CliVault c = make_cli_vault("cli-record");
    const fs::path auditor_key = c.root / "keys" / "auditor.pem";
    {
      auto v = vault::Vault::open(c.s.dir);
      REQUIRE(v);
      vault::KeyNewOptions k;
      k.subject = "auditor";
      k.key_file = auditor_key;
      REQUIRE(v->key_new(c.s.alice, k));
      REQUIRE(v->checkpoint());
    }
    const auto before = snapshot_tree(c.s.dir);
    const Cli plain = run_cli(c.root, {"verify", "--vault", c.s.dir.string()});
    CHECK(plain.rc == 0);
    CHECK(snapshot_tree(c.s.dir)
          == before); // without --record nothing is written

    const Cli r = run_cli(c.root,
                          {"verify",
                           "--vault",
                           c.s.dir.string(),
                           "--record",
                           "--actor",
                           "auditor",
                           "--key",
                           auditor_key.string()});
    INFO(r.out, r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("recorded as entry 12") != std::string::npos);
    {
      RawDb raw(c.s.dir / "ledger.db");
      const auto e =
          *verify::decode_entry(raw.get("ledger", "entry", "seq = 12"));
      CHECK(e.type == "verify");
      CHECK(e.actor == "auditor");
      CHECK(e.incident.empty());
      CHECK(e.fields.at("ledger_size") == 12);
      CHECK(e.fields.at("findings") == 0);
      CHECK(e.fields.at("trust") == "first-use");
      CHECK(raw.get("checkpoints", "tree_size", "tree_size = 13")
            == "13"); // signed after it
      const auto meta =
          verify::Json::parse(raw.get("meta", "doc", "key = 'verify'"));
      CHECK(meta.at("seq") == 12);
    }
    // The recorded run verifies, including its claim about the root.
    const Cli again = run_cli(c.root, {"verify", "--vault", c.s.dir.string()});
    INFO(again.out);
    CHECK(again.rc == 0);

    // Scoped to an incident, with a finding: recorded, and still exit 1.
    damage_object(c.s, c.s.incident + "-E1");
    const Cli scoped = run_cli(c.root,
                               {"verify",
                                "--vault",
                                c.s.dir.string(),
                                "--incident",
                                c.s.incident,
                                "--record",
                                "--actor",
                                "auditor",
                                "--key",
                                auditor_key.string()});
    INFO(scoped.out, scoped.err);
    CHECK(scoped.rc == 1);
    RawDb raw(c.s.dir / "ledger.db");
    const auto e =
        *verify::decode_entry(raw.get("ledger", "entry", "seq = 13"));
    CHECK(e.type == "verify");
    CHECK(e.incident == c.s.incident);
    CHECK(e.fields.at("findings") == 1);
    CHECK(e.fields.at("ledger_size") == 13);

    // --record without an identity cannot run.
    CHECK(
        run_cli(c.root, {"verify", "--vault", c.s.dir.string(), "--record"}).rc
        == 2);
  }

  TEST_CASE(
      "custody verify shows progress on a terminal and nothing when stderr is "
      "not one") {
    CliVault c = make_cli_vault("cli-progress");
    const Cli piped = run_cli(c.root, c.args);
    CHECK(piped.rc == 0);
    CHECK(piped.err.find("verify: entries") == std::string::npos);
    if (std::system("command -v script >/dev/null 2>&1") != 0) {
      MESSAGE(
          "script(1) is not installed: the TTY half of this test is skipped");
      return;
    }
    // script(1) runs the command on a pseudo-terminal and copies what it wrote.
    const std::string cmd = fmt::format("script -qec {} /dev/null > {} 2>&1",
                                        quote(command_line(c.args)),
                                        quote((c.root / "tty").string()));
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string tty = read_file(c.root / "tty");
    INFO(tty);
    CHECK(tty.find("\rverify: entries 11/11 (100%)") != std::string::npos);
    CHECK(tty.find("verify: OK") != std::string::npos);
  }

} // TEST_SUITE
