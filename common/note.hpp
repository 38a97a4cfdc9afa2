// C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints
// (c2sp.org/tlog-checkpoint), with Ed25519 signatures.
//
// A note is UTF-8 text ending in "\n", a blank line, then one or more lines
// "— <key name> <base64(key hash[4] || signature[64])>\n". The key hash is the
// first 4 bytes of SHA-256(<key name> || "\n" || 0x01 || <32-byte public key>).
// A verifier key is written "<name>+<key hash hex>+<base64(0x01 || public key)>".
//
// A checkpoint's text is "<origin>\n<tree size>\n<base64 root hash>\n". custody
// writes no extension lines and rejects them: a monitor cannot audit them.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include "common/ed25519.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace custody::note {

struct Verifier {
  std::string name;
  uint32_t key_hash = 0;
  PublicKey key;
};

// Returns the C2SP key hash of an Ed25519 key called `name`.
uint32_t key_hash(std::string_view name, const PublicKey& key);
// Returns the verifier key string "<name>+<hash>+<base64>".
std::string format_vkey(std::string_view name, const PublicKey& key);
// Parses a verifier key string; only Ed25519 (type 0x01) is accepted.
Result<Verifier> parse_vkey(std::string_view vkey);
// Returns true when `name` is a valid key name (non-empty, no space, no '+').
bool valid_key_name(std::string_view name);

// Returns `text` signed by `key` under `name`: text + "\n" + signature line.
// REQUIRES: text is non-empty and ends in "\n".
Result<std::string> sign(std::string_view text, std::string_view name, const SigningKey& key);

struct Opened {
  std::string text;                   // the signed text, ending in "\n"
  std::vector<std::string> verified_by; // names of the known keys that verified
};

// Verifies `note` against `known`: at least one known key must verify it, and
// every signature line claiming a known key (same name and key hash) must be
// valid. Unknown signatures are ignored, as the spec requires. Malformed notes
// (no blank line, bad base64, more than 100 signatures, stray text) fail.
Result<Opened> open(std::string_view note, const std::vector<Verifier>& known);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash256 root{};
};

// Returns the checkpoint text "<origin>\n<size>\n<base64 root>\n".
std::string format_checkpoint(const Checkpoint& cp);
// Parses checkpoint text strictly: three lines, decimal size without leading
// zeros below 2^63, 32-byte base64 root, no extension lines.
Result<Checkpoint> parse_checkpoint(std::string_view text);

} // namespace custody::note
