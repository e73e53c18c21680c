// Reads the GGUF files that llama.cpp ships (its vocab-only test models) and any extra files named in
// QUANTLAB_GGUF_FILES (colon-separated, e.g. models llama-quantize wrote), and checks that each parses
// and rewrites to identical bytes. Dev-time check: skipped unless QUANTLAB_LLAMA_CPP_DIR or
// QUANTLAB_GGUF_FILES is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "support/paths.h"

namespace quantlab {
namespace {

std::vector<std::filesystem::path> ReferenceFiles() {
  std::vector<std::filesystem::path> files;
  if (const char* dir = std::getenv("QUANTLAB_LLAMA_CPP_DIR")) {
    const auto models = std::filesystem::path(dir) / "models";
    if (std::filesystem::is_directory(models)) {
      for (const auto& entry : std::filesystem::directory_iterator(models)) {
        if (entry.path().extension() == ".gguf") files.push_back(entry.path());
      }
    }
  }
  if (const char* list = std::getenv("QUANTLAB_GGUF_FILES")) {
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) files.emplace_back(item);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LlamaCppFilesTest, ReadAndRewriteIdentically) {
  const auto files = ReferenceFiles();
  if (files.empty()) GTEST_SKIP() << "set QUANTLAB_LLAMA_CPP_DIR (llama.cpp checkout) or QUANTLAB_GGUF_FILES";
  testing::TempDir dir;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    auto file = GgufFile::Open(path.string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    const auto out = dir / "rewritten.gguf";
    ASSERT_TRUE(MakeWriterFromFile(*file).WriteTo(out.string()).ok());
    std::string original = ReadAll(path);
    const std::string rewritten = ReadAll(out);
    if (file->version() == 2) original[4] = 3;  // written back as version 3, same layout
    EXPECT_EQ(original.size(), rewritten.size());
    EXPECT_TRUE(original == rewritten) << "rewritten bytes differ";
    std::printf("  %s: v%u, %zu keys, %zu tensors, %zu bytes: identical=%d\n", path.filename().c_str(),
                file->version(), file->metadata().size(), file->tensors().size(), original.size(),
                original == rewritten);
  }
}

}  // namespace
}  // namespace quantlab
