#include "quantlab/util/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace quantlab {

Result<std::string> ReadText(const std::string& path) {
  // A folder opens like a file and reads as empty; say what it is instead.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return MakeError("{}: cannot read: is a folder", path);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("{}: cannot read: {}", path, errno != 0 ? std::strerror(errno) : "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return MakeError("{}: cannot read: read error", path);
  return text.str();
}

}  // namespace quantlab
