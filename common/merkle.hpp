// RFC 6962 / RFC 9162 Merkle tree hashing, proofs and an incremental builder.
//
//   leaf hash  = SHA-256(0x00 || leaf bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of 2 < n
//
// The prefixes separate leaves from interior nodes, so an interior node can
// never be presented as a leaf (second preimage). CompactRange keeps one hash
// per set bit of the size and yields the root of any prefix in O(log n), which
// is what lets the verifier check every stored checkpoint in one pass.
//
// Thread-safety: free functions are pure; a CompactRange is a plain value.
#pragma once

#include "common/digest.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace custody::merkle {

// Returns SHA-256(0x00 || `data`).
Hash256 leaf_hash(std::span<const uint8_t> data);
// Returns SHA-256(0x01 || `left` || `right`).
Hash256 node_hash(const Hash256& left, const Hash256& right);
// Returns the root of the empty tree, SHA-256("").
Hash256 empty_root();

// Returns MTH over `leaf_hashes` (reference recursion, O(n)).
Hash256 root_of(std::span<const Hash256> leaf_hashes);

// Incremental tree: append leaf hashes in order, read the root at any time.
class CompactRange {
public:
  void append(const Hash256& leaf_hash);
  [[nodiscard]] uint64_t size() const {
    return m_size;
  }
  // Returns the root of the tree of the leaves appended so far.
  [[nodiscard]] Hash256 root() const;

private:
  uint64_t m_size = 0;
  // Roots of the perfect subtrees, largest (leftmost) first; one per set bit of m_size.
  std::vector<Hash256> m_peaks;
};

// Returns the RFC 6962 §2.1.1 audit path for leaf `index` of `leaf_hashes`.
// REQUIRES: index < leaf_hashes.size().
std::vector<Hash256> inclusion_proof(std::span<const Hash256> leaf_hashes, uint64_t index);
// Returns true when `proof` proves `leaf` is leaf `index` of the tree of
// `size` leaves with root `root` (RFC 9162 §2.1.3.2).
bool verify_inclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                      std::span<const Hash256> proof, const Hash256& root);

// Returns the RFC 6962 §2.1.2 consistency proof from the first `old_size`
// leaves to all of `leaf_hashes`. REQUIRES: 0 < old_size <= leaf_hashes.size().
std::vector<Hash256> consistency_proof(std::span<const Hash256> leaf_hashes,
                                       uint64_t old_size);
// Returns true when `proof` shows the tree (`old_size`, `old_root`) is a prefix
// of (`new_size`, `new_root`) (RFC 9162 §2.1.4.2). Sizes equal: proof must be
// empty and roots equal. old_size 0 is rejected as meaningless, as
// transparency-dev/merkle does.
bool verify_consistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                        const Hash256& new_root, std::span<const Hash256> proof);

} // namespace custody::merkle
