// Known answers: FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and RFC 4648 §10.
#include "common/digest.hpp"

#include <doctest/doctest.h>

using namespace custody;

TEST_CASE("common::sha256 matches FIPS 180-4 known answers") {
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("common::Sha256 streaming equals one-shot and resets after final") {
  Sha256 h;
  h.update("ab");
  h.update("c");
  CHECK(to_hex(h.final()) == to_hex(sha256("abc")));
  h.update("");
  CHECK(to_hex(h.final()) == to_hex(sha256("")));
  std::string million(1'000'000, 'a');
  h.update(million);
  CHECK(to_hex(h.final()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("common::hex round-trips and rejects bad input") {
  const std::string raw("\x00\x01\xfe\xff", 4);
  CHECK(to_hex(as_bytes(raw)) == "0001feff");
  CHECK(*from_hex("0001FEff") == raw);
  CHECK_FALSE(from_hex("abc"));
  CHECK_FALSE(from_hex("zz"));
  CHECK(is_sha256_hex(to_hex(sha256("x"))));
  CHECK_FALSE(is_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  CHECK_FALSE(hash_from_hex("00"));
}

TEST_CASE("common::base64 matches RFC 4648 §10 and is strict") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    CHECK(to_base64(std::string_view(plain[i])) == enc[i]);
    CHECK(*from_base64(enc[i]) == plain[i]);
  }
  CHECK_FALSE(from_base64("Zg="));      // length
  CHECK_FALSE(from_base64("Zh=="));     // non-zero trailing bits: not canonical
  CHECK_FALSE(from_base64("Z=g="));     // padding in the middle
  CHECK_FALSE(from_base64("Zm9v\n"));   // whitespace
  CHECK_FALSE(from_base64("Zm-v"));     // URL alphabet
}
