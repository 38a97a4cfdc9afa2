#include "common/canonical_json.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace custody::cjson {

namespace {

Result<void> encode_string(const std::string& s, std::string& out) {
  if (!valid_utf8(s)) {
    return fail(Errc::invalid_input, "string is not valid UTF-8");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  out.push_back('"');
  // Runs of characters written as they are are appended at once.
  size_t plain = 0;
  auto flush = [&](size_t end) {
    out.append(s, plain, end - plain);
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    flush(i);
    plain = i + 1;
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (u < 0x20) {
        out += "\\u00";
        out.push_back(k_hex[u >> 4U]);
        out.push_back(k_hex[u & 0xfU]);
      } else {
        out.push_back(c);
      }
    }
  }
  flush(s.size());
  out.push_back('"');
  return {};
}

Result<void> encode_value(const Json& v, std::string& out, size_t depth) {
  if (depth > k_max_depth) {
    return fail(Errc::invalid_input, "nesting is too deep");
  }
  switch (v.type()) {
  case Json::value_t::null:
    out += "null";
    return {};
  case Json::value_t::boolean:
    out += v.get<bool>() ? "true" : "false";
    return {};
  case Json::value_t::number_integer:
    out += std::to_string(v.get<int64_t>());
    return {};
  case Json::value_t::number_unsigned: {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return fail(Errc::invalid_input, "integer does not fit in int64");
    }
    out += std::to_string(u);
    return {};
  }
  case Json::value_t::number_float:
    return fail(Errc::invalid_input, "floating-point numbers are not allowed");
  case Json::value_t::string:
    return encode_string(v.get_ref<const std::string&>(), out);
  case Json::value_t::array: {
    out.push_back('[');
    bool first = true;
    for (const auto& e : v) {
      if (!first) {
        out.push_back(',');
      }
      first = false;
      CUSTODY_TRY(encode_value(e, out, depth + 1));
    }
    out.push_back(']');
    return {};
  }
  case Json::value_t::object: {
    // nlohmann::json's object is a std::map<std::string, ...>: iteration is in
    // std::char_traits<char> order, i.e. by unsigned bytes, i.e. by code point.
    out.push_back('{');
    bool first = true;
    for (const auto& [key, e] : v.items()) {
      if (!first) {
        out.push_back(',');
      }
      first = false;
      CUSTODY_TRY(encode_string(key, out));
      out.push_back(':');
      CUSTODY_TRY(encode_value(e, out, depth + 1));
    }
    out.push_back('}');
    return {};
  }
  case Json::value_t::binary:
  case Json::value_t::discarded:
    break;
  }
  return fail(Errc::invalid_input, "value has no JSON encoding");
}

// Rejects nesting deeper than k_max_depth before the recursive parser sees it.
bool depth_ok(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_depth + 1) {
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

} // namespace

Result<std::string> encode(const Json& value) {
  std::string out;
  CUSTODY_TRY(encode_value(value, out, 1));
  return out;
}

Result<Json> decode(std::string_view text) {
  if (text.size() > k_max_size) {
    return fail(Errc::corrupt, "not canonical JSON: larger than 1 MiB");
  }
  if (!depth_ok(text)) {
    return fail(Errc::corrupt, "not canonical JSON: nesting is too deep");
  }
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return fail(Errc::corrupt, "not canonical JSON: does not parse as JSON");
  }
  auto again = encode(value);
  if (!again) {
    return fail(Errc::corrupt, "not canonical JSON: " + again.error().message);
  }
  if (*again != text) {
    size_t i = 0;
    while (i < again->size() && i < text.size() && (*again)[i] == text[i]) {
      ++i;
    }
    return fail(Errc::corrupt,
                fmt::format("not canonical JSON: differs from its canonical form at byte {} "
                            "(unsorted or duplicate keys, whitespace, escapes or number form)",
                            i));
  }
  return value;
}

} // namespace custody::cjson
