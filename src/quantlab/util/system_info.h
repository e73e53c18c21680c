// Facts about the machine and this process that reports and memory measurements need. Speed figures
// hold only for the machine they were measured on, so reports record these.
#pragma once

#include <cstdint>
#include <string>

namespace quantlab {

struct MachineInfo {
  std::string cpu_model;  // e.g. "AMD EPYC 9R14"; "unknown" where it cannot be read
  int logical_cpus = 0;
  uint64_t total_ram_bytes = 0;
  uint64_t llc_bytes = 0;  // size of the largest (last-level) cache; 0 where it cannot be read
  std::string os;          // kernel name and release
};

MachineInfo ReadMachineInfo();

// Memory the kernel could give new work without swapping (MemAvailable), in bytes; 0 if unavailable.
uint64_t AvailableRamBytes();

// Size of the highest-level cache described under `cache_dir` (Linux sysfs: index*/level, index*/size
// such as "32768K"); the largest if that level has several. 0 when nothing there can be read.
uint64_t ReadLastLevelCacheBytes(const std::string& cache_dir = "/sys/devices/system/cpu/cpu0/cache");

// Peak resident set size of this process so far (VmHWM), in bytes; 0 if unavailable.
uint64_t PeakRssBytes();

// User plus system CPU time of this process so far (all its threads), in seconds; 0 if unavailable. On a
// machine shared with other work, wall time alone says little: the lab reports both per step.
double ProcessCpuSeconds();

}  // namespace quantlab
