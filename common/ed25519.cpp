#include "common/ed25519.hpp"

#include "common/atomic_file.hpp"
#include "common/c_handle.hpp"

#include <fmt/format.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace custody {

namespace {

using PkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;
using MdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = CHandle<BIO, BIO_free_all>;

std::shared_ptr<void> share(EVP_PKEY* p) {
  return {p, [](void* q) { EVP_PKEY_free(static_cast<EVP_PKEY*>(q)); }};
}

EVP_PKEY* pkey(const std::shared_ptr<void>& p) {
  return static_cast<EVP_PKEY*>(p.get());
}

// Returns the text of the oldest queued OpenSSL error and clears the queue.
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

Result<RawPublicKey> raw_public(EVP_PKEY* key) {
  RawPublicKey raw{};
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 || len != raw.size()) {
    return fail(Errc::invalid_input, "not an Ed25519 key: " + openssl_error());
  }
  return raw;
}

int passphrase_cb(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* secret = static_cast<const Secret*>(u);
  if (secret == nullptr) {
    return -1; // encrypted key but no passphrase: fail instead of prompting
  }
  const std::string_view value = secret->reveal();
  if (value.size() > static_cast<size_t>(size)) {
    return -1;
  }
  std::copy(value.begin(), value.end(), buf);
  return static_cast<int>(value.size());
}

} // namespace

Result<PublicKey> PublicKey::from_raw(std::span<const uint8_t> raw) {
  if (raw.size() != 32) {
    return fail(Errc::invalid_input, "an Ed25519 public key has 32 bytes");
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (key == nullptr) {
    return fail(Errc::invalid_input, "invalid Ed25519 public key: " + openssl_error());
  }
  PublicKey out;
  std::copy(raw.begin(), raw.end(), out.m_raw.begin());
  out.m_pkey = share(key);
  return out;
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return fail(Errc::internal, "BIO_new_mem_buf failed");
  }
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return fail(Errc::invalid_input, "not a PEM public key: " + openssl_error());
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return fail(Errc::invalid_input, "public key is not Ed25519");
  }
  CUSTODY_TRY_ASSIGN(const RawPublicKey raw, raw_public(key.get()));
  return from_raw(raw);
}

std::string PublicKey::fingerprint() const {
  return to_hex(sha256(m_raw));
}

std::string PublicKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey(m_pkey)) != 1) {
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(len)};
}

bool PublicKey::verify(std::span<const uint8_t> message, std::span<const uint8_t> sig) const {
  if (!m_pkey || sig.size() != 64) {
    return false;
  }
  // A verification context initialised for a key can verify any number of
  // messages (PureEdDSA is one-shot per call); initialising one costs about a
  // tenth of a verification, so each thread keeps one per recently used key,
  // as `openssl speed` does. The cache holds the key alive.
  struct CachedCtx {
    std::shared_ptr<void> key;
    MdCtxPtr ctx;
  };
  thread_local std::vector<CachedCtx> cache;
  auto it = std::find_if(cache.begin(), cache.end(),
                         [&](const CachedCtx& c) { return c.key.get() == m_pkey.get(); });
  if (it == cache.end()) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey(m_pkey)) != 1) {
      ERR_clear_error();
      return false;
    }
    if (cache.size() >= 32) {
      cache.erase(cache.begin());
    }
    cache.push_back(CachedCtx{m_pkey, std::move(ctx)});
    it = cache.end() - 1;
  }
  const int rc =
    EVP_DigestVerify(it->ctx.get(), sig.data(), sig.size(), message.data(), message.size());
  if (rc != 1) {
    // 0 = bad signature, < 0 = error: both are "not valid". Start the next
    // verification with that key from a fresh context, whatever state this
    // one is in.
    ERR_clear_error();
    cache.erase(it);
  }
  return rc == 1;
}

Result<SigningKey> SigningKey::generate() {
  using CtxPtr = CHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
  CtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return fail(Errc::internal, "Ed25519 key generation failed: " + openssl_error());
  }
  SigningKey out;
  out.m_pkey = share(raw);
  CUSTODY_TRY_ASSIGN(const RawPublicKey pub, raw_public(raw));
  CUSTODY_TRY_ASSIGN(out.m_public, PublicKey::from_raw(pub));
  return out;
}

Result<SigningKey> SigningKey::from_seed(std::span<const uint8_t> seed) {
  if (seed.size() != 32) {
    return fail(Errc::invalid_input, "an Ed25519 seed has 32 bytes");
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (raw == nullptr) {
    return fail(Errc::invalid_input, "invalid Ed25519 seed: " + openssl_error());
  }
  SigningKey out;
  out.m_pkey = share(raw);
  CUSTODY_TRY_ASSIGN(const RawPublicKey pub, raw_public(raw));
  CUSTODY_TRY_ASSIGN(out.m_public, PublicKey::from_raw(pub));
  return out;
}

Result<void> check_private_file_mode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail_errno("stat " + path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_input, path.string() + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::invalid_input,
                fmt::format("{}: private key is accessible by group or others (mode {:04o}); "
                            "it is refused. Run: chmod 600 {}",
                            path.string(), st.st_mode & 07777, path.string()));
  }
  if (st.st_uid != ::geteuid()) {
    return fail(Errc::invalid_input,
                fmt::format("{}: private key is owned by uid {}, not by the current user",
                            path.string(), st.st_uid));
  }
  return {};
}

Result<SigningKey> SigningKey::load(const std::filesystem::path& path,
                                    const std::optional<Secret>& passphrase) {
  CUSTODY_TRY(check_private_file_mode(path));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail_errno("open " + path.string());
  }
  std::string pem;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      return fail_errno("read " + path.string());
    }
    if (n == 0) {
      break;
    }
    pem.append(buf, static_cast<size_t>(n));
    if (pem.size() > 64 * 1024) {
      return fail(Errc::invalid_input, path.string() + ": too large for a key file");
    }
  }
  Secret pem_secret(std::move(pem)); // wiped on return
  BioPtr bio(BIO_new_mem_buf(pem_secret.reveal().data(),
                             static_cast<int>(pem_secret.reveal().size())));
  if (!bio) {
    return fail(Errc::internal, "BIO_new_mem_buf failed");
  }
  void* u = passphrase ? const_cast<Secret*>(&*passphrase) : nullptr;
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, u);
  if (raw == nullptr) {
    const std::string detail = openssl_error();
    if (pem_secret.reveal().find("ENCRYPTED") != std::string_view::npos) {
      return fail(Errc::invalid_input,
                  fmt::format("{}: cannot decrypt private key ({}); give the passphrase with "
                              "--passphrase-file or CUSTODY_PASSPHRASE_FILE",
                              path.string(), passphrase ? "wrong passphrase" : "no passphrase"));
    }
    return fail(Errc::invalid_input,
                fmt::format("{}: not a PEM private key: {}", path.string(), detail));
  }
  SigningKey out;
  out.m_pkey = share(raw);
  if (EVP_PKEY_get_id(raw) != EVP_PKEY_ED25519) {
    return fail(Errc::invalid_input, path.string() + ": private key is not Ed25519");
  }
  CUSTODY_TRY_ASSIGN(const RawPublicKey pub, raw_public(raw));
  CUSTODY_TRY_ASSIGN(out.m_public, PublicKey::from_raw(pub));
  return out;
}

Result<void> SigningKey::save(const std::filesystem::path& path,
                              const std::optional<Secret>& passphrase) const {
  if (path.has_parent_path()) {
    CUSTODY_TRY(make_dirs(path.parent_path(), 0700));
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return fail(Errc::internal, "BIO_new failed");
  }
  int rc = 0;
  if (passphrase) {
    const std::string_view pw = passphrase->reveal();
    rc = PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey(m_pkey), EVP_aes_256_cbc(),
                                       const_cast<char*>(pw.data()), static_cast<int>(pw.size()),
                                       nullptr, nullptr);
  } else {
    rc = PEM_write_bio_PrivateKey(bio.get(), pkey(m_pkey), nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (rc != 1) {
    return fail(Errc::internal, "PEM encoding failed: " + openssl_error());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  Secret pem(std::string(data, static_cast<size_t>(len)));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return write_file_atomic(path, pem.reveal(), 0600, Overwrite::no);
}

Result<Signature> SigningKey::sign(std::span<const uint8_t> message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Signature sig{};
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey(m_pkey)) != 1
      || EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1
      || len != sig.size()) {
    return fail(Errc::internal, "Ed25519 signing failed: " + openssl_error());
  }
  return sig;
}

} // namespace custody
