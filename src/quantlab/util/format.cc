#include "quantlab/util/format.h"

#include <fmt/format.h>

#include <cmath>

namespace quantlab {

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string HumanCount(double count) {
  static constexpr const char* kUnits[] = {"", " K", " M", " B", " T"};
  if (std::abs(count) < 1000.0) return fmt::format("{:.0f}", count);
  int unit = 0;
  while (std::abs(count) >= 1000.0 && unit < 4) {
    count /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f}{}", count, kUnits[unit]);
}

std::string HumanDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return fmt::format("{:.1f}s", seconds);
  const auto whole = static_cast<uint64_t>(std::llround(seconds));
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, (whole % 3600) / 60);
}

}  // namespace quantlab
