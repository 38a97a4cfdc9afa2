// Durable file writes: temp file in the target directory, fsync, rename, fsync
// of the directory (as LevelDB's env_posix does), so a crash leaves either the
// old file or the complete new one, never a torn one.
//
// Thread-safety: functions are independent; concurrent writers to the same
// path race like rename(2) does (last one wins, each file complete).
#pragma once

#include "common/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace custody {

enum class Overwrite { yes, no };

// Writes `content` to `path` atomically with permission bits `mode`. With
// Overwrite::no an existing `path` is an Errc::conflict error (checked with a
// hard link, so two racing writers cannot both succeed).
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content,
                               mode_t mode, Overwrite overwrite = Overwrite::yes);

// fsyncs the directory `dir`, making renames and creations in it durable.
Result<void> fsync_dir(const std::filesystem::path& dir);

// Creates `dir` and missing parents with mode `mode` (existing ones are left alone).
Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode);

// Reads the whole of `path`, failing if it is larger than `max_bytes`.
Result<std::string> read_small_file(const std::filesystem::path& path, size_t max_bytes);

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data, std::string_view what);

} // namespace custody
