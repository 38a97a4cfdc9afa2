// A matcher for the regular expressions custody's JSON Schemas use: a subset
// of ECMAScript, compiled once into an NFA without captures and searched in one
// left-to-right pass over the text, in O(text × states) time with no
// backtracking, no recursion over the input and no allocation.
//
// Contract: for every pattern that compile() accepts and every byte string
// `text`,
//   search(text) == std::regex_search(std::string(text), std::regex(pattern))
// as libstdc++ (GCC 12) computes it: ECMAScript grammar, default flags, one
// char per byte, in the classic "C" locale (custody never changes the global
// locale; a program that did would change what std::regex's \d \s \w mean,
// not what Pattern's mean). compile() returns nullopt for every pattern
// outside the subset below and for every pattern std::regex rejects, so a
// caller can fall back to std::regex and keep its behaviour exactly.
// common/pattern_test.cpp checks the contract against std::regex_search.
//
// search() runs a DFA that compile() builds from the NFA when it is small (it
// is for every schema pattern), else steps the NFA's bit sets: one table
// lookup per byte, or a few word operations per live state and byte. Where an
// anchored pattern's DFA can only go on through one byte set or die (the 64
// bytes of ^[0-9a-f]{64}$, the tail of ^[^\s+]+$), it checks those bytes
// against the set in a tight loop instead.
//
// The subset (anything else, and anything above the size caps, gives nullopt):
//  - literal bytes (not NUL); ']' and '}' alone are literals, as in libstdc++;
//  - escapes \d \D \s \S \w \W (C locale: \d [0-9], \s [ \t\n\v\f\r],
//    \w [A-Za-z0-9_]), \f \n \r \t \v, and a backslash before any ASCII
//    punctuation character, which stands for that character;
//  - '.', any byte except '\n' and '\r' (so it does match NUL);
//  - bracket classes: [...] and [^...] with single bytes, ranges (bounds
//    compared as signed char, as libstdc++ does), the escapes above, '-' where
//    libstdc++ takes it literally, and the empty [] (no byte) and [^] (any);
//  - groups (...) and (?:...), alternation '|', empty alternatives;
//  - quantifiers ? * + {n} {n,} {n,m}, each optionally followed by the lazy
//    marker '?', several in a row (a** is valid in libstdc++), n and m <= 1000;
//  - anchors ^ and $ anywhere (start and end of the text only: no multiline).
// Rejected even though std::regex accepts them: backreferences, lookaheads,
// \b \B \0 \cX \xNN \uNNNN, [[:class:]] [[.x.]] [[=x=]], NUL in the pattern,
// a backslash before a letter or digit not listed above, groups nested more
// than 64 deep, more than 4,096 NFA states or 1,024 byte-consuming states
// (counted repeats are expanded), and patterns so large that libstdc++'s own
// NFA might exceed its 100,000-state limit.
//
// Thread-safety: a Pattern is immutable after compile(); search() may run
// concurrently on one Pattern from any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace custody {

class Pattern {
public:
  // How search() runs: from a DFA built by compile() when it stays small
  // (64K table entries), else on the NFA's bit sets; nfa_only skips the DFA,
  // for tests that check both.
  enum class Engine { automatic, nfa_only };

  // Returns the matcher for `ecmascript_pattern`, or nullopt when the pattern
  // is outside the subset above or invalid.
  static std::optional<Pattern> compile(std::string_view ecmascript_pattern,
                                        Engine engine = Engine::automatic);

  // Returns true when the pattern matches somewhere in `text` (an unanchored
  // search, as std::regex_search does).
  [[nodiscard]] bool search(std::string_view text) const;

private:
  Pattern() = default;
  void build_dfa();
  [[nodiscard]] bool search_dfa(std::string_view text) const;
  [[nodiscard]] bool search_nfa(std::string_view text) const;
  template<std::size_t W>
  [[nodiscard]] bool search_fixed(std::string_view text) const;

  // The automaton after epsilon closure: its states are the NFA states that
  // consume a byte, numbered 0..n-1 and kept as bit sets of m_words words.
  // Indices: `end` is 1 when the position reached is the end of the text,
  // `begin` when it is position 0.
  std::size_t m_words = 0;
  // [byte][word]: the states that accept `byte`.
  std::vector<std::uint64_t> m_byte_states;
  // [state][end][word]: the states live after `state` accepted its byte.
  std::vector<std::uint64_t> m_follow;
  // [end][word]: the states whose byte completes a match.
  std::vector<std::uint64_t> m_accepting;
  // [begin][end][word]: the states live where a match starts.
  std::vector<std::uint64_t> m_start;
  // [begin][end]: whether an empty match is there.
  std::array<bool, 4> m_start_matches{};
  // Whether a match may start after position 0 (the pattern is not anchored).
  bool m_floating = false;

  // The DFA over those sets (build_dfa()); none when m_classes is 0.
  // Bytes that no state tells apart share a class.
  std::size_t m_classes = 0;
  std::array<std::uint8_t, 256> m_class_of{};
  // [state][class]: the next state's row (state * (m_classes + 1)) and flags
  // (a match ends, no match can follow, the next state has a run);
  // [state][m_classes]: the state's run index + 1, or 0.
  std::vector<std::uint32_t> m_dfa;
  // A chain of `length` DFA steps from a state through one byte set (the
  // bytes whose m_run_rejects[rejects] entry is 0) to the row `end`, every
  // other byte leading to the dead state; k_run_unbounded: the state loops on
  // itself. search_dfa() checks such bytes in a tight loop.
  static constexpr std::uint32_t k_run_unbounded = 0xffffffffU;
  struct Run {
    std::uint32_t length = 0;
    std::uint32_t end = 0;
    std::uint32_t rejects = 0;
  };
  std::vector<Run> m_runs;
  std::vector<std::array<std::uint8_t, 256>> m_run_rejects;
  // The row of the state at position 0.
  std::uint32_t m_dfa_start = 0;
};

} // namespace custody
