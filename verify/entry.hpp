// The custody ledger entry: its fields, canonical bytes, signed message and
// leaf hash. This is the format both the writer (vault/) and the independent
// verifier read; it is specified in schemas/FORMAT.md §"Entries".
//
//   bytes   = canonical JSON of {v, origin, seq, prev, type, t_ms, actor, kid,
//             incident, fields}                       (common/canonical_json.hpp)
//   leaf    = SHA-256(0x00 || bytes)                  (RFC 6962 leaf hash)
//   prev    = hex leaf hash of entry seq-1; 64 zeros for seq 0
//   message = "custody-entry/v1\n" || bytes           (signed by the actor's Ed25519 key)
//
// decode_entry() rejects anything that is not exactly the canonical encoding of
// a schema-valid entry (envelope: schemas/entry.schema.json; fields:
// schemas/entries/<type>.schema.json).
//
// Thread-safety: pure functions; the embedded schemas are immutable.
#pragma once

#include "common/canonical_json.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace custody::verify {

using Json = cjson::Json;

inline constexpr int k_entry_format = 1;
inline constexpr std::string_view k_entry_context = "custody-entry/v1\n";

struct Entry {
  std::string origin;
  uint64_t seq = 0;
  Hash256 prev{};
  std::string type;
  int64_t t_ms = 0;
  std::string actor;
  std::string kid;
  std::string incident; // "" when the entry concerns no incident
  Json fields = Json::object();
};

// Returns the entry's canonical bytes after validating it against the schemas.
Result<std::string> encode_entry(const Entry& entry);
// Parses canonical entry bytes; fails (Errc::corrupt) on non-canonical text,
// schema violations or an unknown type.
Result<Entry> decode_entry(std::string_view bytes);
// Returns "custody-entry/v1\n" || `bytes`, the message the actor signs.
std::string signed_message(std::string_view bytes);
// As signed_message(), into `out` (whose capacity is reused).
void signed_message_into(std::string_view bytes, std::string& out);
// Returns the RFC 6962 leaf hash of `bytes`.
Hash256 entry_leaf_hash(std::string_view bytes);
// Returns the all-zero hash that seq 0 names as its prev.
Hash256 genesis_prev();

// Validates `fields` of entry type `type` against schemas/entries/<type>.schema.json.
Result<void> check_fields(std::string_view type, const Json& fields);

} // namespace custody::verify
