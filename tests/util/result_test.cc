#include "quantlab/util/result.h"

#include <gtest/gtest.h>

#include <string>

namespace quantlab {
namespace {

Result<int> Parse(bool good) {
  if (!good) return Error{"not a number", ErrorKind::kUsage};
  return 7;
}

Result<int> Doubled(bool good, const std::string& where) {
  QL_ASSIGN_OR_RETURN_CTX(const int v, Parse(good), "while reading {}", where);
  return 2 * v;
}

Status Checked(bool good) {
  QL_RETURN_IF_ERROR_CTX(Parse(good), "line {}", 3);
  return Ok();
}

TEST(ResultMacros, ContextIsPrependedAndTheKindKept) {
  auto ok = Doubled(true, "a.txt");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 14);
  auto bad = Doubled(false, "a.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "while reading a.txt: not a number");
  EXPECT_EQ(bad.error().kind, ErrorKind::kUsage);

  EXPECT_TRUE(Checked(true).ok());
  const Status status = Checked(false);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "line 3: not a number");
  EXPECT_EQ(status.error().kind, ErrorKind::kUsage);
}

}  // namespace
}  // namespace quantlab
