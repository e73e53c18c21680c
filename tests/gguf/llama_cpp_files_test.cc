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
#include "quantlab/synth/synth_model.h"
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
    std::string original = testing::ReadTestFile(path);
    const std::string rewritten = testing::ReadTestFile(out);
    if (file->version() == 2) original[4] = 3;  // written back as version 3, same layout
    EXPECT_EQ(original.size(), rewritten.size());
    EXPECT_TRUE(original == rewritten) << "rewritten bytes differ";
    std::printf("  %s: v%u, %zu keys, %zu tensors, %zu bytes: identical=%d\n", path.filename().c_str(),
                file->version(), file->metadata().size(), file->tensors().size(), original.size(),
                original == rewritten);
  }
}

// llama.cpp's own GGUF reader (llama-gguf, "r n": read without its self-test data check) and its model
// loader (llama-simple generating 4 tokens) accept files quantlab writes.
TEST(LlamaCppFilesTest, LlamaCppAcceptsQuantlabFiles) {
  const char* dir = std::getenv("QUANTLAB_LLAMA_CPP_DIR");
  if (dir == nullptr) GTEST_SKIP() << "set QUANTLAB_LLAMA_CPP_DIR to a built llama.cpp checkout";
  const auto bin = std::filesystem::path(dir) / "build" / "bin";
  testing::TempDir tmp;
  SynthModelSpec f16;
  SynthModelSpec f32_tied;
  f32_tied.weight_type = GgmlType::kF32;
  f32_tied.tied_embeddings = true;
  f32_tied.n_layer = 1;
  SynthModelSpec bf16_mha;
  bf16_mha.weight_type = GgmlType::kBF16;
  bf16_mha.n_head_kv = bf16_mha.n_head;
  for (const auto& [name, spec] : {std::pair{"f16", f16}, {"f32-tied", f32_tied}, {"bf16", bf16_mha}}) {
    const auto model = tmp / (std::string(name) + ".gguf");
    ASSERT_TRUE(WriteSynthModel(spec, model.string()).ok());
    const auto log = tmp / "log.txt";
    const std::string read =
        fmt::format("'{}' '{}' r n > '{}' 2>&1", (bin / "llama-gguf").string(), model.string(), log.string());
    EXPECT_EQ(std::system(read.c_str()), 0) << name << ": llama-gguf rejected the file:\n"
                                            << testing::ReadTestFile(log);
    const std::string run = fmt::format("'{}' -m '{}' -n 4 'Hello world' > '{}' 2>&1",
                                        (bin / "llama-simple").string(), model.string(), log.string());
    EXPECT_EQ(std::system(run.c_str()), 0) << name << ": llama-simple failed:\n"
                                           << testing::ReadTestFile(log);
  }
}

}  // namespace
}  // namespace quantlab
