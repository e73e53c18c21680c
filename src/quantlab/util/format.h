// Small formatting helpers for human-facing output.
#pragma once

#include <cstdint>
#include <string>

namespace quantlab {

// Binary units with one decimal: "512 B", "12.3 KiB", "1.5 GiB".
std::string HumanBytes(uint64_t bytes);
// Metric units for counts: "999", "12.3 K", "7.2 M", "1.1 B".
std::string HumanCount(double count);
// Durations: "0.4s", "59s", "3m05s", "2h01m".
std::string HumanDuration(double seconds);

}  // namespace quantlab
