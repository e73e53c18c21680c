// Reading a whole (small) file into memory: evaluation texts, prompt lists, imatrix files. Model
// weights are never read this way; they are mapped (mapped_file.h).
#pragma once

#include <string>

#include "quantlab/util/result.h"

namespace quantlab {

// The bytes of `path`, unchanged (no newline or encoding conversion). Errors name the path and the
// system's reason: "notes.txt: cannot read: No such file or directory".
Result<std::string> ReadText(const std::string& path);

}  // namespace quantlab
