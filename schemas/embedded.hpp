// The files of schemas/ compiled into the binary (see schemas/CMakeLists.txt).
//
// find("entries/collect.schema.json") returns the text of that file as it was
// at build time. Thread-safety: read-only static data.
#pragma once

#include <optional>
#include <string_view>

namespace custody::schemas {

// Returns the text of schema file `name` (path relative to schemas/), if embedded.
std::optional<std::string_view> find(std::string_view name);

} // namespace custody::schemas
