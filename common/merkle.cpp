#include "common/merkle.hpp"

#include <bit>

namespace custody::merkle {

namespace {

// Largest power of two strictly less than `n`. REQUIRES: n > 1.
uint64_t split_point(uint64_t n) {
  return std::bit_floor(n - 1);
}

void path(std::span<const Hash256> d, uint64_t m, std::vector<Hash256>& out) {
  const uint64_t n = d.size();
  if (n <= 1) {
    return;
  }
  const uint64_t k = split_point(n);
  if (m < k) {
    path(d.subspan(0, k), m, out);
    out.push_back(root_of(d.subspan(k)));
  } else {
    path(d.subspan(k), m - k, out);
    out.push_back(root_of(d.subspan(0, k)));
  }
}

void subproof(uint64_t m, std::span<const Hash256> d, bool b, std::vector<Hash256>& out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!b) {
      out.push_back(root_of(d));
    }
    return;
  }
  const uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, d.subspan(0, k), b, out);
    out.push_back(root_of(d.subspan(k)));
  } else {
    subproof(m - k, d.subspan(k), false, out);
    out.push_back(root_of(d.subspan(0, k)));
  }
}

} // namespace

namespace {

// Returns SHA-256(`prefix` || `data`) with this thread's reused context:
// creating and freeing an EVP_MD_CTX per hash costs about as much as hashing a
// typical entry. A context left mid-hash by an error is replaced.
Hash256 prefixed_sha256(uint8_t prefix, std::span<const uint8_t> data) {
  thread_local Sha256 h;
  try {
    h.update(std::span<const uint8_t>(&prefix, 1));
    h.update(data);
    return h.final();
  } catch (...) {
    h = Sha256();
    throw;
  }
}

} // namespace

Hash256 leaf_hash(std::span<const uint8_t> data) {
  return prefixed_sha256(0x00, data);
}

Hash256 node_hash(const Hash256& left, const Hash256& right) {
  uint8_t buf[64];
  std::copy(left.begin(), left.end(), buf);
  std::copy(right.begin(), right.end(), buf + 32);
  return prefixed_sha256(0x01, std::span<const uint8_t>(buf, sizeof buf));
}

Hash256 empty_root() {
  return sha256(std::string_view());
}

Hash256 root_of(std::span<const Hash256> leaf_hashes) {
  const uint64_t n = leaf_hashes.size();
  if (n == 0) {
    return empty_root();
  }
  if (n == 1) {
    return leaf_hashes[0];
  }
  const uint64_t k = split_point(n);
  return node_hash(root_of(leaf_hashes.subspan(0, k)), root_of(leaf_hashes.subspan(k)));
}

void CompactRange::append(const Hash256& leaf_hash) {
  // Adding 1 to the size carries through its trailing one bits; each carry
  // merges the two rightmost peaks, exactly like binary addition.
  Hash256 h = leaf_hash;
  for (uint64_t s = m_size; (s & 1U) != 0; s >>= 1U) {
    h = node_hash(m_peaks.back(), h);
    m_peaks.pop_back();
  }
  m_peaks.push_back(h);
  ++m_size;
}

Hash256 CompactRange::root() const {
  if (m_peaks.empty()) {
    return empty_root();
  }
  Hash256 h = m_peaks.back();
  for (size_t i = m_peaks.size() - 1; i-- > 0;) {
    h = node_hash(m_peaks[i], h);
  }
  return h;
}

std::vector<Hash256> inclusion_proof(std::span<const Hash256> leaf_hashes, uint64_t index) {
  std::vector<Hash256> out;
  path(leaf_hashes, index, out);
  return out;
}

bool verify_inclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                      std::span<const Hash256> proof, const Hash256& root) {
  if (index >= size) {
    return false;
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash256 r = leaf;
  for (const Hash256& p : proof) {
    if (sn == 0) {
      return false;
    }
    if ((fn & 1U) != 0 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1U) == 0) {
        while ((fn & 1U) == 0 && fn != 0) {
          fn >>= 1U;
          sn >>= 1U;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1U;
    sn >>= 1U;
  }
  return sn == 0 && r == root;
}

std::vector<Hash256> consistency_proof(std::span<const Hash256> leaf_hashes,
                                       uint64_t old_size) {
  std::vector<Hash256> out;
  subproof(old_size, leaf_hashes, true, out);
  return out;
}

bool verify_consistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                        const Hash256& new_root, std::span<const Hash256> proof) {
  if (old_size == 0 || old_size > new_size) {
    return false;
  }
  if (old_size == new_size) {
    return proof.empty() && old_root == new_root;
  }
  if (proof.empty()) {
    return false;
  }
  std::vector<Hash256> path(proof.begin(), proof.end());
  if (std::has_single_bit(old_size)) {
    path.insert(path.begin(), old_root);
  }
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1U) != 0) {
    fn >>= 1U;
    sn >>= 1U;
  }
  Hash256 fr = path[0];
  Hash256 sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash256& c = path[i];
    if (sn == 0) {
      return false;
    }
    if ((fn & 1U) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while ((fn & 1U) == 0 && fn != 0) {
        fn >>= 1U;
        sn >>= 1U;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1U;
    sn >>= 1U;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

} // namespace custody::merkle
