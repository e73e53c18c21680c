#include "quantlab/util/mapped_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "support/paths.h"

namespace quantlab {
namespace {

TEST(MappedFileTest, MapsContent) {
  testing::TempDir dir;
  const auto path = dir / "a.bin";
  std::ofstream(path, std::ios::binary) << "hello mapped world";
  auto file = MappedFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->size(), 18u);
  EXPECT_EQ(std::memcmp(file->data().data(), "hello mapped world", 18), 0);
  EXPECT_EQ(file->path(), path.string());

  // Moving keeps the mapping valid and empties the source.
  MappedFile moved = std::move(file).value();
  EXPECT_EQ(moved.size(), 18u);
  EXPECT_EQ(std::memcmp(moved.data().data(), "hello", 5), 0);
}

TEST(MappedFileTest, EmptyFileGivesEmptySpan) {
  testing::TempDir dir;
  const auto path = dir / "empty.bin";
  std::ofstream(path, std::ios::binary).flush();
  auto file = MappedFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->size(), 0u);
  EXPECT_TRUE(file->data().empty());
}

TEST(MappedFileTest, ErrorsNameThePathAndReason) {
  auto missing = MappedFile::Open("/nonexistent/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/x.gguf"), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);

  testing::TempDir dir;
  auto folder = MappedFile::Open(dir.path().string());
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.error().message.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
