#include "quantlab/util/system_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string_view>

namespace quantlab {
namespace {

// Reads a "Key:   1234 kB" line from /proc/self/status, in bytes.
uint64_t ReadStatusKilobytes(std::string_view key) {
  std::ifstream status("/proc/self/status");
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

}  // namespace

MachineInfo ReadMachineInfo() {
  MachineInfo info;
  info.cpu_model = ReadCpuModel();
  info.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) info.total_ram_bytes = static_cast<uint64_t>(pages) * page_size;
  utsname name{};
  if (uname(&name) == 0) info.os = std::string(name.sysname) + " " + name.release;
  return info;
}

uint64_t PeakRssBytes() { return ReadStatusKilobytes("VmHWM"); }

}  // namespace quantlab
