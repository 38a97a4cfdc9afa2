// Known answers: golang.org/x/mod/sumdb/note (ExampleSign/ExampleOpen, the
// "PeterNeumann" key) and c2sp.org/signed-note; checkpoint parsing edge cases
// follow Rekor's TestUnmarshalCheckpoint.
#include "common/note.hpp"

#include <doctest/doctest.h>

using namespace custody;

namespace {
const char* const k_peter_vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const char* const k_peter_text =
  "If you think cryptography is the answer to your problem,\n"
  "then you don't know what your problem is.\n";
const char* const k_peter_note =
  "If you think cryptography is the answer to your problem,\n"
  "then you don't know what your problem is.\n"
  "\n"
  "\xe2\x80\x94 PeterNeumann "
  "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

SigningKey peter() {
  // sumdb private key "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
  const std::string typed = *from_base64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  return *SigningKey::from_seed(as_bytes(typed).subspan(1));
}
} // namespace

TEST_CASE("note::sign reproduces the Go sumdb/note example byte for byte") {
  const SigningKey key = peter();
  CHECK(note::format_vkey("PeterNeumann", key.public_key()) == k_peter_vkey);
  auto signed_note = note::sign(k_peter_text, "PeterNeumann", key);
  REQUIRE(signed_note);
  CHECK(*signed_note == k_peter_note);
}

TEST_CASE("note::open verifies known keys and ignores unknown ones") {
  auto v = note::parse_vkey(k_peter_vkey);
  REQUIRE(v);
  CHECK(v->key_hash == 0xc74f20a3);
  auto opened = note::open(k_peter_note, {*v});
  REQUIRE(opened);
  CHECK(opened->text == k_peter_text);
  CHECK(opened->verified_by == std::vector<std::string>{"PeterNeumann"});

  // An extra signature from an unknown key is ignored.
  auto other = *SigningKey::generate();
  auto extra = *note::sign(k_peter_text, "Other", other);
  std::string two = std::string(k_peter_note) + extra.substr(extra.rfind("\xe2\x80\x94"));
  CHECK(note::open(two, {*v}));
  // No trusted key at all: rejected.
  auto none = note::open(k_peter_note, {*note::parse_vkey(note::format_vkey("Other", other.public_key()))});
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("not signed by any trusted key") != std::string::npos);
}

TEST_CASE("note::open rejects every single-byte flip of the note") {
  auto v = *note::parse_vkey(k_peter_vkey);
  const std::string good = k_peter_note;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CAPTURE(i);
    CHECK_FALSE(note::open(bad, {v}));
  }
}

TEST_CASE("note::open rejects malformed notes without crashing") {
  auto v = *note::parse_vkey(k_peter_vkey);
  const std::string good = k_peter_note;
  CHECK_FALSE(note::open("", {v}));
  CHECK_FALSE(note::open("no blank line\n", {v}));
  CHECK_FALSE(note::open(good.substr(0, good.size() - 1), {v}));  // no final newline
  CHECK_FALSE(note::open(good.substr(0, good.size() / 2), {v}));  // truncated
  CHECK_FALSE(note::open(good + "garbage\n", {v}));              // stray line
  CHECK_FALSE(note::open(std::string("\x01") + good, {v}));      // control char
  std::string many = good;
  const std::string line = good.substr(good.rfind("\xe2\x80\x94"));
  for (int i = 0; i < 101; ++i) {
    many += line;
  }
  CHECK_FALSE(note::open(many, {v}));
}

TEST_CASE("note::parse_vkey rejects manglings") {
  const std::string vkey = k_peter_vkey;
  CHECK(note::parse_vkey(vkey));
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string bad = vkey;
    bad[i] = static_cast<char>(bad[i] + 1);
    CAPTURE(bad);
    CHECK_FALSE(note::parse_vkey(bad));
  }
  CHECK_FALSE(note::parse_vkey(vkey.substr(0, vkey.size() - 4)));
}

TEST_CASE("note::checkpoint text is strict") {
  note::Checkpoint cp{"custody.example/vault", 42, sha256("x")};
  const std::string text = note::format_checkpoint(cp);
  auto back = note::parse_checkpoint(text);
  REQUIRE(back);
  CHECK(back->origin == cp.origin);
  CHECK(back->size == 42);
  CHECK(back->root == cp.root);
  const std::string root = to_base64(cp.root);
  for (const std::string& bad : {
         std::string("o\n-1\n") + root + "\n",
         std::string("o\n042\n") + root + "\n",
         std::string("o\n18446744073709551616\n") + root + "\n",
         std::string("o\n9223372036854775808\n") + root + "\n",
         std::string("o\nabc\n") + root + "\n",
         std::string("o\n1\n") + root,
         std::string("o\n1\n") + root + "\nextension\n",
         std::string("o\n1\nAAAA\n"),
         std::string("o\n1\n!!!\n"),
         std::string("\n1\n") + root + "\n",
         std::string(""),
       }) {
    CAPTURE(bad);
    CHECK_FALSE(note::parse_checkpoint(bad));
  }
  CHECK(note::parse_checkpoint(std::string("o\n0\n") + root + "\n"));
}
