#include "common/atomic_file.hpp"

#include "common/c_handle.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace custody {

Result<void> write_all(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail_errno(fmt::format("write {}", what));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_small_file(const std::filesystem::path& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail_errno("open " + path.string());
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail_errno("read " + path.string());
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      return fail(Errc::invalid_input,
                  fmt::format("{}: larger than {} bytes", path.string(), max_bytes));
    }
  }
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return fail_errno("open directory " + dir.string());
  }
  if (::fsync(fd.get()) != 0) {
    return fail_errno("fsync directory " + dir.string());
  }
  return {};
}

Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode) {
  std::filesystem::path current;
  for (const auto& part : dir) {
    current /= part;
    if (current.empty() || current == "/") {
      continue;
    }
    if (::mkdir(current.c_str(), mode) != 0) {
      if (errno == EEXIST) {
        struct stat st {};
        if (::stat(current.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          continue;
        }
        return fail(Errc::io, fmt::format("mkdir {}: exists and is not a directory",
                                          current.string()));
      }
      return fail_errno("mkdir " + current.string());
    }
  }
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content,
                               mode_t mode, Overwrite overwrite) {
  const std::filesystem::path dir =
    path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) {
    return fail_errno("create temporary file in " + dir.string());
  }
  auto cleanup = [&] { ::unlink(tmpl.c_str()); };
  if (::fchmod(fd.get(), mode) != 0) {
    cleanup();
    return fail_errno("chmod " + tmpl);
  }
  if (auto r = write_all(fd.get(), content, tmpl); !r) {
    cleanup();
    return r;
  }
  if (::fsync(fd.get()) != 0) {
    cleanup();
    return fail_errno("fsync " + tmpl);
  }
  if (fd.close() != 0) {
    cleanup();
    return fail_errno("close " + tmpl);
  }
  if (overwrite == Overwrite::no) {
    // link(2) fails with EEXIST instead of replacing, unlike rename(2).
    if (::link(tmpl.c_str(), path.c_str()) != 0) {
      const int err = errno;
      cleanup();
      if (err == EEXIST) {
        return fail(Errc::conflict, fmt::format("{} already exists", path.string()));
      }
      return fail_errno("link " + path.string(), err);
    }
    cleanup();
  } else if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    cleanup();
    return fail_errno("rename to " + path.string(), err);
  }
  return fsync_dir(dir);
}

} // namespace custody
