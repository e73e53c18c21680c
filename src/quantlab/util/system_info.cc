#include "quantlab/util/system_info.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace quantlab {
namespace {

// Reads a "Key:   1234 kB" line from /proc/self/status (or another /proc file), in bytes; 0 when absent.
uint64_t ReadStatusKilobytes(std::string_view key, const char* file = "/proc/self/status") {
  std::ifstream status(file);
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      uint64_t kilobytes = 0;
      fields >> kilobytes;
      return kilobytes * 1024;
    }
  }
  return 0;
}

std::string ReadCpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto value = line.substr(colon + 1);
        auto first = value.find_first_not_of(" \t");
        return first == std::string::npos ? "unknown" : value.substr(first);
      }
    }
  }
  return "unknown";
}

// "32768K", "16M", "512" (bytes) -> bytes; 0 when it is none of these.
uint64_t ParseCacheSize(const std::string& text) {
  std::istringstream in(text);
  uint64_t value = 0;
  if (!(in >> value)) return 0;
  std::string unit;
  in >> unit;
  if (unit.empty()) return value;
  if (unit == "K") return value << 10;
  if (unit == "M") return value << 20;
  if (unit == "G") return value << 30;
  return 0;
}

}  // namespace

uint64_t ReadLastLevelCacheBytes(const std::string& cache_dir) {
  std::error_code ec;
  int best_level = 0;
  uint64_t best_bytes = 0;
  for (std::filesystem::directory_iterator it(cache_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind("index", 0) != 0) continue;
    int level = 0;
    std::string size;
    std::ifstream(it->path() / "level") >> level;
    std::ifstream(it->path() / "size") >> size;
    const uint64_t bytes = ParseCacheSize(size);
    if (level <= 0 || bytes == 0) continue;
    if (level > best_level || (level == best_level && bytes > best_bytes)) {
      best_level = level;
      best_bytes = bytes;
    }
  }
  return best_bytes;
}

uint64_t AvailableRamBytes() { return ReadStatusKilobytes("MemAvailable", "/proc/meminfo"); }

MachineInfo ReadMachineInfo() {
  MachineInfo info;
  info.cpu_model = ReadCpuModel();
  info.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) info.total_ram_bytes = static_cast<uint64_t>(pages) * page_size;
  utsname name{};
  info.llc_bytes = ReadLastLevelCacheBytes();
  if (uname(&name) == 0) info.os = std::string(name.sysname) + " " + name.release;
  return info;
}

uint64_t PeakRssBytes() { return ReadStatusKilobytes("VmHWM"); }

double ProcessCpuSeconds() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

}  // namespace quantlab
