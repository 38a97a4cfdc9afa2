// SHA-256 (OpenSSL EVP) and the byte encodings custody uses: lowercase hex and
// standard base64 (RFC 4648 §4, with padding).
//
// Sha256 is a streaming hasher: update() any number of times, then final().
// One Sha256 object must not be used from two threads at once; distinct objects
// are independent.
#pragma once

#include "common/result.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace custody {

using Hash256 = std::array<uint8_t, 32>;

class Sha256 {
public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  // Feeds `data` into the hash.
  void update(std::span<const uint8_t> data);
  void update(std::string_view data);
  // Returns the digest; the object is reset and may be reused.
  Hash256 final();

private:
  void* m_ctx = nullptr; // EVP_MD_CTX*
};

// Returns SHA-256 of `data`.
Hash256 sha256(std::span<const uint8_t> data);
Hash256 sha256(std::string_view data);

// Returns the lowercase hex encoding of `data`.
std::string to_hex(std::span<const uint8_t> data);
// Decodes hex (upper or lower case); fails on odd length or a non-hex digit.
Result<std::string> from_hex(std::string_view hex);
// Parses exactly 64 hex digits into a Hash256.
Result<Hash256> hash_from_hex(std::string_view hex);
// Returns true when `s` is 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);

// Returns the base64 encoding (RFC 4648 §4, padded) of `data`.
std::string to_base64(std::span<const uint8_t> data);
std::string to_base64(std::string_view data);
// Decodes strict padded base64; fails on any character outside the alphabet,
// bad padding, or non-zero trailing bits (so every value has one encoding).
Result<std::string> from_base64(std::string_view b64);

// Views a string's bytes as unsigned bytes.
inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

} // namespace custody
