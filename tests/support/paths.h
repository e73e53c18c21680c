// Where tests find their data, the demo model and the quantlab binary, and a scratch folder per test.
#pragma once

#include <filesystem>
#include <string>

namespace quantlab::testing {

// tests/data/<name>
std::filesystem::path TestDataPath(const std::string& name);
// models/demo/<name>
std::filesystem::path DemoPath(const std::string& name);
// The built quantlab executable (for CLI tests).
std::filesystem::path QuantlabBinary();

// The bytes of `path` (quantlab::ReadText); a file that cannot be read fails the running test, so an
// expectation is never checked against an empty string by accident.
std::string ReadTestFile(const std::filesystem::path& path);

// A fresh empty folder under the system temp dir, removed when the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace quantlab::testing
