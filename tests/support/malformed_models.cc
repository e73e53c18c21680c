#include "support/malformed_models.h"

#include <cstring>
#include <filesystem>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/synth/synth_model.h"

namespace quantlab::testing {
namespace {

constexpr const char* kZeroTensor = "blk.0.ffn_up.weight";

// The same array with every item stored as u8 (values cut to 0..255, as a careless writer would).
GgufValue AsU8Array(const GgufArray& array) {
  std::vector<GgufValue> items;
  items.reserve(array.items.size());
  for (const GgufValue& item : array.items) {
    const double v = item.AsFloat().value_or(0);
    items.push_back(GgufValue::U8(static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v)));
  }
  return GgufValue::Array(GgufValueType::kUint8, std::move(items));
}

void Damage(ModelDefect defect, GgufMetadata& metadata) {
  switch (defect) {
    case ModelDefect::kScoresAsU8:
      metadata.Set("tokenizer.ggml.scores", AsU8Array(*metadata.GetArray("tokenizer.ggml.scores")));
      break;
    case ModelDefect::kTokenTypesAsU8:
      metadata.Set("tokenizer.ggml.token_type", AsU8Array(*metadata.GetArray("tokenizer.ggml.token_type")));
      break;
    case ModelDefect::kShortScores: {
      GgufArray scores = *metadata.GetArray("tokenizer.ggml.scores");
      scores.items.pop_back();
      metadata.Set("tokenizer.ggml.scores", GgufValue::Array(scores.element_type, std::move(scores.items)));
      break;
    }
    case ModelDefect::kZeroDimensionTensor:
      break;
  }
}

}  // namespace

const std::vector<MalformedModel>& AllMalformedModels() {
  static const std::vector<MalformedModel> models = {
      {ModelDefect::kZeroDimensionTensor, "ZeroDimensionTensor",
       std::string("tensor '") + kZeroTensor + "' has shape [0, "},
      {ModelDefect::kScoresAsU8, "ScoresAsU8",
       "tokenizer.ggml.scores: an array of u8, expected an array of f32"},
      {ModelDefect::kTokenTypesAsU8, "TokenTypesAsU8",
       "tokenizer.ggml.token_type: an array of u8, expected an array of i32"},
      {ModelDefect::kShortScores, "ShortScores", "tokenizer.ggml.scores: 299 entries for 300 tokens"},
  };
  return models;
}

Status WriteMalformedModel(ModelDefect defect, const std::string& path) {
  SynthModelSpec spec;
  spec.n_layer = 1;
  spec.n_vocab = 300;
  spec.n_ctx_train = 256;
  const std::string source_path = path + ".source";
  QL_RETURN_IF_ERROR(WriteSynthModel(spec, source_path));
  QL_ASSIGN_OR_RETURN(const GgufFile source, GgufFile::Open(source_path));

  GgufMetadata metadata = source.metadata();
  Damage(defect, metadata);
  GgufWriter writer(std::move(metadata));
  for (const GgufTensorInfo& info : source.tensors()) {
    std::vector<int64_t> shape = info.shape;
    if (defect == ModelDefect::kZeroDimensionTensor && info.name == kZeroTensor) shape[0] = 0;
    const std::span<const std::byte> data = source.TensorData(info);
    writer.AddTensor({info.name, shape, info.type, [data](std::span<std::byte> dst) -> Status {
                        // A zero-size tensor takes no bytes; the others are copied unchanged.
                        if (!dst.empty()) std::memcpy(dst.data(), data.data(), dst.size());
                        return Ok();
                      }});
  }
  QL_RETURN_IF_ERROR(writer.WriteTo(path));
  std::error_code ec;
  std::filesystem::remove(source_path, ec);
  return Ok();
}

}  // namespace quantlab::testing
