// Canonical JSON: the one byte encoding custody signs and hashes.
//
// The encoding is a strict subset of JSON in the spirit of RFC 8785 (JCS):
//   - objects with keys sorted by their UTF-8 bytes, no duplicate keys;
//   - no whitespace anywhere;
//   - numbers are integers in [-2^63, 2^63) written in shortest decimal form
//     (no '+', no leading zeros, no "-0", no fraction, no exponent);
//   - strings are UTF-8; only '"', '\\' and U+0000..U+001F are escaped, as
//     \" \\ \b \f \n \r \t or \u00xx (lowercase hex); everything else literal;
//   - true, false, null, arrays as usual; nesting at most 32 deep.
// decode() accepts only text that encode() would produce byte for byte, so a
// value has exactly one accepted encoding (checked by re-encoding and comparing).
// See schemas/FORMAT.md §"Canonical JSON".
//
// Thread-safety: pure functions (encode() keeps a per-thread scratch buffer).
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace custody::cjson {

using Json = nlohmann::json;

inline constexpr size_t k_max_depth = 32;
inline constexpr size_t k_max_size = 1024 * 1024;

// Returns the canonical encoding of `value`; fails on floats, integers outside
// int64, invalid UTF-8 in a string or key, or nesting deeper than k_max_depth.
Result<std::string> encode(const Json& value);

// Appends the canonical encoding of `value` to `out`, failing as encode() does;
// on failure `out` keeps its old contents (its capacity may have grown). For
// callers that encode many documents into one reused buffer: with enough
// capacity left, it allocates nothing. (encode() costs one allocation of the
// result's size.)
Result<void> encode_into(const Json& value, std::string& out);

// Parses `text` and fails unless it is exactly the canonical encoding of the
// parsed value. The error message says what is non-canonical and where.
Result<Json> decode(std::string_view text);

} // namespace custody::cjson
