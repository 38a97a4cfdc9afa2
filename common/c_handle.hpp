// RAII wrappers for C library handles and file descriptors.
//
// CFree<fn> is a stateless deleter, so unique_ptr<T, CFree<fn>> stays the size of
// one pointer. Use these only when closing cannot fail or its failure does not
// matter; where it does (archives, SSH sessions, atomic files) the owning class
// has an explicit finish() and its destructor only frees.
//
// Thread-safety: like std::unique_ptr.
#pragma once

#include <memory>
#include <utility>

#include <unistd.h>

namespace custody {

template<auto free_fn>
struct CFree {
  template<typename T>
  void operator()(T* p) const noexcept {
    free_fn(p);
  }
};

template<typename T, auto free_fn>
using CHandle = std::unique_ptr<T, CFree<free_fn>>;

// Owns a POSIX file descriptor; closes it on destruction (errors ignored: use
// close() explicitly where the result matters).
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept
    : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.m_fd, -1));
    }
    return *this;
  }
  ~UniqueFd() {
    reset();
  }

  [[nodiscard]] int get() const noexcept {
    return m_fd;
  }
  [[nodiscard]] explicit operator bool() const noexcept {
    return m_fd >= 0;
  }
  // Closes the current descriptor (if any) and takes ownership of `fd`.
  void reset(int fd = -1) noexcept {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }
  // Closes the descriptor and returns close()'s result (0 or -1 with errno).
  int close() noexcept {
    int rc = m_fd >= 0 ? ::close(m_fd) : 0;
    m_fd = -1;
    return rc;
  }
  int release() noexcept {
    return std::exchange(m_fd, -1);
  }

private:
  int m_fd = -1;
};

} // namespace custody
