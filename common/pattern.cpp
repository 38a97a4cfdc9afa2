// Pattern in five steps: a parser from the ECMAScript subset to a syntax tree,
// a Thompson construction from the tree to an NFA (counted repeats expanded),
// an epsilon closure from the NFA to bit sets, a subset construction from the
// bit sets to a DFA when the DFA stays small, and the search loops.
//
// Why bit sets: only NFA states that consume a byte matter between two bytes;
// everything else (alternation, repetition, the anchors) is an epsilon move.
// compile() follows the epsilon moves once, ahead of time, so search() keeps
// the live states as a bit set and advances it by one table lookup per live
// state. The anchors make a closure depend on the position: ^ holds only at
// position 0 and $ only at the end of the text. A position is therefore one
// of four contexts (at the beginning or not, at the end or not) and compile()
// computes the closures for each context it can meet: after a byte the
// position is never the beginning, so each state has two follow sets.
//
// Why a DFA as well: stepping a bit set costs a chain of dependent loads and
// bit scans per byte; a DFA row lookup is one load (1.4 against 2.5 ns per
// byte for ^[0-9a-f]{64}$, and 1 against 9 ns for patterns whose sets span
// four words). The schema patterns give DFAs of at most a few hundred states;
// patterns whose DFA would blow up keep the bit sets, which stay linear.
//
// Why the parser copies libstdc++'s quirks: the contract is std::regex's
// answer, not the ECMAScript specification's. libstdc++ (GCC 12,
// bits/regex_scanner.tcc and regex_compiler.tcc) accepts ']' and '}' as
// literals, several quantifiers in a row ("a**"), '-' inside brackets by its
// own rules, and compares range bounds as (signed) char. The parser follows
// the same code paths for the constructs it accepts and refuses the rest.
#include "common/pattern.hpp"

#include <algorithm>
#include <bit>
#include <bitset>
#include <map>
#include <utility>

namespace custody {
namespace {

constexpr std::size_t k_max_states = 4096;
constexpr std::size_t k_max_byte_states = 1024;
constexpr std::size_t k_max_words = k_max_byte_states / 64;
constexpr int k_max_count = 1000;
constexpr int k_max_depth = 64;
constexpr int k_max_stacked_quantifiers = 4;
// At most 256 KB of DFA table.
constexpr std::size_t k_max_dfa_entries = std::size_t{1} << 16;
// A DFA table entry: the next state, and whether the byte completes a match
// when it is not the last byte / when it is.
constexpr std::uint32_t k_dfa_match_mid = std::uint32_t{1} << 31;
constexpr std::uint32_t k_dfa_match_end = std::uint32_t{1} << 30;
// In the final table: the entry leads to the dead state of an anchored
// pattern (no match is possible any more), and to a state with a run.
constexpr std::uint32_t k_dfa_dies = std::uint32_t{1} << 29;
constexpr std::uint32_t k_dfa_run = std::uint32_t{1} << 28;
constexpr std::uint32_t k_dfa_state_mask = k_dfa_run - 1;
constexpr std::uint32_t k_dfa_no_state = k_dfa_state_mask;
// A run shorter than this is not worth its set-up in search_dfa().
constexpr std::uint32_t k_min_run = 4;
// libstdc++ throws error_space above 100,000 NFA states
// (_GLIBCXX_REGEX_STATE_LIMIT); its count is estimated from above, so half
// of that limit leaves a margin for the estimate.
constexpr double k_libstdcxx_state_budget = 50000;

using ByteSet = std::bitset<256>;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

ByteSet bytes_between(unsigned lo, unsigned hi) {
  ByteSet s;
  for (unsigned b = lo; b <= hi; ++b) {
    s.set(b);
  }
  return s;
}

// The classes of \d \s \w in the classic "C" locale, as regex_traits<char>
// looks them up (ctype digit, space, alnum plus '_').
ByteSet class_bytes(char letter) {
  switch (letter) {
  case 'd':
    return bytes_between('0', '9');
  case 's':
    return bytes_between('\t', '\r') | bytes_between(' ', ' ');
  default: // 'w'
    return bytes_between('0', '9') | bytes_between('A', 'Z')
           | bytes_between('a', 'z') | bytes_between('_', '_');
  }
}

// One node of the syntax tree. Groups are not nodes of their own: without
// captures a group is only its contents.
struct Node {
  enum class Kind {
    bytes,
    line_begin,
    line_end,
    sequence,
    alternation,
    repeat
  };
  Kind kind = Kind::sequence;
  ByteSet bytes;              // Kind::bytes
  std::vector<Node> children; // sequence, alternation; repeat has one
  int min = 0;                // repeat
  int max = 0;                // repeat; -1: unbounded
  // The number of states this node adds to our NFA.
  double nfa_states = 0;
  // Upper bounds on the states libstdc++'s compiler creates for this node:
  // those reachable from its start, and all, including the copies of a
  // repeated operand it leaves unreachable when it expands {n,m}.
  double lib_reachable = 1;
  double lib_total = 1;
};

Node leaf(Node::Kind kind, ByteSet bytes = {}) {
  Node n;
  n.kind = kind;
  n.bytes = bytes;
  n.nfa_states = 1;
  return n;
}

// Which token a quantifier was written with: libstdc++ builds each differently.
enum class Quantifier { star, plus, optional, braces };

Node repeat(Node operand, int min, int max, Quantifier written) {
  Node n;
  n.kind = Node::Kind::repeat;
  n.min = min;
  n.max = max;
  const double s = operand.nfa_states;
  const double optional_copies = max < 0 ? 1 : max - min;
  n.nfa_states = min * s + optional_copies * (s + 1);
  const double r = operand.lib_reachable;
  const double t = operand.lib_total;
  switch (written) {
  case Quantifier::star:
  case Quantifier::plus:
    n.lib_reachable = r + 1;
    n.lib_total = t + 1;
    break;
  case Quantifier::optional:
    n.lib_reachable = r + 2;
    n.lib_total = t + 2;
    break;
  case Quantifier::braces: {
    // _StateSeq::_M_clone may copy a state once per edge into it.
    const double clone = 2 * r + 2;
    n.lib_reachable = 2 + min * r + optional_copies * (r + 1);
    n.lib_total = t + 2 + min * clone + optional_copies * (clone + 1);
    break;
  }
  }
  n.children.push_back(std::move(operand));
  return n;
}

// Finishes a sequence or an alternation: sizes from the children.
Node combine(Node n) {
  n.nfa_states = 0;
  n.lib_reachable = 0;
  n.lib_total = 0;
  for (const Node& c : n.children) {
    n.nfa_states += c.nfa_states;
    n.lib_reachable += c.lib_reachable;
    n.lib_total += c.lib_total;
  }
  const double k = static_cast<double>(n.children.size());
  if (n.kind == Node::Kind::alternation) {
    n.nfa_states += k - 1; // split states
    n.lib_reachable += 2 * k;
    n.lib_total += 2 * k;
  } else {
    n.lib_reachable += 1; // each alternative ends in a dummy state
    n.lib_total += 1;
  }
  return n;
}

// A recursive-descent parser over the pattern's bytes; every method returns
// nullopt (or false) for a pattern outside the subset.
class Parser {
public:
  explicit Parser(std::string_view text)
      : m_text(text) {}

  std::optional<Node> parse() {
    auto n = disjunction(0);
    if (!n || !at_end()) {
      return std::nullopt; // e.g. an unmatched ')'
    }
    return n;
  }

private:
  struct Escape {
    bool is_class = false;
    char byte = 0;
    ByteSet bytes;
  };

  [[nodiscard]] bool at_end() const {
    return m_pos == m_text.size();
  }
  [[nodiscard]] char peek() const {
    return m_text[m_pos];
  }

  std::optional<Node> disjunction(int depth) {
    if (depth > k_max_depth) {
      return std::nullopt;
    }
    Node n;
    n.kind = Node::Kind::alternation;
    for (;;) {
      auto alt = alternative(depth);
      if (!alt) {
        return std::nullopt;
      }
      n.children.push_back(std::move(*alt));
      if (at_end() || peek() != '|') {
        break;
      }
      ++m_pos;
    }
    if (n.children.size() == 1) {
      return std::move(n.children.front());
    }
    return combine(std::move(n));
  }

  std::optional<Node> alternative(int depth) {
    Node n;
    n.kind = Node::Kind::sequence;
    while (!at_end() && peek() != '|' && peek() != ')') {
      auto t = term(depth);
      if (!t) {
        return std::nullopt;
      }
      n.children.push_back(std::move(*t));
    }
    return combine(std::move(n));
  }

  // An anchor (which libstdc++ does not let a quantifier follow), or an atom
  // with its quantifiers.
  std::optional<Node> term(int depth) {
    if (peek() == '^' || peek() == '$') {
      return leaf(m_text[m_pos++] == '^' ? Node::Kind::line_begin
                                         : Node::Kind::line_end);
    }
    auto n = atom(depth);
    if (!n) {
      return std::nullopt;
    }
    for (int stacked = 0; !at_end(); ++stacked) {
      int min = 0;
      int max = -1;
      Quantifier written = Quantifier::star;
      switch (peek()) {
      case '*':
        ++m_pos;
        break;
      case '+':
        ++m_pos;
        min = 1;
        written = Quantifier::plus;
        break;
      case '?':
        ++m_pos;
        max = 1;
        written = Quantifier::optional;
        break;
      case '{':
        if (!braces(min, max)) {
          return std::nullopt;
        }
        written = Quantifier::braces;
        break;
      default:
        return n;
      }
      if (stacked == k_max_stacked_quantifiers) {
        return std::nullopt;
      }
      if (!at_end() && peek() == '?') {
        ++m_pos; // lazy: the same yes/no answer
      }
      n = repeat(std::move(*n), min, max, written);
    }
    return n;
  }

  std::optional<Node> atom(int depth) {
    const char c = peek();
    switch (c) {
    case '.':
      ++m_pos;
      return leaf(Node::Kind::bytes,
                  ~(bytes_between('\n', '\n') | bytes_between('\r', '\r')));
    case '(': {
      ++m_pos;
      if (!at_end() && peek() == '?') {
        ++m_pos;
        if (at_end() || peek() != ':') {
          return std::nullopt; // lookahead, or invalid
        }
        ++m_pos;
      }
      auto n = disjunction(depth + 1);
      if (!n || at_end() || peek() != ')') {
        return std::nullopt;
      }
      ++m_pos;
      // libstdc++ adds the group's begin and end states.
      n->lib_reachable += 2;
      n->lib_total += 2;
      return n;
    }
    case '[': {
      auto set = bracket();
      if (!set) {
        return std::nullopt;
      }
      return leaf(Node::Kind::bytes, *set);
    }
    case '\\': {
      auto e = escape();
      if (!e) {
        return std::nullopt;
      }
      return leaf(Node::Kind::bytes,
                  e->is_class ? e->bytes : one_byte(e->byte));
    }
    case '*':
    case '+':
    case '?':
    case '{': // nothing to repeat, or a '{' that opens no repeat count
    case '\0':
      return std::nullopt;
    default:
      ++m_pos;
      return leaf(Node::Kind::bytes, one_byte(c));
    }
  }

  static ByteSet one_byte(char c) {
    ByteSet s;
    s.set(static_cast<unsigned char>(c));
    return s;
  }

  // Reads the backslash escape at m_pos, inside or outside a bracket (the
  // same in both for the escapes accepted here).
  std::optional<Escape> escape() {
    ++m_pos;
    if (at_end()) {
      return std::nullopt;
    }
    const char c = m_text[m_pos++];
    Escape e;
    switch (c) {
    case 'd':
    case 's':
    case 'w':
      e.is_class = true;
      e.bytes = class_bytes(c);
      return e;
    case 'D':
    case 'S':
    case 'W':
      e.is_class = true;
      e.bytes = ~class_bytes(static_cast<char>(c - 'A' + 'a'));
      return e;
    case 'f':
      e.byte = '\f';
      return e;
    case 'n':
      e.byte = '\n';
      return e;
    case 'r':
      e.byte = '\r';
      return e;
    case 't':
      e.byte = '\t';
      return e;
    case 'v':
      e.byte = '\v';
      return e;
    default:
      // libstdc++ takes any other byte after '\' literally, except b B c x u
      // and digits; only punctuation is accepted here.
      if (c > ' ' && c < 0x7f && !is_alnum(c)) {
        e.byte = c;
        return e;
      }
      return std::nullopt;
    }
  }

  // Reads a bracket expression at m_pos, mirroring libstdc++'s
  // _M_insert_bracket_matcher and _M_expression_term: the previous single
  // byte is held back, since a following '-' may turn it into a range.
  std::optional<ByteSet> bracket() {
    ++m_pos;
    bool negate = false;
    if (!at_end() && peek() == '^') {
      negate = true;
      ++m_pos;
    }
    enum class Kind { byte, class_escape, dash, end };
    struct Token {
      Kind kind = Kind::end;
      char byte = 0;
      ByteSet bytes;
    };
    auto next = [this]() -> std::optional<Token> {
      if (at_end()) {
        return std::nullopt;
      }
      const char c = peek();
      if (c == '\\') {
        auto e = escape();
        if (!e) {
          return std::nullopt;
        }
        return e->is_class ? Token{Kind::class_escape, 0, e->bytes}
                           : Token{Kind::byte, e->byte, {}};
      }
      if (c == '[' && m_pos + 1 < m_text.size()
          && (m_text[m_pos + 1] == ':' || m_text[m_pos + 1] == '.'
              || m_text[m_pos + 1] == '=')) {
        return std::nullopt; // [:alpha:] [.x.] [=x=]
      }
      if (c == '\0') {
        return std::nullopt;
      }
      ++m_pos;
      if (c == '-') {
        return Token{Kind::dash, 0, {}};
      }
      if (c == ']') {
        return Token{Kind::end, 0, {}};
      }
      return Token{Kind::byte, c, {}};
    };

    ByteSet set;
    bool held = false; // a single byte is held back
    char held_byte = 0;
    bool after_class = false;
    auto push_byte = [&](char b) {
      if (held) {
        set.set(static_cast<unsigned char>(held_byte));
      }
      held = true;
      held_byte = b;
      after_class = false;
    };

    auto tok = next();
    if (tok && (tok->kind == Kind::byte || tok->kind == Kind::dash)) {
      // A leading '-' is a byte too.
      push_byte(tok->kind == Kind::dash ? '-' : tok->byte);
      tok = next();
    }
    for (;;) {
      if (!tok) {
        return std::nullopt;
      }
      if (tok->kind == Kind::end) {
        break;
      }
      if (tok->kind == Kind::byte) {
        push_byte(tok->byte);
      } else if (tok->kind == Kind::class_escape) {
        if (held) {
          set.set(static_cast<unsigned char>(held_byte));
        }
        held = false;
        after_class = true;
        set |= tok->bytes;
      } else { // dash
        tok = next();
        if (!tok) {
          return std::nullopt;
        }
        if (tok->kind == Kind::end) {
          push_byte('-'); // "-]"
          break;
        }
        if (after_class) {
          return std::nullopt; // "[\w-x]": libstdc++ throws error_range
        }
        if (!held) {
          push_byte('-'); // after a range: a byte; the next token is read again
          continue;
        }
        if (tok->kind != Kind::byte && tok->kind != Kind::dash) {
          return std::nullopt;
        }
        const char hi = tok->kind == Kind::dash ? '-' : tok->byte;
        if (held_byte > hi) {
          return std::nullopt; // compared as char, as _M_make_range does
        }
        for (unsigned b = 0; b < 256; ++b) {
          const char c = static_cast<char>(b);
          if (held_byte <= c && c <= hi) {
            set.set(b);
          }
        }
        held = false;
      }
      tok = next();
    }
    if (held) {
      set.set(static_cast<unsigned char>(held_byte));
    }
    if (negate) {
      set.flip();
    }
    return set;
  }

  // Reads "{n}", "{n,}" or "{n,m}" at m_pos into `min` and `max` (-1: none).
  bool braces(int& min, int& max) {
    ++m_pos;
    auto number = [this](int& out) {
      const std::size_t start = m_pos;
      long v = 0;
      while (!at_end() && is_digit(peek())) {
        v = v * 10 + (peek() - '0');
        if (v > k_max_count) {
          return false;
        }
        ++m_pos;
      }
      out = static_cast<int>(v);
      return m_pos > start;
    };
    if (!number(min)) {
      return false;
    }
    max = min;
    if (!at_end() && peek() == ',') {
      ++m_pos;
      if (at_end() || !is_digit(peek())) {
        max = -1;
      } else if (!number(max) || max < min) {
        return false;
      }
    }
    if (at_end() || peek() != '}') {
      return false;
    }
    ++m_pos;
    return true;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

struct NfaState {
  enum class Op : std::uint8_t { byte, split, line_begin, line_end, match };
  Op op = Op::match;
  std::uint32_t out0 = 0;
  std::uint32_t out1 = 0;       // split only
  std::uint32_t byte_state = 0; // byte only: its number among byte states
};

// Thompson's construction, built back to front: build(n, next) returns the
// entry of a fragment for `n` whose exits lead to state `next`.
class NfaBuilder {
public:
  std::vector<NfaState> states;
  std::vector<ByteSet> byte_sets;         // per byte state
  std::vector<std::uint32_t> byte_states; // byte state number -> NFA state

  std::uint32_t add(NfaState s) {
    states.push_back(s);
    return static_cast<std::uint32_t>(states.size() - 1);
  }

  std::uint32_t build(const Node& n, std::uint32_t next) {
    switch (n.kind) {
    case Node::Kind::bytes: {
      const auto number = static_cast<std::uint32_t>(byte_sets.size());
      const std::uint32_t id = add({NfaState::Op::byte, next, 0, number});
      byte_sets.push_back(n.bytes);
      byte_states.push_back(id);
      return id;
    }
    case Node::Kind::line_begin:
      return add({NfaState::Op::line_begin, next, 0, 0});
    case Node::Kind::line_end:
      return add({NfaState::Op::line_end, next, 0, 0});
    case Node::Kind::sequence:
      for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) {
        next = build(*it, next);
      }
      return next;
    case Node::Kind::alternation: {
      std::uint32_t entry = build(n.children.back(), next);
      for (std::size_t i = n.children.size() - 1; i-- > 0;) {
        const std::uint32_t first = build(n.children[i], next);
        entry = add({NfaState::Op::split, first, entry, 0});
      }
      return entry;
    }
    case Node::Kind::repeat: {
      const Node& operand = n.children.front();
      std::uint32_t entry = next;
      if (n.max < 0) {
        // A loop: split -> operand -> back to the split, or leave.
        const std::uint32_t loop = add({NfaState::Op::split, 0, next, 0});
        states[loop].out0 = build(operand, loop);
        entry = loop;
      } else {
        // x{0,3} as (x(x(x)?)?)?: each optional copy may leave to `next`.
        for (int i = 0; i < n.max - n.min; ++i) {
          const std::uint32_t body = build(operand, entry);
          entry = add({NfaState::Op::split, body, next, 0});
        }
      }
      for (int i = 0; i < n.min; ++i) {
        entry = build(operand, entry);
      }
      return entry;
    }
    }
    return next;
  }
};

// Adds to the bit set `live` the byte states reachable from NFA state `from`
// by epsilon moves at a position where ^ holds iff `begin` and $ holds iff
// `end`; returns whether the match state is reachable too.
bool closure(const std::vector<NfaState>& states,
             std::uint32_t from,
             bool begin,
             bool end,
             std::uint64_t* live,
             std::vector<std::uint32_t>& stack,
             std::vector<std::uint32_t>& seen,
             std::uint32_t stamp) {
  bool match = false;
  stack.clear();
  stack.push_back(from);
  while (!stack.empty()) {
    const std::uint32_t id = stack.back();
    stack.pop_back();
    if (seen[id] == stamp) {
      continue; // also ends the epsilon cycles of loops that can match empty
    }
    seen[id] = stamp;
    const NfaState& s = states[id];
    switch (s.op) {
    case NfaState::Op::byte:
      live[s.byte_state / 64] |= std::uint64_t{1} << (s.byte_state % 64);
      break;
    case NfaState::Op::match:
      match = true;
      break;
    case NfaState::Op::split:
      stack.push_back(s.out1);
      stack.push_back(s.out0);
      break;
    case NfaState::Op::line_begin:
      if (begin) {
        stack.push_back(s.out0);
      }
      break;
    case NfaState::Op::line_end:
      if (end) {
        stack.push_back(s.out0);
      }
      break;
    }
  }
  return match;
}

} // namespace

std::optional<Pattern> Pattern::compile(std::string_view ecmascript_pattern,
                                        Engine engine) {
  auto root = Parser(ecmascript_pattern).parse();
  // +4: libstdc++'s start, group 0's begin and end, and accept states.
  if (!root || root->lib_total + 4 > k_libstdcxx_state_budget
      || root->nfa_states + 1 > static_cast<double>(k_max_states)) {
    return std::nullopt;
  }
  NfaBuilder nfa;
  const std::uint32_t match = nfa.add({NfaState::Op::match, 0, 0, 0});
  const std::uint32_t start = nfa.build(*root, match);
  const std::size_t n = nfa.byte_sets.size();
  if (n > k_max_byte_states) {
    return std::nullopt;
  }

  Pattern p;
  const std::size_t w = std::max<std::size_t>(1, (n + 63) / 64);
  p.m_words = w;
  p.m_byte_states.assign(256 * w, 0);
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t b = 0; b < 256; ++b) {
      if (nfa.byte_sets[s][b]) {
        p.m_byte_states[b * w + s / 64] |= std::uint64_t{1} << (s % 64);
      }
    }
  }
  std::vector<std::uint32_t> stack;
  std::vector<std::uint32_t> seen(nfa.states.size(), 0);
  std::uint32_t stamp = 0;
  p.m_follow.assign(n * 2 * w, 0);
  p.m_accepting.assign(2 * w, 0);
  for (std::size_t s = 0; s < n; ++s) {
    const std::uint32_t after = nfa.states[nfa.byte_states[s]].out0;
    for (std::size_t end = 0; end < 2; ++end) {
      if (closure(nfa.states,
                  after,
                  false,
                  end == 1,
                  &p.m_follow[(s * 2 + end) * w],
                  stack,
                  seen,
                  ++stamp)) {
        p.m_accepting[end * w + s / 64] |= std::uint64_t{1} << (s % 64);
      }
    }
  }
  p.m_start.assign(4 * w, 0);
  for (std::size_t ctx = 0; ctx < 4; ++ctx) {
    p.m_start_matches[ctx] = closure(nfa.states,
                                     start,
                                     ctx >= 2,
                                     ctx % 2 == 1,
                                     &p.m_start[ctx * w],
                                     stack,
                                     seen,
                                     ++stamp);
  }
  p.m_floating =
      p.m_start_matches[0] || p.m_start_matches[1]
      || std::any_of(p.m_start.begin(),
                     p.m_start.begin() + static_cast<std::ptrdiff_t>(2 * w),
                     [](std::uint64_t x) { return x != 0; });
  if (engine == Engine::automatic) {
    p.build_dfa();
  }
  return p;
}

// Subset construction over the bit-set automaton: each DFA state is the set
// of live byte states before a byte at a position that is neither the first
// nor the last (the first position starts from m_start, the last byte only
// needs to know whether it completes a match, which the flags record). Bytes
// that no byte state tells apart share a class, so a row has one entry per
// class. Gives up, leaving the bit-set search, above k_max_dfa_entries.
void Pattern::build_dfa() {
  const std::size_t w = m_words;
  // [class][word]: the column of m_byte_states shared by the class's bytes.
  std::vector<std::uint64_t> class_sets;
  std::array<std::uint8_t, 256> class_of{};
  for (std::size_t b = 0; b < 256; ++b) {
    const std::uint64_t* column = &m_byte_states[b * w];
    std::size_t c = 0;
    while (c < class_sets.size() / w
           && !std::equal(column, column + w, &class_sets[c * w])) {
      ++c;
    }
    if (c == class_sets.size() / w) {
      class_sets.insert(class_sets.end(), column, column + w);
    }
    class_of[b] = static_cast<std::uint8_t>(c);
  }
  const std::size_t classes = class_sets.size() / w;

  std::map<std::vector<std::uint64_t>, std::uint32_t> ids;
  std::vector<std::vector<std::uint64_t>> sets;
  auto id_of = [&](std::vector<std::uint64_t> set) {
    auto [it, added] =
        ids.emplace(set, static_cast<std::uint32_t>(sets.size()));
    if (added) {
      sets.push_back(std::move(set));
    }
    return it->second;
  };
  std::vector<std::uint32_t> table;
  const std::vector<std::uint64_t> empty(w, 0);
  const std::uint32_t dead = id_of(empty);
  const std::uint32_t start =
      id_of(std::vector<std::uint64_t>(&m_start[2 * w], &m_start[3 * w]));
  for (std::uint32_t d = 0; d < sets.size(); ++d) {
    if (sets.size() * classes > k_max_dfa_entries) {
      return;
    }
    for (std::size_t c = 0; c < classes; ++c) {
      std::vector<std::uint64_t> next(w, 0);
      if (m_floating) {
        // A match may start after this byte: neither beginning nor end.
        std::copy_n(&m_start[0], w, next.begin());
      }
      bool match_mid = m_floating && m_start_matches[0];
      bool match_end = m_floating && m_start_matches[1];
      for (std::size_t k = 0; k < w; ++k) {
        std::uint64_t stepped = sets[d][k] & class_sets[c * w + k];
        match_mid = match_mid || (stepped & m_accepting[k]) != 0;
        match_end = match_end || (stepped & m_accepting[w + k]) != 0;
        while (stepped != 0) {
          const std::size_t s =
              k * 64 + static_cast<std::size_t>(std::countr_zero(stepped));
          for (std::size_t j = 0; j < w; ++j) {
            next[j] |= m_follow[s * 2 * w + j];
          }
          stepped &= stepped - 1;
        }
      }
      // A match before the end ends the search: its row entry needs no target.
      const std::uint32_t target = match_mid ? dead : id_of(std::move(next));
      table.push_back(target | (match_mid ? k_dfa_match_mid : 0U)
                      | (match_end ? k_dfa_match_end : 0U));
    }
  }
  // Runs: where the DFA can only walk a chain of states through one byte set
  // or die, search_dfa() checks the bytes against the set and jumps to the
  // chain's end instead of stepping state by state. A state is "plain" when
  // its row has no match-before-the-end flag and every byte that does not
  // lead to the dead state leads to one and the same state. Only for anchored
  // patterns: there the dead state (the empty set) stays dead and never
  // matches, so a byte outside the set means no match; in a floating pattern
  // a match may start at any byte.
  const std::size_t states = sets.size();
  std::vector<Run> runs;
  std::vector<std::array<std::uint8_t, 256>> rejects;
  std::vector<std::uint32_t> run_of(states, 0); // run index + 1, 0 for none
  if (!m_floating) {
    std::vector<std::uint32_t> next_of(states, k_dfa_no_state);
    for (std::uint32_t d = 0; d < states; ++d) {
      std::uint32_t target = k_dfa_no_state;
      bool plain = true;
      for (std::size_t c = 0; c < classes && plain; ++c) {
        const std::uint32_t e = table[d * classes + c];
        const std::uint32_t t = e & k_dfa_state_mask;
        plain = (e & k_dfa_match_mid) == 0
                && (t == dead || target == k_dfa_no_state || t == target);
        target = t == dead ? target : t;
      }
      next_of[d] = plain ? target : k_dfa_no_state;
    }
    // Whether `a` and `b` lead somewhere on the same bytes.
    const auto same_bytes = [&](std::uint32_t a, std::uint32_t b) {
      for (std::size_t c = 0; c < classes; ++c) {
        if (((table[a * classes + c] & k_dfa_state_mask) == dead)
            != ((table[b * classes + c] & k_dfa_state_mask) == dead)) {
          return false;
        }
      }
      return true;
    };
    for (std::uint32_t d = 0; d < states; ++d) {
      if (next_of[d] == k_dfa_no_state) {
        continue;
      }
      Run r;
      if (next_of[d] == d) {
        r.length = k_run_unbounded;
        r.end = d;
      } else {
        // Follow the chain while its states are plain on the same bytes; stop
        // at a state that loops on itself (its own run goes on from there),
        // and after `states` steps, which a chain without loops never takes.
        std::uint32_t length = 0;
        std::uint32_t cur = d;
        while (length < states && next_of[cur] != k_dfa_no_state
               && (cur == d || next_of[cur] != cur) && same_bytes(cur, d)) {
          cur = next_of[cur];
          ++length;
        }
        if (length < k_min_run) {
          continue;
        }
        r.length = length;
        r.end = cur;
      }
      std::array<std::uint8_t, 256> reject{};
      for (std::size_t b = 0; b < 256; ++b) {
        reject[b] = (table[d * classes + class_of[b]] & k_dfa_state_mask) == dead ? 1 : 0;
      }
      auto found = std::find(rejects.begin(), rejects.end(), reject);
      r.rejects = static_cast<std::uint32_t>(found - rejects.begin());
      if (found == rejects.end()) {
        rejects.push_back(reject);
      }
      runs.push_back(r);
      run_of[d] = static_cast<std::uint32_t>(runs.size());
    }
  }

  // Store row offsets rather than state numbers: no multiplication per byte.
  // A row has an entry per class and then its state's run index + 1 (0 for
  // none). An entry's flags tell search_dfa() whether to stop or to look for
  // a run without other loads.
  const std::size_t stride = classes + 1;
  const auto row = [stride](std::uint32_t d) {
    return d * static_cast<std::uint32_t>(stride);
  };
  std::vector<std::uint32_t> rows(states * stride);
  for (std::uint32_t d = 0; d < states; ++d) {
    for (std::size_t c = 0; c < classes; ++c) {
      const std::uint32_t e = table[d * classes + c];
      const std::uint32_t t = e & k_dfa_state_mask;
      rows[row(d) + c] = row(t) | (e & ~k_dfa_state_mask)
                         | (t == dead && !m_floating ? k_dfa_dies : 0U)
                         | (run_of[t] != 0 ? k_dfa_run : 0U);
    }
    rows[row(d) + classes] = run_of[d];
  }
  for (Run& r : runs) {
    r.end = row(r.end);
  }
  m_dfa = std::move(rows);
  m_classes = classes;
  m_class_of = class_of;
  m_dfa_start = row(start);
  m_runs = std::move(runs);
  m_run_rejects = std::move(rejects);
}

bool Pattern::search_dfa(std::string_view text) const {
  const std::size_t n = text.size();
  if (n == 0 || m_start_matches[2]) {
    return m_start_matches[n == 0 ? 3 : 2];
  }
  const auto byte = [text](std::size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  // Every byte but the last, which alone can complete a match at the end.
  const std::size_t last = n - 1;
  constexpr std::uint32_t k_special = k_dfa_match_mid | k_dfa_dies | k_dfa_run;
  std::uint32_t row = m_dfa_start;
  // The flags of the entry that led to `row`; the fast path is one lookup
  // and one test per byte.
  std::uint32_t flags = m_dfa[row + m_classes] != 0 ? k_dfa_run : 0U;
  std::size_t i = 0;
  std::size_t runs_from = 0;
  for (;;) {
    if (flags != 0) {
      if ((flags & k_dfa_match_mid) != 0) {
        return true; // a match ends before the last byte
      }
      if ((flags & k_dfa_dies) != 0) {
        return false; // none can
      }
      if (i >= runs_from) {
        const Run& r = m_runs[m_dfa[row + m_classes] - 1];
        const std::size_t left = last - i;
        if (r.length <= left || r.length == k_run_unbounded) {
          const std::size_t stop = i + std::min<std::size_t>(r.length, left);
          const std::uint8_t* reject = m_run_rejects[r.rejects].data();
          const auto block = [&](std::size_t at) {
            return static_cast<unsigned>(reject[byte(at)] | reject[byte(at + 1)]
                                         | reject[byte(at + 2)] | reject[byte(at + 3)]
                                         | reject[byte(at + 4)] | reject[byte(at + 5)]
                                         | reject[byte(at + 6)] | reject[byte(at + 7)]);
          };
          unsigned rejected = 0;
          if (stop - i >= 8) {
            for (; i + 8 <= stop; i += 8) {
              rejected |= block(i);
            }
            // The last bytes as a block that overlaps the previous one:
            // checking a byte twice changes nothing.
            rejected |= i < stop ? block(stop - 8) : 0U;
            i = stop;
          }
          for (; i < stop; ++i) {
            rejected |= reject[byte(i)];
          }
          if (rejected != 0) {
            return false; // the DFA would have died there
          }
          row = r.end;
          flags = m_dfa[row + m_classes] != 0 && i < last ? k_dfa_run : 0U;
          continue;
        }
        // Too long for the rest of the text, and so are the runs of the rest
        // of its chain: step through it.
        runs_from = i + r.length;
      }
    }
    if (i == last) {
      break;
    }
    const std::uint32_t e = m_dfa[row + m_class_of[byte(i)]];
    ++i;
    row = e & k_dfa_state_mask;
    flags = e & k_special;
  }
  const std::uint32_t e = m_dfa[row + m_class_of[byte(last)]];
  return (e & k_dfa_match_end) != 0;
}

// search() for patterns with at most 64 * W byte states, W known at compile
// time so that the live sets stay in registers; ^[0-9a-f]{64}$ has W = 1.
template<std::size_t W>
bool Pattern::search_fixed(std::string_view text) const {
  const std::size_t n = text.size();
  // At the beginning, and at the end when the text is empty.
  const std::size_t first = n == 0 ? 3 : 2;
  if (m_start_matches[first]) {
    return true;
  }
  std::array<std::uint64_t, W> live{};
  std::copy_n(&m_start[first * W], W, live.begin());
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t end = i + 1 == n ? 1 : 0;
    const std::uint64_t* bytes =
        &m_byte_states[static_cast<unsigned char>(text[i]) * W];
    std::array<std::uint64_t, W> next{};
    if (m_floating) {
      if (m_start_matches[end]) {
        return true;
      }
      // A match may start at i + 1.
      std::copy_n(&m_start[end * W], W, next.begin());
    }
    bool any = m_floating;
    for (std::size_t k = 0; k < W; ++k) {
      std::uint64_t stepped = live[k] & bytes[k];
      if ((stepped & m_accepting[end * W + k]) != 0) {
        return true;
      }
      any = any || stepped != 0;
      while (stepped != 0) {
        const std::size_t s =
            k * 64 + static_cast<std::size_t>(std::countr_zero(stepped));
        const std::uint64_t* follow = &m_follow[(s * 2 + end) * W];
        for (std::size_t j = 0; j < W; ++j) {
          next[j] |= follow[j];
        }
        stepped &= stepped - 1;
      }
    }
    if (!any) {
      return false; // no live state, and no match can start later
    }
    live = next;
  }
  return false;
}

bool Pattern::search(std::string_view text) const {
  // Small, so that the DFA search (every schema pattern) is one call away.
  return m_classes != 0 ? search_dfa(text) : search_nfa(text);
}

bool Pattern::search_nfa(std::string_view text) const {
  switch (m_words) {
  case 1:
    return search_fixed<1>(text);
  case 2:
    return search_fixed<2>(text);
  case 3:
    return search_fixed<3>(text);
  case 4:
    return search_fixed<4>(text);
  default:
    break;
  }
  // Wider sets: search_fixed()'s loop with the width known at run time only.
  const std::size_t w = m_words;
  const std::size_t n = text.size();
  const std::size_t first = n == 0 ? 3 : 2;
  if (m_start_matches[first]) {
    return true;
  }
  // Per call, on the stack: search() runs concurrently and keeps no state.
  std::array<std::uint64_t, k_max_words> buffer_a{};
  std::array<std::uint64_t, k_max_words> buffer_b{};
  std::uint64_t* live = buffer_a.data();
  std::uint64_t* next = buffer_b.data();
  std::copy_n(&m_start[first * w], w, live);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t end = i + 1 == n ? 1 : 0;
    const std::uint64_t* bytes =
        &m_byte_states[static_cast<unsigned char>(text[i]) * w];
    const std::uint64_t* accepting = &m_accepting[end * w];
    if (m_floating) {
      if (m_start_matches[end]) {
        return true;
      }
      std::copy_n(&m_start[end * w], w, next);
    } else {
      std::fill_n(next, w, 0);
    }
    bool any = m_floating;
    for (std::size_t k = 0; k < w; ++k) {
      std::uint64_t stepped = live[k] & bytes[k];
      if ((stepped & accepting[k]) != 0) {
        return true;
      }
      any = any || stepped != 0;
      while (stepped != 0) {
        const std::size_t s =
            k * 64 + static_cast<std::size_t>(std::countr_zero(stepped));
        const std::uint64_t* follow = &m_follow[(s * 2 + end) * w];
        for (std::size_t j = 0; j < w; ++j) {
          next[j] |= follow[j];
        }
        stepped &= stepped - 1;
      }
    }
    if (!any) {
      return false; // no live state, and no match can start later
    }
    std::swap(live, next);
  }
  return false;
}

} // namespace custody
