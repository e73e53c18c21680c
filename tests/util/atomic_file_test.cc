#include "quantlab/util/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/paths.h"

namespace quantlab {
namespace {

size_t CountEntries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFileTest, CommitPutsContentUnderFinalName) {
  testing::TempDir dir;
  const auto path = dir / "out.bin";
  auto file = AtomicFile::Create(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(std::filesystem::path(file->temp_path()).parent_path(), dir.path());
  ASSERT_TRUE(file->Write("abc").ok());
  ASSERT_TRUE(file->WriteZeros(3).ok());
  // Large enough to pass through the internal buffer several times.
  const std::string big(3 << 20, 'x');
  ASSERT_TRUE(file->Write(big).ok());
  EXPECT_FALSE(std::filesystem::exists(path)) << "nothing may appear under the final name before Commit";
  EXPECT_EQ(file->bytes_written(), 6u + big.size());
  ASSERT_TRUE(file->Commit().ok());
  EXPECT_EQ(testing::ReadTestFile(path), std::string("abc") + std::string(3, '\0') + big);
  EXPECT_EQ(CountEntries(dir.path()), 1u) << "temporary file left behind";
}

TEST(AtomicFileTest, DestroyedWithoutCommitLeavesNoFileAndKeepsOldOne) {
  testing::TempDir dir;
  const auto path = dir / "out.bin";
  std::ofstream(path) << "old content";
  {
    auto file = AtomicFile::Create(path.string());
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->Write(std::string(2 << 20, 'n')).ok());
    EXPECT_TRUE(std::filesystem::exists(file->temp_path()));
  }
  EXPECT_EQ(testing::ReadTestFile(path), "old content");
  EXPECT_EQ(CountEntries(dir.path()), 1u);
}

TEST(AtomicFileTest, MissingFolderIsAnError) {
  auto file = AtomicFile::Create("/nonexistent-folder/out.bin");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("/nonexistent-folder/out.bin"), std::string::npos);
}

TEST(AtomicFileTest, WriteFileAtomicallyHelper) {
  testing::TempDir dir;
  const auto path = dir / "x.txt";
  const std::string text = "payload";
  ASSERT_TRUE(WriteFileAtomically(path.string(), std::as_bytes(std::span(text.data(), text.size()))).ok());
  EXPECT_EQ(testing::ReadTestFile(path), "payload");
}

}  // namespace
}  // namespace quantlab
