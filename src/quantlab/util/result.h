// Errors as values. Input that comes from outside (files, command lines, configs) is validated at the
// edge and reported through Result<T>; internal invariants use QL_CHECK (check.h) instead.
//
// A small hand-rolled type rather than std::expected: clang 14 (used for the fuzz build) cannot use
// libstdc++ 12's <expected>.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace quantlab {

// Whose fault an error is; the executable turns it into its exit code (1 or 2).
enum class ErrorKind {
  kFailure,  // the work could not be done: a bad file, a failed write, a model that does not fit
  kUsage,    // the request itself is wrong: an unknown recipe, a malformed option value
};

// A human-readable error. The message should say what, where (file, byte offset, tensor, line) and why.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kFailure;

  // Returns a copy with `context: ` prepended, e.g. Wrap("model.gguf") -> "model.gguf: <message>".
  Error Wrap(std::string_view context) const { return Error{fmt::format("{}: {}", context, message), kind}; }
};

template <typename... Args>
Error MakeError(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// Result of an operation with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

}  // namespace quantlab

// Propagates an error from an expression returning Result<...> or Status.
#define QL_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    auto ql_status_ = (expr);                        \
    if (!ql_status_.ok()) return ql_status_.error(); \
  } while (0)

#define QL_CONCAT_INNER(a, b) a##b
#define QL_CONCAT(a, b) QL_CONCAT_INNER(a, b)

// `QL_ASSIGN_OR_RETURN(auto x, ReadThing());` declares x from the value or returns the error.
#define QL_ASSIGN_OR_RETURN(lhs, expr) QL_ASSIGN_OR_RETURN_IMPL(QL_CONCAT(ql_result_, __LINE__), lhs, expr)
#define QL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()

// The same, with context for the error: `QL_ASSIGN_OR_RETURN_CTX(auto x, Read(path), "reading {}", path);`
// returns "reading a.gguf: <message>". The context is formatted only when there is an error.
#define QL_ASSIGN_OR_RETURN_CTX(lhs, expr, ...) \
  QL_ASSIGN_OR_RETURN_CTX_IMPL(QL_CONCAT(ql_result_, __LINE__), lhs, expr, __VA_ARGS__)
#define QL_ASSIGN_OR_RETURN_CTX_IMPL(tmp, lhs, expr, ...)           \
  auto tmp = (expr);                                                \
  if (!tmp.ok()) return tmp.error().Wrap(fmt::format(__VA_ARGS__)); \
  lhs = std::move(tmp).value()

// QL_RETURN_IF_ERROR with context, formatted as in QL_ASSIGN_OR_RETURN_CTX.
#define QL_RETURN_IF_ERROR_CTX(expr, ...)                                           \
  do {                                                                              \
    auto ql_status_ = (expr);                                                       \
    if (!ql_status_.ok()) return ql_status_.error().Wrap(fmt::format(__VA_ARGS__)); \
  } while (0)
