// vault::ObjectStore: content addressing, one-pass hash+copy, read-only
// objects, duplicates stored once, nothing left behind on failure.
#include "vault/store.hpp"

#include "tests/testutil.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

using namespace custody;
using namespace custody::vault;

namespace {
UniqueFd open_ro(const std::filesystem::path& p) {
  return UniqueFd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
}
size_t count_files(const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    n += e.is_regular_file() ? 1U : 0U;
  }
  return n;
}
} // namespace

TEST_CASE("vault::ObjectStore stores by SHA-256, read-only, in 0700 directories") {
  const auto dir = test::case_dir("store");
  auto store = ObjectStore::open(dir / "objects");
  REQUIRE(store);
  // Larger than several pipeline chunks, not a multiple of the chunk size.
  std::string data(9 * 1024 * 1024 + 123, '\0');
  std::mt19937 rng(42);
  for (auto& c : data) {
    c = static_cast<char>(rng());
  }
  test::write_file(dir / "src.bin", data);
  auto fd = open_ro(dir / "src.bin");
  auto stored = store->ingest_fd(fd.get(), "src.bin");
  REQUIRE(stored);
  CHECK(stored->sha256 == sha256(data));
  CHECK(stored->size == data.size());
  CHECK_FALSE(stored->already_present);
  const auto path = store->object_path(stored->sha256);
  const std::string hex = to_hex(stored->sha256);
  CHECK(path == dir / "objects" / "sha256" / hex.substr(0, 2) / hex.substr(2));
  CHECK(test::read_file(path) == data);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0444);
  REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(std::filesystem::is_empty(dir / "objects" / "tmp"));
}

TEST_CASE("vault::ObjectStore stores identical content once and keeps the first copy") {
  const auto dir = test::case_dir("store-dup");
  auto store = *ObjectStore::open(dir / "objects");
  auto a = store.ingest_bytes("same bytes", "a");
  auto b = store.ingest_bytes("same bytes", "b");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->sha256 == b->sha256);
  CHECK_FALSE(a->already_present);
  CHECK(b->already_present);
  CHECK(count_files(dir / "objects") == 1);
  // Exact multiple of nothing: empty content is a valid object too.
  auto empty = store.ingest_bytes("", "empty");
  REQUIRE(empty);
  CHECK(to_hex(empty->sha256) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("vault::ObjectStore fails cleanly on a full disk and leaves nothing behind") {
  // RLIMIT_FSIZE makes write(2) fail with EFBIG past the limit, the same code
  // path as ENOSPC: a partial temp file that must be removed.
  const auto dir = test::case_dir("store-full");
  auto store = *ObjectStore::open(dir / "objects");
  std::string data(3 * 1024 * 1024, 'x');
  test::write_file(dir / "src.bin", data);
  auto fd = open_ro(dir / "src.bin");
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 1024 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto r = store.ingest_fd(fd.get(), "src.bin");
  ::setrlimit(RLIMIT_FSIZE, &old);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::io);
  CHECK(r.error().message.find("write") != std::string::npos);
  CHECK(count_files(dir / "objects") == 0);
}

TEST_CASE("vault::ObjectStore reports a read error of the source") {
  const auto dir = test::case_dir("store-readerr");
  auto store = *ObjectStore::open(dir / "objects");
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto r = store.ingest_fd(dir_fd.get(), "a directory");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("read a directory") != std::string::npos);
  CHECK(count_files(dir / "objects") == 0);
}

TEST_CASE("vault::hash_fd streams and feeds the sink") {
  const auto dir = test::case_dir("hashfd");
  test::write_file(dir / "f", "abc");
  auto fd = open_ro(dir / "f");
  std::string seen;
  auto r = hash_fd(fd.get(), "f", [&](std::string_view c) -> Result<void> {
    seen += c;
    return {};
  });
  REQUIRE(r);
  CHECK(seen == "abc");
  CHECK(to_hex(r->sha256) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
