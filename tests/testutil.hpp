// Helpers shared by the unit tests: temporary directories and whole-file I/O.
// Test-only code; aborts the test (via doctest) on I/O failure.
#pragma once

#include <filesystem>
#include <string>

namespace custody::test {

// Creates a fresh directory under $TMPDIR (or /tmp) whose name starts with `prefix`.
std::filesystem::path make_temp_dir(const std::string& prefix);
// Creates a fresh subdirectory of the run's temp dir for one test case.
std::filesystem::path case_dir(const std::string& name);
// Writes `content` to `path`, replacing it.
void write_file(const std::filesystem::path& path, const std::string& content);
// Returns the whole content of `path`.
std::string read_file(const std::filesystem::path& path);

} // namespace custody::test
