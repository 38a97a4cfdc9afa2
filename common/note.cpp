#include "common/note.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <charconv>

namespace custody::note {

namespace {

constexpr std::string_view k_sig_prefix = "\xe2\x80\x94 "; // U+2014 EM DASH, space
constexpr size_t k_max_signatures = 100;
constexpr size_t k_max_note_size = 64 * 1024;

bool has_forbidden_controls(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n') {
      return true;
    }
  }
  return false;
}

} // namespace

bool valid_key_name(std::string_view name) {
  if (name.empty() || !valid_utf8(name)) {
    return false;
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '+' || u == 0x7f) {
      return false;
    }
  }
  // Unicode spaces outside ASCII (U+00A0, U+2000..U+200A, U+3000, ...).
  for (std::string_view sp : {"\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
                              "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85",
                              "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89",
                              "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
                              "\xe2\x81\x9f", "\xe3\x80\x80", "\xc2\x85"}) {
    if (name.find(sp) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

uint32_t key_hash(std::string_view name, const PublicKey& key) {
  Sha256 h;
  h.update(name);
  const uint8_t sep[2] = {0x0a, 0x01};
  h.update(std::span<const uint8_t>(sep, 2));
  h.update(key.raw());
  const Hash256 d = h.final();
  return (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | uint32_t{d[3]};
}

std::string format_vkey(std::string_view name, const PublicKey& key) {
  std::string typed(1, '\x01');
  typed.append(key.raw().begin(), key.raw().end());
  return fmt::format("{}+{:08x}+{}", name, key_hash(name, key), to_base64(typed));
}

Result<Verifier> parse_vkey(std::string_view vkey) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::invalid_input, fmt::format("malformed verifier key: {}", why));
  };
  const size_t p1 = vkey.find('+');
  if (p1 == std::string_view::npos) {
    return bad("expected <name>+<hash>+<key>");
  }
  const size_t p2 = vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return bad("expected <name>+<hash>+<key>");
  }
  const std::string_view name = vkey.substr(0, p1);
  const std::string_view hash_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  const std::string_view key_b64 = vkey.substr(p2 + 1);
  if (!valid_key_name(name)) {
    return bad("invalid key name");
  }
  if (hash_hex.size() != 8) {
    return bad("key hash must be 8 hex digits");
  }
  for (char c : hash_hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return bad("key hash must be lowercase hex");
    }
  }
  auto raw = from_base64(key_b64);
  if (!raw) {
    return bad("key is not base64");
  }
  if (raw->size() != 33 || (*raw)[0] != '\x01') {
    return bad("only Ed25519 keys (type 0x01, 32 bytes) are supported");
  }
  CUSTODY_TRY_ASSIGN(PublicKey key, PublicKey::from_raw(as_bytes(*raw).subspan(1)));
  uint32_t claimed = 0;
  std::from_chars(hash_hex.data(), hash_hex.data() + hash_hex.size(), claimed, 16);
  if (claimed != key_hash(name, key)) {
    return bad("key hash does not match name and key");
  }
  return Verifier{std::string(name), claimed, std::move(key)};
}

Result<std::string> sign(std::string_view text, std::string_view name, const SigningKey& key) {
  if (text.empty() || text.back() != '\n') {
    return fail(Errc::invalid_input, "note text must end in a newline");
  }
  if (!valid_key_name(name)) {
    return fail(Errc::invalid_input, fmt::format("invalid key name '{}'", name));
  }
  if (has_forbidden_controls(text) || !valid_utf8(text)) {
    return fail(Errc::invalid_input, "note text must be UTF-8 without control characters");
  }
  CUSTODY_TRY_ASSIGN(const Signature sig, key.sign(as_bytes(text)));
  const uint32_t kh = key_hash(name, key.public_key());
  std::string blob;
  blob.push_back(static_cast<char>((kh >> 24) & 0xff));
  blob.push_back(static_cast<char>((kh >> 16) & 0xff));
  blob.push_back(static_cast<char>((kh >> 8) & 0xff));
  blob.push_back(static_cast<char>(kh & 0xff));
  blob.append(sig.begin(), sig.end());
  return fmt::format("{}\n{}{} {}\n", text, k_sig_prefix, name, to_base64(blob));
}

Result<Opened> open(std::string_view note, const std::vector<Verifier>& known) {
  auto malformed = [](std::string_view why) {
    return fail(Errc::corrupt, fmt::format("malformed note: {}", why));
  };
  if (note.size() > k_max_note_size) {
    return malformed("too large");
  }
  if (!valid_utf8(note) || has_forbidden_controls(note)) {
    return malformed("not UTF-8 text without control characters");
  }
  if (note.empty() || note.back() != '\n') {
    return malformed("does not end in a newline");
  }
  // The text is separated from the signatures by the last blank line.
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return malformed("no blank line before the signatures");
  }
  Opened out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) {
    return malformed("no signature lines");
  }
  size_t count = 0;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    const std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (++count > k_max_signatures) {
      return malformed("too many signatures");
    }
    if (line.substr(0, k_sig_prefix.size()) != k_sig_prefix) {
      return malformed("signature line does not start with an em dash");
    }
    const std::string_view rest = line.substr(k_sig_prefix.size());
    const size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) {
      return malformed("signature line has no signature");
    }
    const std::string_view name = rest.substr(0, sp);
    auto blob = from_base64(rest.substr(sp + 1));
    if (!valid_key_name(name) || !blob || blob->size() < 5) {
      return malformed("bad signature line");
    }
    const auto* b = reinterpret_cast<const uint8_t*>(blob->data());
    const uint32_t kh = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8)
                        | uint32_t{b[3]};
    for (const Verifier& v : known) {
      if (v.name != name || v.key_hash != kh) {
        continue; // unknown keys (name or hash differ) are ignored
      }
      if (!v.key.verify(as_bytes(out.text), as_bytes(*blob).subspan(4))) {
        return fail(Errc::corrupt,
                    fmt::format("note signature by known key {} ({:08x}) does not verify", name,
                                kh));
      }
      out.verified_by.push_back(std::string(name));
    }
  }
  if (out.verified_by.empty()) {
    return fail(Errc::corrupt, "note is not signed by any trusted key");
  }
  return out;
}

std::string format_checkpoint(const Checkpoint& cp) {
  return fmt::format("{}\n{}\n{}\n", cp.origin, cp.size, to_base64(cp.root));
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  auto bad = [](std::string_view why) {
    return fail(Errc::corrupt, fmt::format("malformed checkpoint: {}", why));
  };
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return bad("last line has no newline");
    }
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) {
    return bad("expected origin, size and root lines");
  }
  if (lines.size() > 3) {
    return bad("extension lines are not accepted");
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) {
    return bad("empty origin");
  }
  const std::string_view size = lines[1];
  if (size.empty() || size.size() > 19 || (size.size() > 1 && size[0] == '0')) {
    return bad("tree size must be a decimal number without leading zeros");
  }
  for (char c : size) {
    if (c < '0' || c > '9') {
      return bad("tree size must be a decimal number");
    }
  }
  const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (ec != std::errc() || ptr != size.data() + size.size()
      || cp.size > static_cast<uint64_t>(INT64_MAX)) {
    return bad("tree size out of range");
  }
  auto root = from_base64(lines[2]);
  if (!root || root->size() != 32) {
    return bad("root hash must be 32 bytes of base64");
  }
  std::copy(root->begin(), root->end(), cp.root.begin());
  return cp;
}

} // namespace custody::note
