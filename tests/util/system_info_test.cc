#include "quantlab/util/system_info.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/paths.h"

namespace quantlab {
namespace {
namespace fs = std::filesystem;

void WriteCache(const fs::path& dir, const std::string& index, const std::string& level,
                const std::string& size) {
  fs::create_directories(dir / index);
  std::ofstream(dir / index / "level") << level << "\n";
  std::ofstream(dir / index / "size") << size << "\n";
}

TEST(LastLevelCacheTest, PicksTheHighestLevelAndItsLargestSize) {
  testing::TempDir dir;
  WriteCache(dir.path(), "index0", "1", "48K");
  WriteCache(dir.path(), "index1", "1", "32K");
  WriteCache(dir.path(), "index2", "2", "2048K");
  WriteCache(dir.path(), "index3", "3", "32M");
  WriteCache(dir.path(), "index4", "3", "16384K");
  fs::create_directories(dir.path() / "power");  // sysfs has other entries; they are not caches
  EXPECT_EQ(ReadLastLevelCacheBytes(dir.path().string()), 32ull << 20);
}

TEST(LastLevelCacheTest, UnreadableOrMalformedGivesZeroOrIsSkipped) {
  testing::TempDir dir;
  EXPECT_EQ(ReadLastLevelCacheBytes((dir.path() / "missing").string()), 0u);
  WriteCache(dir.path(), "index0", "1", "32K");
  WriteCache(dir.path(), "index1", "2", "lots");   // unreadable size: skipped, not a crash
  WriteCache(dir.path(), "index2", "x", "1024K");  // unreadable level: skipped
  EXPECT_EQ(ReadLastLevelCacheBytes(dir.path().string()), 32u << 10);
}

TEST(LastLevelCacheTest, ThisMachineIsReadWhereSysfsHasCaches) {
  const fs::path sysfs = "/sys/devices/system/cpu/cpu0/cache";
  if (!fs::exists(sysfs / "index0" / "size")) GTEST_SKIP() << "no cache information in sysfs";
  EXPECT_GT(ReadMachineInfo().llc_bytes, 0u);
}

}  // namespace
}  // namespace quantlab
