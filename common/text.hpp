// Text helpers for untrusted bytes: UTF-8 validation and escaping for display.
//
// Remote command output, file names and log lines are hostile: they may carry
// invalid UTF-8, terminal escape sequences or NUL bytes. Nothing custody prints
// to a terminal passes through unescaped.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace custody {

// Returns true when `s` is well-formed UTF-8 (no overlongs, no surrogates,
// nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

// Returns `s` with every byte that could control a terminal made visible:
// C0 controls except '\n' and '\t' (when `keep_newlines`), DEL, C1 controls
// (U+0080..U+009F) and invalid UTF-8 bytes become "\xNN"; a backslash becomes
// "\\". Valid printable UTF-8 is kept.
std::string escape_for_terminal(std::string_view s, bool keep_newlines = false);

} // namespace custody
