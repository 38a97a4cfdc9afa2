// Known answers from transparency-dev/merkle: testonly/constants.go (leaf
// inputs and the RFC 6962 roots for every tree size 0..8),
// testdata/inclusion/1/happy-path.json and testdata/consistency/3/happy-path.json.
#include "common/merkle.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace custody;
using namespace custody::merkle;

namespace {

Hash256 b64h(std::string_view b64) {
  const std::string raw = *from_base64(b64);
  Hash256 out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

std::vector<Hash256> reference_leaves() {
  std::vector<Hash256> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(leaf_hash(as_bytes(*from_hex(hex))));
  }
  return out;
}

const char* const k_roots[] = {
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

} // namespace

TEST_CASE("merkle::root_of and CompactRange match RFC 6962 roots for sizes 0..8") {
  const auto leaves = reference_leaves();
  CompactRange range;
  CHECK(to_hex(range.root()) == k_roots[0]);
  for (size_t n = 1; n <= leaves.size(); ++n) {
    CAPTURE(n);
    range.append(leaves[n - 1]);
    CHECK(to_hex(root_of(std::span(leaves).subspan(0, n))) == k_roots[n]);
    CHECK(to_hex(range.root()) == k_roots[n]);
    CHECK(range.size() == n);
  }
}

TEST_CASE("merkle::leaf and node prefixes separate the domains") {
  // Swapping children changes the hash, and a node is not a leaf of its concatenation.
  const Hash256 a = leaf_hash(as_bytes("a"));
  const Hash256 b = leaf_hash(as_bytes("b"));
  CHECK(node_hash(a, b) != node_hash(b, a));
  std::string concat(a.begin(), a.end());
  concat.append(b.begin(), b.end());
  CHECK(leaf_hash(as_bytes(concat)) != node_hash(a, b));
}

TEST_CASE("merkle::inclusion proofs match transparency-dev happy path and reject mutations") {
  const auto leaves = reference_leaves();
  const auto proof = inclusion_proof(leaves, 0);
  REQUIRE(proof.size() == 3);
  CHECK(proof[0] == b64h("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="));
  CHECK(proof[1] == b64h("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="));
  CHECK(proof[2] == b64h("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="));
  const Hash256 root = b64h("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  CHECK(verify_inclusion(0, 8, leaves[0], proof, root));

  // Every (index, size) pair round-trips, and every single-bit flip is caught.
  for (uint64_t size = 1; size <= 8; ++size) {
    const auto sub = std::span(leaves).subspan(0, size);
    const Hash256 r = root_of(sub);
    for (uint64_t i = 0; i < size; ++i) {
      auto p = inclusion_proof(sub, i);
      CHECK(verify_inclusion(i, size, leaves[i], p, r));
      CHECK_FALSE(verify_inclusion(size, size, leaves[i], p, r));
      for (auto& node : p) {
        node[7] ^= 0x10;
        CHECK_FALSE(verify_inclusion(i, size, leaves[i], p, r));
        node[7] ^= 0x10;
      }
      p.push_back(r); // trailing garbage
      CHECK_FALSE(verify_inclusion(i, size, leaves[i], p, r));
    }
  }
}

TEST_CASE("merkle::consistency proofs match transparency-dev happy path and reject mutations") {
  const auto leaves = reference_leaves();
  const auto proof = consistency_proof(std::span(leaves).subspan(0, 5), 2);
  REQUIRE(proof.size() == 2);
  CHECK(proof[0] == b64h("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="));
  CHECK(proof[1] == b64h("vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="));
  CHECK(verify_consistency(2, 5, b64h("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="),
                           b64h("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="), proof));

  for (uint64_t n = 1; n <= 8; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      CAPTURE(m);
      CAPTURE(n);
      const auto sub = std::span(leaves).subspan(0, n);
      const Hash256 r1 = root_of(sub.subspan(0, m));
      const Hash256 r2 = root_of(sub);
      auto p = consistency_proof(sub, m);
      CHECK(verify_consistency(m, n, r1, r2, p));
      if (m != n) {
        CHECK_FALSE(verify_consistency(m, n, r2, r1, p)); // swapped roots
        CHECK_FALSE(verify_consistency(n, m, r2, r1, p)); // old size > new size
        for (auto& node : p) {
          node[0] ^= 0x01;
          CHECK_FALSE(verify_consistency(m, n, r1, r2, p));
          node[0] ^= 0x01;
        }
        CHECK_FALSE(verify_consistency(m, n, r1, r2, {})); // empty proof
      }
    }
  }
  CHECK_FALSE(verify_consistency(0, 3, empty_root(), root_of(leaves), {}));
}
