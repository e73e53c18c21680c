// Always-on invariant checks for conditions that can only fail through a bug in quantlab (never through
// bad input, which gets a Result error at the edge). They stay on in Release: a wrong answer is worse
// than a stopped program.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace quantlab::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "quantlab: internal error at %s:%d: check `%s` failed%s%s\n", file, line, condition,
               message[0] ? ": " : "", message);
  std::abort();
}
}  // namespace quantlab::internal

#define QL_CHECK(cond)                                                                        \
  do {                                                                                        \
    if (!(cond)) [[unlikely]] ::quantlab::internal::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)

#define QL_CHECK_MSG(cond, msg)                                                                  \
  do {                                                                                           \
    if (!(cond)) [[unlikely]] ::quantlab::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
