#include "common/ed25519.hpp"

#include "tests/testutil.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace custody;

TEST_CASE("ed25519 signs and verifies; only exact signatures verify") {
  auto key = SigningKey::generate();
  REQUIRE(key);
  const std::string msg = "custody-entry/v1\n{}";
  auto sig = key->sign(as_bytes(msg));
  REQUIRE(sig);
  CHECK(key->public_key().verify(as_bytes(msg), *sig));
  Signature bad = *sig;
  bad[10] ^= 1;
  CHECK_FALSE(key->public_key().verify(as_bytes(msg), bad));
  CHECK_FALSE(key->public_key().verify(as_bytes(msg + "x"), *sig));
  CHECK_FALSE(key->public_key().verify(as_bytes(msg), std::span(*sig).subspan(0, 63)));
  auto other = SigningKey::generate();
  CHECK_FALSE(other->public_key().verify(as_bytes(msg), *sig));
}

TEST_CASE("ed25519 verification contexts are reused safely across keys and failures") {
  auto a = *SigningKey::generate();
  auto b = *SigningKey::generate();
  const std::string m1 = "first";
  const std::string m2 = "second";
  const Signature sa1 = *a.sign(as_bytes(m1));
  const Signature sa2 = *a.sign(as_bytes(m2));
  const Signature sb1 = *b.sign(as_bytes(m1));
  for (int round = 0; round < 3; ++round) {
    CHECK(a.public_key().verify(as_bytes(m1), sa1));
    CHECK(a.public_key().verify(as_bytes(m2), sa2));
    CHECK_FALSE(a.public_key().verify(as_bytes(m1), sa2)); // a failure ...
    CHECK(a.public_key().verify(as_bytes(m2), sa2));       // ... does not poison the next
    CHECK(b.public_key().verify(as_bytes(m1), sb1));
    CHECK_FALSE(b.public_key().verify(as_bytes(m1), sa1)); // right message, wrong key
    CHECK_FALSE(a.public_key().verify(as_bytes(m1), sb1));
  }
  // More keys than the per-thread cache holds still verify correctly.
  std::vector<SigningKey> many;
  for (int i = 0; i < 40; ++i) {
    many.push_back(*SigningKey::generate());
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& k : many) {
      CHECK(k.public_key().verify(as_bytes(m1), *k.sign(as_bytes(m1))));
      CHECK_FALSE(k.public_key().verify(as_bytes(m2), *k.sign(as_bytes(m1))));
    }
  }
}

TEST_CASE("ed25519 RFC 8032 §7.1 test 1 known answer") {
  auto seed = *from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto key = SigningKey::from_seed(as_bytes(seed));
  REQUIRE(key);
  CHECK(to_hex(key->public_key().raw())
        == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = key->sign({});
  REQUIRE(sig);
  CHECK(to_hex(*sig)
        == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
           "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST_CASE("ed25519 key files: 0600 saved, loose modes refused, passphrase enforced") {
  const auto dir = test::case_dir("keys");
  auto key = *SigningKey::generate();
  const auto path = dir / "sub" / "alice.pem";
  REQUIRE(key.save(path, std::nullopt));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto loaded = SigningKey::load(path, std::nullopt);
  REQUIRE(loaded);
  CHECK(loaded->public_key() == key.public_key());
  CHECK_FALSE(key.save(path, std::nullopt)); // never overwrites

  ::chmod(path.c_str(), 0644);
  auto refused = SigningKey::load(path, std::nullopt);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("accessible by group or others") != std::string::npos);
  CHECK(refused.error().message.find("0644") != std::string::npos);

  const auto enc = dir / "enc.pem";
  REQUIRE(key.save(enc, Secret("correct horse")));
  CHECK(test::read_file(enc).find("ENCRYPTED") != std::string::npos);
  CHECK(SigningKey::load(enc, Secret("correct horse")));
  auto wrong = SigningKey::load(enc, Secret("wrong"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message.find("wrong passphrase") != std::string::npos);
  CHECK(wrong.error().message.find("wrong\"") == std::string::npos);
  CHECK_FALSE(SigningKey::load(enc, std::nullopt));

  auto pub = PublicKey::from_pem(key.public_key().to_pem());
  REQUIRE(pub);
  CHECK(*pub == key.public_key());
  CHECK_FALSE(PublicKey::from_pem("garbage"));
}
