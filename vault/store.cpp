#include "vault/store.hpp"

#include "common/atomic_file.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace custody::vault {

namespace {

constexpr size_t k_chunk = 4 * 1024 * 1024;
constexpr size_t k_buffers = 4;

// Reads up to `buf.size()` bytes, retrying EINTR and short reads until EOF.
Result<size_t> read_full(int fd, std::span<char> buf, std::string_view what) {
  size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail_errno(fmt::format("read {}", what));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  return got;
}

// A chunk handed from the I/O thread to the hashing thread.
struct Chunk {
  std::vector<char> data;
  size_t len = 0;
  bool last = false;
};

// Bounded hand-off between the I/O thread (reads the source, writes the temp
// file) and the hashing thread. Why two threads: SHA-256 with SHA-NI runs at
// about the speed of a page-cache copy, so overlapping them nearly halves the
// time of a serial read-hash-write loop.
class Pipeline {
public:
  Pipeline() {
    for (size_t i = 0; i < k_buffers; ++i) {
      m_free.push_back(std::make_unique<Chunk>());
      m_free.back()->data.resize(k_chunk);
    }
  }
  std::unique_ptr<Chunk> take_free() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return !m_free.empty() || m_stop; });
    if (m_stop) {
      return nullptr;
    }
    auto c = std::move(m_free.front());
    m_free.pop_front();
    return c;
  }
  void give_full(std::unique_ptr<Chunk> c) {
    std::lock_guard lock(m_mutex);
    m_full.push_back(std::move(c));
    m_cv.notify_all();
  }
  std::unique_ptr<Chunk> take_full() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return !m_full.empty() || m_stop; });
    if (m_full.empty()) {
      return nullptr;
    }
    auto c = std::move(m_full.front());
    m_full.pop_front();
    return c;
  }
  void give_free(std::unique_ptr<Chunk> c) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(std::move(c));
    m_cv.notify_all();
  }
  void stop() {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_cv.notify_all();
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::unique_ptr<Chunk>> m_free;
  std::deque<std::unique_ptr<Chunk>> m_full;
  bool m_stop = false;
};

} // namespace

Result<ObjectStore> ObjectStore::open(const std::filesystem::path& root) {
  CUSTODY_TRY(make_dirs(root / "sha256", 0700));
  CUSTODY_TRY(make_dirs(root / "tmp", 0700));
  ObjectStore s;
  s.m_root = root;
  return s;
}

std::filesystem::path ObjectStore::object_path(const Hash256& sha256) const {
  const std::string hex = to_hex(sha256);
  return m_root / "sha256" / hex.substr(0, 2) / hex.substr(2);
}

Result<UniqueFd> ObjectStore::open_object(const Hash256& sha256) const {
  const auto path = object_path(sha256);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) {
      return fail(Errc::not_found, fmt::format("object {} is missing from the store ({})",
                                               to_hex(sha256), path.string()));
    }
    return fail_errno("open " + path.string());
  }
  return fd;
}

Result<StoredObject> ObjectStore::ingest_fd(int src, std::string_view what) {
  std::string tmp_path = (m_root / "tmp" / "ingest-XXXXXX").string();
  UniqueFd out(::mkostemp(tmp_path.data(), O_CLOEXEC));
  if (!out) {
    return fail_errno("create temporary file in " + (m_root / "tmp").string());
  }
  ::posix_fadvise(src, 0, 0, POSIX_FADV_SEQUENTIAL);

  Pipeline pipe;
  Sha256 hasher;
  uint64_t hashed = 0;
  std::thread hash_thread([&] {
    while (auto c = pipe.take_full()) {
      hasher.update(std::string_view(c->data.data(), c->len));
      hashed += c->len;
      const bool last = c->last;
      pipe.give_free(std::move(c));
      if (last) {
        return;
      }
    }
  });

  // I/O on this thread: read a chunk, write it, start its writeback early (so
  // the final fsync has little left to do), hand it to the hasher.
  Result<void> io_status;
  uint64_t offset = 0;
  for (;;) {
    auto c = pipe.take_free();
    auto got = read_full(src, std::span<char>(c->data.data(), c->data.size()), what);
    if (!got) {
      io_status = tl::unexpected(got.error());
      break;
    }
    c->len = *got;
    c->last = *got < c->data.size();
    if (c->len > 0) {
      if (auto w = write_all(out.get(), std::string_view(c->data.data(), c->len), tmp_path); !w) {
        io_status = w;
        break;
      }
      ::sync_file_range(out.get(), static_cast<off64_t>(offset), static_cast<off64_t>(c->len),
                        SYNC_FILE_RANGE_WRITE);
      offset += c->len;
    }
    const bool last = c->last;
    pipe.give_full(std::move(c));
    if (last) {
      break;
    }
  }
  if (!io_status) {
    pipe.stop();
  }
  hash_thread.join();
  if (!io_status) {
    ::unlink(tmp_path.c_str());
    return tl::unexpected(io_status.error());
  }
  if (hashed != offset) {
    ::unlink(tmp_path.c_str());
    return fail(Errc::internal, "ingest pipeline lost bytes");
  }
  return finish(std::move(out), tmp_path, hasher.final(), offset);
}

Result<StoredObject> ObjectStore::ingest_bytes(std::string_view bytes, std::string_view what) {
  std::string tmp_path = (m_root / "tmp" / "ingest-XXXXXX").string();
  UniqueFd out(::mkostemp(tmp_path.data(), O_CLOEXEC));
  if (!out) {
    return fail_errno("create temporary file in " + (m_root / "tmp").string());
  }
  if (auto w = write_all(out.get(), bytes, fmt::format("{} ({})", tmp_path, what)); !w) {
    ::unlink(tmp_path.c_str());
    return tl::unexpected(w.error());
  }
  return finish(std::move(out), tmp_path, sha256(bytes), bytes.size());
}

Result<StoredObject> ObjectStore::finish(UniqueFd tmp_fd, const std::string& tmp_path,
                                         const Hash256& sha, uint64_t size) {
  auto abandon = [&](auto err) {
    ::unlink(tmp_path.c_str());
    return err;
  };
  if (::fsync(tmp_fd.get()) != 0) {
    return abandon(fail_errno("fsync " + tmp_path));
  }
  if (::fchmod(tmp_fd.get(), 0444) != 0) {
    return abandon(fail_errno("chmod " + tmp_path));
  }
  if (tmp_fd.close() != 0) {
    return abandon(fail_errno("close " + tmp_path));
  }
  const auto final_path = object_path(sha);
  if (auto r = make_dirs(final_path.parent_path(), 0700); !r) {
    return abandon(tl::unexpected(r.error()));
  }
  StoredObject stored{sha, size, false};
  // link(2) never replaces: an existing object (same digest) is kept as is.
  if (::link(tmp_path.c_str(), final_path.c_str()) != 0) {
    if (errno != EEXIST) {
      return abandon(fail_errno("link " + final_path.string()));
    }
    stored.already_present = true;
  }
  ::unlink(tmp_path.c_str());
  CUSTODY_TRY(fsync_dir(final_path.parent_path()));
  CUSTODY_TRY(fsync_dir(m_root / "tmp"));
  return stored;
}

Result<StoredObject> hash_fd(int fd, std::string_view what,
                             const std::function<Result<void>(std::string_view)>& sink) {
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(k_chunk);
  Sha256 h;
  uint64_t size = 0;
  for (;;) {
    CUSTODY_TRY_ASSIGN(const size_t n, read_full(fd, buf, what));
    if (n == 0) {
      break;
    }
    const std::string_view chunk(buf.data(), n);
    h.update(chunk);
    if (sink) {
      CUSTODY_TRY(sink(chunk));
    }
    size += n;
    if (n < buf.size()) {
      break;
    }
  }
  return StoredObject{h.final(), size, false};
}

} // namespace custody::vault
