#include "quantlab/gguf/model_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string_view>

namespace quantlab {
namespace {

// A tokenizer array and the element type llama.cpp reads its data as (it casts the raw array, so any
// other type would be misread there: a model quantlab accepted would not run the same in llama.cpp).
struct TokenizerArray {
  std::string_view key;
  GgufValueType element_type;
  bool one_per_token;
};

constexpr TokenizerArray kTokenizerArrays[] = {
    {"tokenizer.ggml.tokens", GgufValueType::kString, true},
    {"tokenizer.ggml.scores", GgufValueType::kFloat32, true},
    {"tokenizer.ggml.token_type", GgufValueType::kInt32, true},
    {"tokenizer.ggml.merges", GgufValueType::kString, false},
};

std::string Describe(const GgufValue& value) {
  if (const GgufArray* array = value.AsArray()) {
    return fmt::format("an array of {}", GgufValueTypeName(array->element_type));
  }
  return fmt::format("a single {}", GgufValueTypeName(value.type));
}

Status CheckTensorDimensions(const GgufFile& file) {
  for (const GgufTensorInfo& t : file.tensors()) {
    for (int64_t d : t.shape) {
      if (d < 1) {
        return MakeError("tensor '{}' has shape [{}]: a dimension of {} holds no weights", t.name,
                         fmt::join(t.shape, ", "), d);
      }
    }
  }
  return Ok();
}

}  // namespace

Status CheckTokenizerMetadata(const GgufMetadata& metadata) {
  const GgufArray* tokens = metadata.GetArray("tokenizer.ggml.tokens");
  for (const TokenizerArray& expected : kTokenizerArrays) {
    const GgufValue* value = metadata.Find(expected.key);
    if (value == nullptr) continue;
    const GgufArray* array = value->AsArray();
    if (array == nullptr || array->element_type != expected.element_type) {
      return MakeError("{}: {}, expected an array of {}", expected.key, Describe(*value),
                       GgufValueTypeName(expected.element_type));
    }
    if (expected.one_per_token && tokens != nullptr && array->items.size() != tokens->items.size()) {
      return MakeError("{}: {} entries for {} tokens (one per token expected)", expected.key,
                       array->items.size(), tokens->items.size());
    }
  }
  return Ok();
}

Status CheckModelFile(const GgufFile& file) {
  QL_RETURN_IF_ERROR_CTX(CheckTensorDimensions(file), "{}", file.path());
  QL_RETURN_IF_ERROR_CTX(CheckTokenizerMetadata(file.metadata()), "{}", file.path());
  return Ok();
}

}  // namespace quantlab
