// Pattern against its contract (common/pattern.hpp): on every pattern it
// compiles, search() answers exactly as std::regex_search with std::regex
// (libstdc++, ECMAScript, default flags) does. std::regex is the oracle of
// every comparison here, for both of search()'s engines (DFA and bit sets).
// The patterns are those of the JSON Schemas in schemas/ and
// tests/hcloud_standin/ (schemas/FORMAT.md), 80 written to cover each feature
// of the subset and each size class, and 6,000 random ones.
#include "common/pattern.hpp"

#include "common/json_schema.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil.hpp"

using namespace custody;

namespace {

// The patterns of the shipped schemas when this test was written; the test
// also reads the schema files, so a pattern added later is covered too.
const std::vector<std::string> k_schema_patterns = {
    R"(^(MD5:|md5:)?([0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2}$)",
    R"(^([0-9a-f]{64})?$)",
    R"(^(vercel|appwrite|hetzner|stripe|cloudflare)(:[!-~]{1,200})?$)",
    R"(^(|INC-[0-9]{4}-[0-9]{2}-[0-9]{2}-[1-9][0-9]{0,5})$)",
    R"(^INC-[0-9]{4}-[0-9]{2}-[0-9]{2}-[1-9][0-9]{0,5}$)",
    R"(^INC-[0-9]{4}-[0-9]{2}-[0-9]{2}-[1-9][0-9]{0,5}-E[1-9][0-9]{0,6}$)",
    R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$)",
    R"(^[0-9a-f]{64}$)",
    R"(^[A-Za-z0-9+/]{43}=$)",
    R"(^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$)",
    R"(^[^\s+]+$)",
    R"(^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]=?$)",
    R"(^[a-z0-9]+(-?[a-z0-9]*)*$)", // tests/hcloud_standin/openapi-subset.json
};

// Patterns written for this test, one or more per feature of the subset.
const std::vector<std::string> k_feature_patterns = {
    "abc",
    "^abc$",
    "a.c",
    "^.$",
    "^.*$",
    R"(\.\+\*\?\(\)\[\]\{\}\|\\\/\-\^\$)",
    R"(\s\S\d\D\w\W)",
    R"(^[\s]+$)",
    R"([^\w-])",
    R"([\S][\D][\W])",
    R"(\n|\r|\t|\f|\v)",
    R"([\t\r\n]x)",
    R"(\:\,\;\!\"\#\%\&\'\<\=\>\@\_\`\~)",
    "[a-z-0]",
    "[-a]",
    "[a-]",
    "[--a]",
    "[a-z--]",
    "[!-~]{1,5}",
    "[ -/]",
    "a[]b",
    "[]",
    "[^]",
    "^[^]*$",
    R"([\]\[]+)",
    R"([\\][.][$^][a^])",
    "[]a]",
    "[[a]",
    "a]b}c",
    "a|b|",
    "|",
    "(|a)b",
    "()",
    "(?:)x",
    "(?:a|bc)+d",
    "a*",
    "^a+$",
    "^ba?b$",
    "^a{0}$",
    "^a{3}$",
    "^a{2,}$",
    "^a{2,4}$",
    "^(ab){2,3}$",
    "a*?b",
    "^a+?$",
    "^a??b",
    "^a{2,3}?$",
    "^a**$",
    "^a+*b",
    "^a{2}{3}$",
    "^(a?){3}b",
    "^",
    "$",
    "^$",
    "a^b",
    "a$b",
    "(^|,)x",
    "x($|,)",
    "(^a|b$)",
    "^(a|^)*b",
    "(a*)*b",
    "^(a|b*)*$",
    "((a|)|b)+c",
    "(a|$)+",
    "\xc3\xa9+",
    "^[\xc3\xa9]+$",
    "[\xc3\xa0-\xc3\xbf]",
    "^[\x80-\xff]",
    "[^a-z]+\\d",
    "^(a|ab)(c|bcd)(d*)$",
    "^[0-9a-f]{64}$|^x",
    R"(^([0-9a-f]{8}\+){2,3}[0-9a-f]{8}$)",
    "^(?:[a-c]{1,3}-){2}[a-c]{0,2}$",
    "^a{0,70}b{0,70}$", // more than 64 byte states: several words per set
    "[a-c]{100}",       // ... unanchored
    "([0-9]{30}|x{40})$",
    "^a{0,300}b$",      // more than 256 byte states
    "[ab]*a[ab]{15}",   // a DFA above its size cap: bit sets only
    "^[ab]*a[ab]{70}$", // ... with two words per set
    "[ab]*a[ab]{200}",  // ... with four
};

std::string escaped(std::string_view s) {
  static const char* const k_hex = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (b >= 0x20 && b < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += k_hex[b >> 4U];
      out += k_hex[b & 0xfU];
    }
  }
  return out + "\"";
}

// Collects the string value of every "pattern" member in `v`.
void collect_patterns(const nlohmann::json& v, std::set<std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, member] : v.items()) {
      if (key == "pattern" && member.is_string()) {
        out.insert(member.get<std::string>());
      }
      collect_patterns(member, out);
    }
  } else if (v.is_array()) {
    for (const auto& member : v) {
      collect_patterns(member, out);
    }
  }
}

// The patterns of every JSON file under schemas/ and of the stand-in's OpenAPI
// subset, read from the source tree.
std::set<std::string> patterns_in_source_tree() {
  const std::filesystem::path root(CUSTODY_SOURCE_DIR);
  std::vector<std::filesystem::path> files{
      root / "tests/hcloud_standin/openapi-subset.json"};
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root / "schemas")) {
    if (e.is_regular_file() && e.path().extension() == ".json") {
      files.push_back(e.path());
    }
  }
  std::set<std::string> out;
  for (const auto& f : files) {
    auto v = nlohmann::json::parse(test::read_file(f), nullptr, false);
    REQUIRE_MESSAGE(!v.is_discarded(), f.string());
    collect_patterns(v, out);
  }
  return out;
}

// A rough generator of strings a pattern may match, written independently of
// Pattern: it parses the pattern loosely and asks std::regex which bytes each
// atom stands for. Repeat counts are drawn at, inside and one beyond their
// bounds. Its strings only need to come near the pattern's language; whether
// they match is decided by std::regex.
class Sampler {
public:
  Sampler(std::string_view pattern, std::mt19937& rng)
      : m_pattern(pattern),
        m_rng(rng) {
    m_root = disjunction();
    m_ok = m_ok && m_pos == m_pattern.size();
  }

  [[nodiscard]] bool ok() const {
    return m_ok;
  }
  // Whether an unbounded repeat contains another ("(a*)*"): std::regex
  // backtracks exponentially on some texts then, so they must stay short.
  [[nodiscard]] bool nested_unbounded() const {
    return m_nested_unbounded;
  }
  // Bytes appearing in the pattern's atoms: the alphabet for mutations.
  [[nodiscard]] const std::vector<char>& alphabet() const {
    return m_alphabet;
  }

  // Returns a string built from the pattern: with every repeat count within
  // its bounds (at a bound or between) 60% of the time, else with some counts
  // one beyond.
  std::string sample() {
    m_within_bounds = pick(10) < 6;
    std::string out;
    generate(m_root, out);
    return out;
  }

private:
  struct Gen {
    enum class Kind {
      bytes,
      sequence,
      alternation,
      repeat
    } kind = Kind::sequence;
    std::vector<char> bytes;
    std::vector<Gen> children;
    int min = 0;
    int max = 0; // -1: unbounded
  };

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(m_rng);
  }

  void generate(const Gen& g, std::string& out) {
    if (out.size() > 2000) {
      return;
    }
    switch (g.kind) {
    case Gen::Kind::bytes:
      out += g.bytes.empty() ? static_cast<char>(pick(256))
                             : g.bytes[pick(g.bytes.size())];
      break;
    case Gen::Kind::sequence:
      for (const auto& c : g.children) {
        generate(c, out);
      }
      break;
    case Gen::Kind::alternation:
      generate(g.children[pick(g.children.size())], out);
      break;
    case Gen::Kind::repeat: {
      const int hi = g.max < 0 ? g.min + 3 : g.max;
      int n = 0;
      switch (m_within_bounds ? 6 + pick(4) : pick(10)) {
      case 0:
      case 1:
        n = g.min;
        break;
      case 2:
      case 3:
        n = hi;
        break;
      case 4:
        n = std::max(0, g.min - 1);
        break;
      case 5:
        n = hi + 1;
        break;
      case 6:
        n = g.min;
        break;
      case 7:
        n = hi;
        break;
      default:
        n = g.min
            + static_cast<int>(pick(static_cast<std::size_t>(hi - g.min + 1)));
      }
      for (int i = 0; i < n; ++i) {
        generate(g.children.front(), out);
      }
      break;
    }
    }
  }

  Gen disjunction() {
    Gen alt;
    alt.kind = Gen::Kind::alternation;
    alt.children.push_back(sequence());
    while (m_ok && m_pos < m_pattern.size() && m_pattern[m_pos] == '|') {
      ++m_pos;
      alt.children.push_back(sequence());
    }
    return alt;
  }

  Gen sequence() {
    Gen seq;
    while (m_ok && m_pos < m_pattern.size() && m_pattern[m_pos] != '|'
           && m_pattern[m_pos] != ')') {
      Gen atom;
      const char c = m_pattern[m_pos];
      if (c == '^' || c == '$') {
        ++m_pos;
        continue;
      }
      if (c == '(') {
        m_pos += m_pattern.compare(m_pos, 3, "(?:") == 0 ? 3U : 1U;
        atom = disjunction();
        m_ok = m_ok && m_pos < m_pattern.size();
        ++m_pos;
      } else {
        const std::size_t start = m_pos;
        if (c == '[') {
          // In ECMAScript a ']' right after "[" or "[^" closes the class.
          m_pos += m_pattern.compare(m_pos, 2, "[^") == 0 ? 2U : 1U;
          m_pos = m_pattern.find(']', m_pos);
          while (m_pos != std::string_view::npos && m_pattern[m_pos - 1] == '\\'
                 && m_pattern[m_pos - 2] != '\\') {
            m_pos = m_pattern.find(']', m_pos + 1);
          }
          if (m_pos == std::string_view::npos) {
            m_ok = false;
            break;
          }
          ++m_pos;
        } else {
          m_pos += c == '\\' ? 2 : 1;
        }
        atom = bytes_of(m_pattern.substr(start, m_pos - start));
      }
      while (m_ok && m_pos < m_pattern.size()) {
        int min = 0;
        int max = -1;
        const char q = m_pattern[m_pos];
        if (q == '*' || q == '+' || q == '?') {
          min = q == '+' ? 1 : 0;
          max = q == '?' ? 1 : -1;
          ++m_pos;
        } else if (q == '{') {
          const std::size_t close = m_pattern.find('}', m_pos);
          if (close == std::string_view::npos) {
            m_ok = false;
            break;
          }
          const std::string inside(
              m_pattern.substr(m_pos + 1, close - m_pos - 1));
          const std::size_t comma = inside.find(',');
          min = std::atoi(inside.c_str());
          max = comma == std::string::npos
                    ? min
                    : (comma + 1 == inside.size()
                           ? -1
                           : std::atoi(inside.c_str() + comma + 1));
          m_pos = close + 1;
        } else {
          break;
        }
        if (m_pos < m_pattern.size() && m_pattern[m_pos] == '?') {
          ++m_pos;
        }
        m_nested_unbounded =
            m_nested_unbounded || (max < 0 && has_unbounded(atom));
        Gen rep;
        rep.kind = Gen::Kind::repeat;
        rep.min = min;
        rep.max = max;
        rep.children.push_back(std::move(atom));
        atom = std::move(rep);
      }
      seq.children.push_back(std::move(atom));
    }
    return seq;
  }

  static bool has_unbounded(const Gen& g) {
    return (g.kind == Gen::Kind::repeat && g.max < 0)
           || std::any_of(g.children.begin(), g.children.end(), has_unbounded);
  }

  // The bytes the atom `text` matches, according to std::regex.
  Gen bytes_of(std::string_view text) {
    Gen g;
    g.kind = Gen::Kind::bytes;
    try {
      const std::regex re{std::string(text)};
      for (int b = 0; b < 256; ++b) {
        const std::string one(1, static_cast<char>(b));
        if (std::regex_match(one, re)) {
          g.bytes.push_back(one[0]);
        }
      }
    } catch (const std::regex_error&) {
      m_ok = false;
    }
    for (std::size_t i = 0; i < g.bytes.size() && i < 8; ++i) {
      m_alphabet.push_back(g.bytes[pick(g.bytes.size())]);
    }
    return g;
  }

  std::string_view m_pattern;
  std::mt19937& m_rng;
  std::size_t m_pos = 0;
  bool m_ok = true;
  bool m_nested_unbounded = false;
  bool m_within_bounds = false;
  std::vector<char> m_alphabet;
  Gen m_root;
};

// Applies 1-3 random edits (insert, delete, replace, duplicate) to `s`, with
// bytes from `alphabet` or from bytes that often sit at a class's edge.
std::string
mutate(std::string s, const std::vector<char>& alphabet, std::mt19937& rng) {
  static const std::string k_edge_bytes{'\n',
                                        '\r',
                                        '\t',
                                        '\0',
                                        '\x80',
                                        '\xff',
                                        '\xc3',
                                        '+',
                                        '-',
                                        ' ',
                                        '/',
                                        '=',
                                        '_',
                                        ':'};
  auto pick = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  auto some_byte = [&]() {
    const std::size_t k = pick(10);
    if (k < 5 && !alphabet.empty()) {
      return alphabet[pick(alphabet.size())];
    }
    if (k < 9) {
      return k_edge_bytes[pick(k_edge_bytes.size())];
    }
    return static_cast<char>(pick(256));
  };
  const std::size_t edits = 1 + pick(3);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t at = pick(s.size() + 1);
    switch (pick(4)) {
    case 0:
      s.insert(at, 1, some_byte());
      break;
    case 1:
      if (at < s.size()) {
        s.erase(at, 1);
      }
      break;
    case 2:
      if (at < s.size()) {
        s[at] = some_byte();
      }
      break;
    default:
      s.insert(at, s.substr(at, pick(4)));
    }
  }
  return s;
}

struct Tally {
  std::size_t comparisons = 0;
  std::size_t mismatches = 0;
};

// A pattern compiled both ways: as search() normally runs it (from a DFA for
// all but the largest), and on the NFA's bit sets only.
struct Compiled {
  std::optional<Pattern> automatic;
  std::optional<Pattern> nfa_only;

  explicit Compiled(const std::string& pattern)
      : automatic(Pattern::compile(pattern)),
        nfa_only(Pattern::compile(pattern, Pattern::Engine::nfa_only)) {}
};

// Compares both engines of Pattern with std::regex_search on `text`.
void compare(const std::string& pattern,
             const Compiled& fast,
             const std::regex& re,
             const std::string& text,
             Tally& tally) {
  const bool want = std::regex_search(text, re);
  for (const auto* p : {&*fast.automatic, &*fast.nfa_only}) {
    const bool got = p->search(text);
    ++tally.comparisons;
    if (got != want) {
      ++tally.mismatches;
      FAIL_CHECK("pattern "
                 << escaped(pattern) << " on " << escaped(text) << ": Pattern ("
                 << std::string(p == &*fast.automatic ? "automatic"
                                                      : "nfa_only")
                 << ") says " << got << ", std::regex_search says " << want);
    }
  }
}

// Compares on the empty text, every single byte, and `samples` generated and
// mutated texts; returns how many of the latter std::regex matched.
std::size_t differential(const std::string& pattern,
                         std::size_t samples,
                         std::mt19937& rng,
                         Tally& tally) {
  CAPTURE(escaped(pattern));
  const Compiled fast(pattern);
  REQUIRE_MESSAGE(fast.automatic.has_value(),
                  "Pattern refuses " << escaped(pattern));
  REQUIRE(fast.nfa_only.has_value());
  const std::regex re(pattern);
  compare(pattern, fast, re, "", tally);
  for (int b = 0; b < 256; ++b) {
    compare(pattern, fast, re, std::string(1, static_cast<char>(b)), tally);
  }
  Sampler sampler(pattern, rng);
  REQUIRE_MESSAGE(sampler.ok(),
                  "the test's sampler cannot parse " << escaped(pattern));
  std::size_t matched = 0;
  for (std::size_t i = 0; i < samples; ++i) {
    std::string s = sampler.sample();
    if (i % 3 != 0) {
      s = mutate(std::move(s), sampler.alphabet(), rng);
    }
    if (i % 17 == 0) {
      s = sampler.sample() + s; // unanchored: a match after other text
    }
    if (sampler.nested_unbounded() && s.size() > 14) {
      s.resize(14);
    }
    matched += std::regex_search(s, re) ? 1U : 0U;
    compare(pattern, fast, re, s, tally);
  }
  return matched;
}

} // namespace

TEST_CASE(
    "Pattern::search equals std::regex_search on every schema pattern and the "
    "feature "
    "patterns") {
  const std::set<std::string> found = patterns_in_source_tree();
  for (const auto& p : k_schema_patterns) {
    CAPTURE(escaped(p));
    CHECK(found.count(p) == 1); // the list above reflects the files
  }
  std::set<std::string> all(found);
  all.insert(k_feature_patterns.begin(), k_feature_patterns.end());
  std::mt19937 rng(20240611);
  Tally tally;
  for (const auto& p : all) {
    const bool from_schema = found.count(p) != 0;
    const std::size_t samples = from_schema ? 3000 : 1200;
    const std::size_t matched = differential(p, samples, rng, tally);
    if (from_schema) {
      // Both answers are common, or the comparisons would prove little.
      CAPTURE(escaped(p));
      CHECK(matched > samples / 20);
      CHECK(matched < samples - samples / 20);
    }
  }
  MESSAGE(tally.comparisons << " comparisons (both engines) on " << all.size()
                            << " patterns (" << found.size()
                            << " from schema files)");
  CHECK(tally.mismatches == 0);
  CHECK(tally.comparisons > 100000);
}

TEST_CASE(
    "Pattern::compile accepts only what std::regex accepts, and then searches "
    "alike "
    "(random patterns)") {
  // Pieces that make valid, invalid and unsupported patterns in about equal
  // measure.
  const std::vector<std::string> pieces = {
      "a",   "b",     "-",    ".",   "^",    "$",    "|",   "(",   ")",
      "(?:", "[",     "]",    "[^",  "*",    "+",    "?",   "{",   "}",
      "{1}", "{0,2}", "{2,}", ",",   "0",    "\\d",  "\\s", "\\w", "\\D",
      "\\S", "\\W",   "\\.",  "\\-", "\\\\", "\\]",  "\\n", "\\b", "\\1",
      "(?=", "\xc3",  "\x80", "[:",  "a-b",  "\\x4", "\\",
  };
  const std::string text_bytes = std::string("ab-. \n\r\t0]\\_\xc3\x80", 15);
  std::mt19937 rng(7);
  auto pick = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  Tally tally;
  std::size_t compiled = 0;
  std::size_t fell_back = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string pattern;
    for (std::size_t k = 1 + pick(8); k > 0; --k) {
      pattern += pieces[pick(pieces.size())];
    }
    const Compiled fast(pattern);
    std::optional<std::regex> re;
    try {
      re.emplace(pattern);
    } catch (const std::regex_error&) {
    }
    REQUIRE(fast.automatic.has_value() == fast.nfa_only.has_value());
    if (!fast.automatic) {
      fell_back += re ? 1U : 0U;
      continue;
    }
    ++compiled;
    if (!re) {
      FAIL_CHECK("Pattern compiles " << escaped(pattern)
                                     << ", std::regex throws");
      continue;
    }
    compare(pattern, fast, *re, "", tally);
    for (int i = 0; i < 40; ++i) {
      std::string text;
      for (std::size_t n = pick(9); n > 0; --n) {
        text += text_bytes[pick(text_bytes.size())];
      }
      compare(pattern, fast, *re, text, tally);
    }
  }
  MESSAGE(compiled << " random patterns compiled, " << fell_back
                   << " valid for std::regex only; " << tally.comparisons
                   << " comparisons");
  CHECK(compiled > 1000);
  CHECK(tally.mismatches == 0);
}

TEST_CASE(
    "Pattern::search equals std::regex_search where the DFA skips runs of one "
    "byte set") {
  // Chains of states through one byte set ({n} repeats) and states looping on
  // themselves (+, *), which search_dfa() checks in a tight loop, next to
  // patterns where a chain branches, changes set or ends the match; texts of
  // every length up to past the chains, mostly of the sets' bytes.
  const std::vector<std::string> patterns = {
      "^[0-9a-f]{64}$",
      "^([0-9a-f]{64})?$",
      R"(^[^\s+]+$)",
      "^[a-c]{5,9}$",
      "^x[ab]{6}y[ab]+$",
      "^[ab]{4}[bc]{4}$",
      "^(ab){5}$",
      "^[a-z]*$",
      "^a[0-9]{3,}b$",
      "^[ab]+$|^c",
      "^(?:[a-c]{8}|[a-c]{12})$",
      "^[a-c]{6}(a|b{5})c*$",
      "^(?:[ab]{5}c){2,3}$",
      "^[0-9]{4}-[0-9]{2}$",
      "[0-9a-f]{8}$",
  };
  const std::string alphabet = "abcxy0129f -+\n";
  std::mt19937 rng(64);
  auto pick = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  Tally tally;
  for (const auto& pattern : patterns) {
    CAPTURE(escaped(pattern));
    const Compiled fast(pattern);
    REQUIRE(fast.automatic);
    const std::regex re(pattern);
    for (std::size_t length = 0; length <= 80; ++length) {
      for (int k = 0; k < 12; ++k) {
        // Mostly bytes of one small set, sometimes one stray byte.
        const std::string set = k % 3 == 0 ? "abc" : (k % 3 == 1 ? "0123456789abcdef" : "ab");
        std::string text;
        for (std::size_t j = 0; j < length; ++j) {
          text += set[pick(set.size())];
        }
        if (k >= 6 && length > 0) {
          text[pick(length)] = alphabet[pick(alphabet.size())];
        }
        if (k == 11 && length > 2) {
          text[0] = 'x';
          text[length / 2] = 'y';
        }
        compare(pattern, fast, re, text, tally);
      }
    }
  }
  MESSAGE(tally.comparisons << " comparisons");
  CHECK(tally.mismatches == 0);
}

TEST_CASE("Pattern::compile refuses patterns outside the subset") {
  for (const char* p : {
           R"((a)\1)",         // backreference
           "(?=a)",            // lookahead
           "(?!a)b",           // negative lookahead
           R"(\b)",            // word boundary
           R"(a\B)",           //
           R"([\b])",          // backspace in a class
           R"(\0)",            // NUL escape
           R"(\x41)",          // hex escape
           R"(\u0041)",        //
           R"(\cJ)",           // control escape
           R"(\a)",            // identity escape of a letter
           "[[:alpha:]]",      // POSIX class
           "[[.a.]]",          //
           "[[=a=]]",          //
           "a{1001}",          // repeat count above 1,000
           "[!-~]{1,2000}",    // more than 1,024 byte states
           "(a{100}){100}",    // more than 4,096 states
           "a{1}{1}{1}{1}{1}", // more than four quantifiers in a row
       }) {
    CAPTURE(p);
    CHECK_FALSE(Pattern::compile(p).has_value());
    CHECK_NOTHROW(
        std::regex{p}); // valid for std::regex: a caller falls back to it
  }
  CHECK_FALSE(Pattern::compile(std::string("a\0b", 3))
                  .has_value()); // NUL in the pattern
  CHECK_FALSE(
      Pattern::compile("a{99999999999}").has_value()); // above what int holds
  std::string deep(70, '(');
  deep += std::string(70, ')');
  CHECK_FALSE(Pattern::compile(deep).has_value()); // nested more than 64 deep
}

TEST_CASE("Pattern::compile refuses invalid patterns, as std::regex does") {
  for (const char* p :
       {"(",       ")",     "a)",       "(?",          "(?:a",
        "[a",      "[^",    "[",        "a{",          "a{2",
        "a{2,1}",  "a{,2}", "a{x}",     "{1}",         "*a",
        "a|*",     "^*",    "$+",       "a\\",         "[\\w-a]",
        "[a-\\d]", "[z-a]", "[a-\xc3]", "[\x7f-\x80]", "[\\"}) {
    CAPTURE(escaped(p));
    CHECK_FALSE(Pattern::compile(p).has_value());
    CHECK_THROWS_AS(std::regex{p}, std::regex_error);
  }
}

TEST_CASE("Pattern::search handles 1 MB texts without recursion") {
  // std::regex may exhaust the stack on these, so the answers are stated.
  for (const auto engine :
       {Pattern::Engine::automatic, Pattern::Engine::nfa_only}) {
    CAPTURE(static_cast<int>(engine));
    const std::string letters(1 << 20, 'a');
    const auto anchored = Pattern::compile("^[a-z]*$", engine);
    REQUIRE(anchored);
    CHECK(anchored->search(letters));
    CHECK_FALSE(anchored->search(letters + "A"));
    const auto unanchored = Pattern::compile("[0-9]{3}x", engine);
    REQUIRE(unanchored);
    const std::string digits(1 << 20, '1');
    CHECK_FALSE(unanchored->search(digits));
    CHECK(unanchored->search(digits + "x"));
    CHECK_FALSE(unanchored->search("12" + letters + "x"));
    const auto wide = Pattern::compile("(vercel|hetzner)(:[!-~]{1,200})?$",
                                       engine); // 4 words
    REQUIRE(wide);
    CHECK(wide->search(letters + "hetzner:" + std::string(200, '~')));
    CHECK_FALSE(wide->search("hetzner:" + letters));
    CHECK(wide->search("hetzner:" + letters + "vercel"));
  }
}

TEST_CASE("Pattern::search may run concurrently on one Pattern") {
  for (const auto engine :
       {Pattern::Engine::automatic, Pattern::Engine::nfa_only}) {
    CAPTURE(static_cast<int>(engine));
    const auto hex = Pattern::compile("^[0-9a-f]{64}$", engine);
    const auto wide =
        Pattern::compile("^(vercel|hetzner)(:[!-~]{1,200})?$", engine);
    REQUIRE(hex);
    REQUIRE(wide);
    const std::vector<std::pair<std::string, bool>> cases = {
        {std::string(64, 'a'), true},
        {std::string(63, 'a'), false},
        {std::string(64, 'g'), false},
        {"vercel:" + std::string(200, 'x'), true},
        {"vercel:" + std::string(201, 'x'), false},
        {"hetzner", true},
        {"hetzner:", false}};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 2000; ++i) {
          for (std::size_t c = 0; c < cases.size(); ++c) {
            const Pattern& p = c < 3 ? *hex : *wide;
            wrong += p.search(cases[c].first) == cases[c].second ? 0 : 1;
          }
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE(
    "JsonSchema matches patterns Pattern refuses with std::regex, and invalid "
    "ones never") {
  auto schema = JsonSchema::parse(R"({"properties": {
    "twice": {"type": "string", "pattern": "^(ab)\\1$"},
    "broken": {"type": "string", "pattern": "(["},
    "hex": {"type": "string", "pattern": "^[0-9a-f]{4}$"}}})");
  REQUIRE(schema);
  CHECK(schema->validate({{"twice", "abab"}, {"hex", "00ff"}}).empty());
  CHECK(schema->validate({{"twice", "abba"}}).size() == 1);
  CHECK(schema->validate({{"hex", "00fg"}}).size() == 1);
  CHECK(schema->validate({{"broken", ""}}).size() == 1);
  CHECK(schema->validate({{"broken", "(["}}).size() == 1);
}
