// ObjectStore: the vault's content-addressed evidence store.
//
// Layout under the store root (VAULT/objects):
//   sha256/ab/cdef...   one read-only file (0444) per distinct content, named by
//                       its SHA-256 (first two hex digits as a directory)
//   tmp/                ingests in flight; anything left here after a crash is
//                       an incomplete copy and is never referenced
// Directories are 0700. An ingest reads its source once: each chunk is written
// to a temp file by one thread while another hashes it, then the file is
// fsynced, made read-only and linked into place under its digest, and the
// directory fsynced. Content already present is stored once (the new copy is
// dropped; the existing object is left untouched so a corrupted one stays
// detectable by `custody verify`). Nothing here touches the ledger: callers
// record an item only after ingest() returned.
//
// Thread-safety: an ObjectStore may be used from several threads and
// processes at once; concurrent ingests of the same content both succeed.
#pragma once

#include "common/c_handle.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace custody::vault {

struct StoredObject {
  Hash256 sha256{};
  uint64_t size = 0;
  bool already_present = false; // identical content was stored before
};

class ObjectStore {
public:
  // Opens (creating if needed) the store rooted at `root`.
  static Result<ObjectStore> open(const std::filesystem::path& root);

  // Copies everything readable from `fd` into the store, hashing in the same
  // pass. `what` names the source in error messages. A read or write error
  // (including a full disk) leaves nothing behind and fails.
  Result<StoredObject> ingest_fd(int fd, std::string_view what);
  // Stores `bytes`.
  Result<StoredObject> ingest_bytes(std::string_view bytes, std::string_view what);

  // Returns the path of the object with digest `sha256`.
  [[nodiscard]] std::filesystem::path object_path(const Hash256& sha256) const;
  // Opens the object with digest `sha256` for reading.
  Result<UniqueFd> open_object(const Hash256& sha256) const;
  [[nodiscard]] const std::filesystem::path& root() const {
    return m_root;
  }

private:
  Result<StoredObject> finish(UniqueFd tmp_fd, const std::string& tmp_path, const Hash256& sha,
                              uint64_t size);
  std::filesystem::path m_root;
};

// Reads all of `fd`, hashing it; calls `sink` (when set) with each chunk.
// Returns the digest and size. Used to re-hash objects and exported copies.
Result<StoredObject> hash_fd(int fd, std::string_view what,
                             const std::function<Result<void>(std::string_view)>& sink = {});

} // namespace custody::vault
