#include "support/paths.h"

#include <atomic>
#include <random>
#include <system_error>

#include <unistd.h>

#include <gtest/gtest.h>

#include "quantlab/util/text_file.h"

namespace quantlab::testing {

std::filesystem::path TestDataPath(const std::string& name) {
  return std::filesystem::path(QUANTLAB_TEST_DATA_DIR) / name;
}
std::filesystem::path DemoPath(const std::string& name) {
  return std::filesystem::path(QUANTLAB_DEMO_DIR) / name;
}
std::filesystem::path QuantlabBinary() { return std::filesystem::path(QUANTLAB_BINARY); }

std::string ReadTestFile(const std::filesystem::path& path) {
  Result<std::string> text = ReadText(path.string());
  if (!text.ok()) {
    ADD_FAILURE() << text.error().message;
    return "";
  }
  return std::move(text).value();
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("quantlab-test-" + std::to_string(getpid()) + "-" +
                                                    std::to_string(counter++) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace quantlab::testing
