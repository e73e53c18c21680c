#include "quantlab/util/text_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/paths.h"

namespace quantlab {
namespace {

TEST(ReadText, ReturnsTheBytesUnchanged) {
  testing::TempDir dir;
  const std::string path = (dir / "t.txt").string();
  const std::string bytes = std::string("line\r\nnul:") + '\0' + "\xff end";
  std::ofstream(path, std::ios::binary) << bytes;
  auto text = ReadText(path);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, bytes);

  std::ofstream(path, std::ios::binary | std::ios::trunc).flush();
  auto empty = ReadText(path);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, "");
}

TEST(ReadText, MissingFileAndFolderAreErrorsNamingThePath) {
  testing::TempDir dir;
  const std::string missing = (dir / "absent.txt").string();
  auto a = ReadText(missing);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().message, missing + ": cannot read: No such file or directory");
  auto b = ReadText(dir.path().string());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, dir.path().string() + ": cannot read: is a folder");
}

}  // namespace
}  // namespace quantlab
