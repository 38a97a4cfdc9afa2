// Result<T>: the value-or-error type every library function in custody returns.
//
// An Error carries a category (Errc) and a message that names the thing and the
// cause, e.g. "open /x: Permission denied". Library code never prints and never
// exits; the CLI maps any Error to exit code 2. A failed *verification* is not an
// Error: verifiers return findings (see verify/report.hpp).
//
// Thread-safety: plain values, no shared state.
#pragma once

#include <tl/expected.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace custody {

enum class Errc {
  io,            // a file, disk or OS call failed
  remote,        // the remote side (SSH host, cloud API) failed or refused
  corrupt,       // stored data is not what it claims to be
  invalid_input, // a user-supplied value or request is invalid
  not_found,     // a named thing does not exist
  conflict,      // the request conflicts with the current state
  internal,      // a bug: an invariant did not hold
};

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

template<typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
public:
  using tl::expected<T, Error>::expected;
};

// Returns an unexpected Error with `code` and `message`.
inline tl::unexpected<Error> fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// Returns an Errc::io error "`what`: strerror(`err`)".
inline tl::unexpected<Error> fail_errno(std::string_view what, int err = errno) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return fail(Errc::io, std::move(msg));
}

// Returns `error` with "`context`: " prepended to its message.
inline Error with_context(Error error, std::string_view context) {
  error.message = std::string(context) + ": " + error.message;
  return error;
}

} // namespace custody

// Propagates the error of a Result-returning expression, or discards its value.
#define CUSTODY_TRY(expr)                                                      \
  do {                                                                         \
    auto custody_try_result_ = (expr);                                         \
    if (!custody_try_result_) {                                                \
      return tl::unexpected<::custody::Error>(                                 \
        std::move(custody_try_result_.error()));                               \
    }                                                                          \
  } while (false)

#define CUSTODY_CONCAT_INNER_(a, b) a##b
#define CUSTODY_CONCAT_(a, b) CUSTODY_CONCAT_INNER_(a, b)

// Declares or assigns `lhs` from the value of a Result-returning expression, or
// propagates its error: CUSTODY_TRY_ASSIGN(auto file, open_file(path));
#define CUSTODY_TRY_ASSIGN(lhs, expr)                                          \
  CUSTODY_TRY_ASSIGN_IMPL_(CUSTODY_CONCAT_(custody_try_, __LINE__), lhs, expr)
#define CUSTODY_TRY_ASSIGN_IMPL_(tmp, lhs, expr)                               \
  auto tmp = (expr);                                                           \
  if (!tmp) {                                                                  \
    return tl::unexpected<::custody::Error>(std::move(tmp.error()));          \
  }                                                                            \
  lhs = std::move(*tmp)
