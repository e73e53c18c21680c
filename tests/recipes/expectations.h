// Loads tests/data/recipes/<shape>.json: a synthetic llama model (its metadata, tensors and the rule
// that generates its values) and, per recipe and option set, what llama-quantize (llama.cpp c392e509)
// wrote for it: the tensor order, each tensor's type, the fallback count and, for small shapes, the
// SHA-256 of each tensor's bytes. Produced at dev time by running llama-quantize on the same models.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/types.h"
#include "quantlab/recipes/plan.h"
#include "quantlab/recipes/recipe.h"
#include "support/paths.h"

namespace quantlab::testing {

struct RecipeCase {
  std::string recipe_name;
  Recipe recipe = Recipe::kF16;
  QuantizeOptions options;
  std::optional<Recipe> source_recipe;  // the source is llama-quantize's output for this recipe
  bool error = false;
  std::string llama_message;
  uint32_t file_type = 0;
  int n_fallback = 0;
  std::vector<GgmlType> types;      // aligned with ShapeExpectations::output_order
  std::vector<std::string> sha256;  // aligned likewise; empty when not recorded
  std::string Label() const;
};

struct ShapeExpectations {
  std::string shape_name;
  nlohmann::json shape;  // generator parameters (n_layer, n_embd, ...)
  uint64_t seed = 1;
  GgufMetadata metadata;
  std::vector<GgufTensorInfo> tensors;  // the source model, in file order
  std::vector<std::string> output_order;
  std::vector<std::string> output_metadata_keys;
  std::vector<RecipeCase> cases;

  // The case for `recipe` without options (the plain recipe run), or nullptr.
  const RecipeCase* PlainCase(Recipe recipe) const {
    for (const auto& c : cases) {
      if (c.recipe == recipe && !c.source_recipe && !c.options.pure && !c.options.output_tensor_type &&
          !c.options.token_embedding_type) {
        return &c;
      }
    }
    return nullptr;
  }
};

inline GgmlType TypeFromJson(const std::string& name) {
  auto type = GgmlTypeFromName(name);
  EXPECT_TRUE(type.has_value()) << "unknown type name " << name;
  return type.value_or(GgmlType::kF32);
}

inline std::string RecipeCase::Label() const {
  std::string label = recipe_name;
  if (options.pure) label += " --pure";
  if (options.output_tensor_type)
    label += " --output-tensor-type " + std::string(TypeName(*options.output_tensor_type));
  if (options.token_embedding_type) {
    label += " --token-embedding-type " + std::string(TypeName(*options.token_embedding_type));
  }
  if (source_recipe) label += " from " + std::string(RecipeName(*source_recipe));
  if (options.allow_requantize) label += " --allow-requantize";
  return label;
}

inline ShapeExpectations LoadShapeExpectations(const std::filesystem::path& path) {
  std::ifstream in(path);
  nlohmann::json doc = nlohmann::json::parse(in);
  ShapeExpectations shape;
  shape.shape_name = path.stem().string();
  shape.shape = doc["shape"];
  shape.seed = doc["seed"].get<uint64_t>();
  for (const auto& entry : doc["metadata"]) {
    const std::string key = entry[0];
    const std::string kind = entry[1];
    if (kind == "str") shape.metadata.Set(key, GgufValue::Str(entry[2].get<std::string>()));
    if (kind == "u32") shape.metadata.Set(key, GgufValue::U32(entry[2].get<uint32_t>()));
    if (kind == "f32") shape.metadata.Set(key, GgufValue::F32(entry[2].get<float>()));
  }
  uint64_t offset = 0;
  for (const auto& t : doc["tensors"]) {
    GgufTensorInfo info;
    info.name = t["name"];
    info.shape = t["shape"].get<std::vector<int64_t>>();
    info.type = TypeFromJson(t["type"]);
    info.offset = offset;
    info.n_bytes = RowBytes(info.type, info.row_length()) * info.n_rows();
    offset += (info.n_bytes + 31) / 32 * 32;
    shape.tensors.push_back(info);
  }
  shape.output_order = doc["output_order"].get<std::vector<std::string>>();
  shape.output_metadata_keys = doc["output_metadata_keys"].get<std::vector<std::string>>();
  for (const auto& c : doc["cases"]) {
    RecipeCase rc;
    rc.recipe_name = c["recipe"];
    rc.recipe = FindRecipe(rc.recipe_name).value();
    const auto& options = c["options"];
    rc.options.pure = options.value("pure", false);
    rc.options.allow_requantize = options.value("allow_requantize", false);
    if (options.contains("output_tensor_type"))
      rc.options.output_tensor_type = TypeFromJson(options["output_tensor_type"]);
    if (options.contains("token_embedding_type")) {
      rc.options.token_embedding_type = TypeFromJson(options["token_embedding_type"]);
    }
    if (options.contains("source_recipe"))
      rc.source_recipe = FindRecipe(options["source_recipe"].get<std::string>());
    rc.error = c["error"];
    rc.llama_message = c.value("llama_message", "");
    if (!rc.error) {
      rc.file_type = c["file_type"];
      rc.n_fallback = c["n_fallback"];
      for (const auto& t : c["types"]) rc.types.push_back(TypeFromJson(t));
      if (c.contains("sha256")) rc.sha256 = c["sha256"].get<std::vector<std::string>>();
    }
    shape.cases.push_back(std::move(rc));
  }
  return shape;
}

inline std::vector<std::filesystem::path> RecipeExpectationFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataPath("recipes"))) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The source tensors of a requantization case: the same shapes with the types llama-quantize wrote
// for the source recipe.
inline std::vector<GgufTensorInfo> RequantizationSource(const ShapeExpectations& shape, const RecipeCase& c) {
  const RecipeCase* source = shape.PlainCase(*c.source_recipe);
  EXPECT_NE(source, nullptr);
  std::vector<GgufTensorInfo> tensors = shape.tensors;
  for (auto& t : tensors) {
    for (size_t i = 0; i < shape.output_order.size(); ++i) {
      if (shape.output_order[i] == t.name) t.type = source->types[i];
    }
  }
  return tensors;
}

}  // namespace quantlab::testing
