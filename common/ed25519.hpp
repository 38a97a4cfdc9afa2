// Ed25519 keys (OpenSSL 3 EVP): generation, PEM files, signing, verification.
//
// Private keys are PKCS#8 PEM files, optionally encrypted (AES-256-CBC) with a
// passphrase. load() refuses a file that is group- or world-accessible or owned
// by someone else, as OpenSSH does ("UNPROTECTED PRIVATE KEY FILE"). save()
// never replaces an existing file. Signatures are PureEdDSA one-shot
// (EVP_DigestSign with a NULL digest); a signature is valid only when
// EVP_DigestVerify returns exactly 1.
//
// Thread-safety: a PublicKey or SigningKey may be used from several threads at
// once (each call makes its own EVP_MD_CTX).
#pragma once

#include "common/digest.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace custody {

using Signature = std::array<uint8_t, 64>;
using RawPublicKey = std::array<uint8_t, 32>;

class PublicKey {
public:
  // Wraps a 32-byte raw Ed25519 public key.
  static Result<PublicKey> from_raw(std::span<const uint8_t> raw);
  // Parses a "-----BEGIN PUBLIC KEY-----" SubjectPublicKeyInfo PEM.
  static Result<PublicKey> from_pem(std::string_view pem);

  [[nodiscard]] const RawPublicKey& raw() const {
    return m_raw;
  }
  // Returns the key's fingerprint: lowercase hex SHA-256 of the raw key.
  [[nodiscard]] std::string fingerprint() const;
  // Returns the SubjectPublicKeyInfo PEM.
  [[nodiscard]] std::string to_pem() const;
  // Returns true only when `sig` is a valid signature of `message`.
  [[nodiscard]] bool verify(std::span<const uint8_t> message,
                            std::span<const uint8_t> sig) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    return a.m_raw == b.m_raw;
  }

private:
  RawPublicKey m_raw{};
  std::shared_ptr<void> m_pkey; // EVP_PKEY*
};

class SigningKey {
public:
  // Generates a fresh key from the OpenSSL CSPRNG.
  static Result<SigningKey> generate();
  // Builds the key whose RFC 8032 32-byte private seed is `seed` (known-answer tests).
  static Result<SigningKey> from_seed(std::span<const uint8_t> seed);
  // Loads a PKCS#8 PEM private key from `path`, decrypting with `passphrase`
  // when it is encrypted. Refuses loose permissions (see header comment).
  static Result<SigningKey> load(const std::filesystem::path& path,
                                 const std::optional<Secret>& passphrase);
  // Writes the key to `path` (mode 0600, parent directories created 0700),
  // encrypted with `passphrase` when given. Fails if `path` exists.
  Result<void> save(const std::filesystem::path& path,
                    const std::optional<Secret>& passphrase) const;

  [[nodiscard]] const PublicKey& public_key() const {
    return m_public;
  }
  // Returns the Ed25519 signature of `message`.
  [[nodiscard]] Result<Signature> sign(std::span<const uint8_t> message) const;

private:
  PublicKey m_public;
  std::shared_ptr<void> m_pkey; // EVP_PKEY*
};

// Fails when private key file `path` is not a regular file, is accessible by
// group or others, or is owned by another user.
Result<void> check_private_file_mode(const std::filesystem::path& path);

} // namespace custody
