#include "common/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>
#include <utility>

namespace custody {

namespace {

EVP_MD_CTX* ctx_of(void* p) {
  return static_cast<EVP_MD_CTX*>(p);
}

const EVP_MD* sha256_md() {
  // Fetched once: EVP_MD_fetch is comparatively expensive and the result is
  // immutable and thread-safe (OpenSSL 3 provider model).
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

void check(int rc, const char* what) {
  if (rc != 1) {
    // Only an allocation failure or a broken OpenSSL install gets here.
    throw std::runtime_error(std::string("OpenSSL ") + what + " failed");
  }
}

} // namespace

Sha256::Sha256()
  : m_ctx(EVP_MD_CTX_new()) {
  if (m_ctx == nullptr) {
    throw std::bad_alloc();
  }
  check(EVP_DigestInit_ex2(ctx_of(m_ctx), sha256_md(), nullptr), "DigestInit");
}

Sha256::Sha256(Sha256&& other) noexcept
  : m_ctx(std::exchange(other.m_ctx, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_of(m_ctx));
    m_ctx = std::exchange(other.m_ctx, nullptr);
  }
  return *this;
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_of(m_ctx));
}

void Sha256::update(std::span<const uint8_t> data) {
  check(EVP_DigestUpdate(ctx_of(m_ctx), data.data(), data.size()), "DigestUpdate");
}

void Sha256::update(std::string_view data) {
  update(as_bytes(data));
}

Hash256 Sha256::final() {
  Hash256 out{};
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx_of(m_ctx), out.data(), &len), "DigestFinal");
  check(EVP_DigestInit_ex2(ctx_of(m_ctx), sha256_md(), nullptr), "DigestInit");
  return out;
}

Hash256 sha256(std::span<const uint8_t> data) {
  Hash256 out{};
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr),
        "Digest");
  return out;
}

Hash256 sha256(std::string_view data) {
  return sha256(as_bytes(data));
}

std::string to_hex(std::span<const uint8_t> data) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(k_digits[b >> 4]);
    out.push_back(k_digits[b & 0xf]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
} // namespace

Result<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return fail(Errc::invalid_input, "hex string has odd length");
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return fail(Errc::invalid_input, "invalid hex digit");
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

Result<Hash256> hash_from_hex(std::string_view hex) {
  if (hex.size() != 64) {
    return fail(Errc::invalid_input, "a SHA-256 digest has 64 hex digits");
  }
  Hash256 out{};
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return fail(Errc::invalid_input, "invalid hex digit");
    }
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

namespace {
constexpr char k_b64[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}
} // namespace

std::string to_base64(std::span<const uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8)
                       | uint32_t{data[i + 2]};
    out.push_back(k_b64[(v >> 18) & 63]);
    out.push_back(k_b64[(v >> 12) & 63]);
    out.push_back(k_b64[(v >> 6) & 63]);
    out.push_back(k_b64[v & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out.push_back(k_b64[(v >> 18) & 63]);
    out.push_back(k_b64[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out.push_back(k_b64[(v >> 18) & 63]);
    out.push_back(k_b64[(v >> 12) & 63]);
    out.push_back(k_b64[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

std::string to_base64(std::string_view data) {
  return to_base64(as_bytes(data));
}

Result<std::string> from_base64(std::string_view b64) {
  if (b64.size() % 4 != 0) {
    return fail(Errc::invalid_input, "base64 length is not a multiple of 4");
  }
  std::string out;
  out.reserve(b64.size() / 4 * 3);
  for (size_t i = 0; i < b64.size(); i += 4) {
    const bool last = i + 4 == b64.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = b64[i + static_cast<size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) {
        return fail(Errc::invalid_input, "base64 padding in the middle");
      }
      v[j] = b64_value(c);
      if (v[j] < 0) {
        return fail(Errc::invalid_input, "invalid base64 character");
      }
    }
    const uint32_t w = (static_cast<uint32_t>(v[0]) << 18)
                       | (static_cast<uint32_t>(v[1]) << 12)
                       | (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0)) {
      return fail(Errc::invalid_input, "base64 has non-zero trailing bits");
    }
    out.push_back(static_cast<char>((w >> 16) & 0xff));
    if (pad < 2) {
      out.push_back(static_cast<char>((w >> 8) & 0xff));
    }
    if (pad < 1) {
      out.push_back(static_cast<char>(w & 0xff));
    }
  }
  return out;
}

} // namespace custody
