#include "quantlab/gguf/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "quantlab/gguf/file_type.h"
#include "quantlab/util/format.h"

namespace quantlab {
namespace {

constexpr std::string_view kTokenizerPrefix = "tokenizer.ggml.";
constexpr std::string_view kSpecialNames[] = {"bos",       "eos",  "unknown", "padding",
                                              "separator", "mask", "eot",     "eom"};

std::optional<TokenizerSummary> SummarizeTokenizer(const GgufMetadata& m) {
  const auto model = m.GetString("tokenizer.ggml.model");
  if (!model) return std::nullopt;
  TokenizerSummary t;
  t.model = *model;
  t.pre = m.GetString("tokenizer.ggml.pre").value_or("");
  const GgufArray* tokens = m.GetArray("tokenizer.ggml.tokens");
  if (tokens != nullptr) t.n_tokens = tokens->items.size();
  if (const GgufArray* merges = m.GetArray("tokenizer.ggml.merges")) t.n_merges = merges->items.size();
  for (std::string_view name : kSpecialNames) {
    const auto id = m.GetInt(fmt::format("tokenizer.ggml.{}_token_id", name));
    if (!id) continue;
    std::string text;
    if (tokens != nullptr && *id >= 0 && static_cast<uint64_t>(*id) < tokens->items.size()) {
      if (const std::string* s = tokens->items[static_cast<size_t>(*id)].AsString()) text = *s;
    }
    t.special[std::string(name)] = {*id, text};
  }
  return t;
}

}  // namespace

GgufSummary SummarizeGguf(const GgufFile& file) {
  const GgufMetadata& m = file.metadata();
  GgufSummary s;
  s.path = file.path();
  s.version = file.version();
  s.alignment = file.alignment();
  s.file_size = file.file_size();
  s.architecture = m.GetString("general.architecture").value_or("");
  s.name = m.GetString("general.name").value_or("");
  const std::string arch_prefix = s.architecture.empty() ? std::string() : s.architecture + ".";
  for (const auto& [key, value] : m.entries()) {
    if (!arch_prefix.empty() && key.starts_with(arch_prefix)) {
      s.hyperparameters.emplace_back(key.substr(arch_prefix.size()), value.ToDisplayString());
    } else if (!key.starts_with(kTokenizerPrefix) || value.type != GgufValueType::kArray) {
      s.other_metadata.emplace_back(key, value.ToDisplayString());
    }
  }
  s.tokenizer = SummarizeTokenizer(m);
  if (const auto file_type = m.GetUint("general.file_type")) s.file_type = static_cast<uint32_t>(*file_type);
  s.file_type_name = s.file_type ? LlamaFileTypeName(*s.file_type) : "not stated in the file";

  std::set<std::string> unsupported;
  for (const GgufTensorInfo& t : file.tensors()) {
    const GgmlTypeInfo& info = TypeInfo(t.type);
    const auto n = static_cast<uint64_t>(t.n_elements());
    s.tensors.push_back({t.name, t.shape, std::string(info.name), n, t.n_bytes});
    ++s.tensors_per_type[std::string(info.name)];
    if (!info.supported) unsupported.insert(std::string(info.name));
    s.n_parameters += n;
    s.tensor_bytes += t.n_bytes;
  }
  s.unsupported_types.assign(unsupported.begin(), unsupported.end());
  s.bits_per_weight = s.n_parameters > 0
                          ? 8.0 * static_cast<double>(s.tensor_bytes) / static_cast<double>(s.n_parameters)
                          : 0;
  return s;
}

std::string RenderSummaryText(const GgufSummary& s, bool show_tensors) {
  std::string out;
  auto line = [&out](std::string_view label, const std::string& value) {
    out += fmt::format("{:<16}{}\n", label, value);
  };
  line("file", s.path);
  line("format", fmt::format("GGUF v{}, alignment {}, {} ({} bytes)", s.version, s.alignment,
                             HumanBytes(s.file_size), s.file_size));
  line("architecture", s.architecture.empty() ? "(not stated)" : s.architecture);
  if (!s.name.empty()) line("name", s.name);
  line("file type", s.file_type ? fmt::format("{} ({})", s.file_type_name, *s.file_type) : s.file_type_name);
  line("parameters", fmt::format("{} ({})", HumanCount(static_cast<double>(s.n_parameters)), s.n_parameters));
  line("tensor data", fmt::format("{} in {} tensors, {:.2f} bits per weight", HumanBytes(s.tensor_bytes),
                                  s.tensors.size(), s.bits_per_weight));
  if (!s.tensors_per_type.empty()) {
    std::vector<std::string> parts;
    for (const auto& [type, count] : s.tensors_per_type) parts.push_back(fmt::format("{} {}", count, type));
    line("tensor types", fmt::format("{}", fmt::join(parts, ", ")));
  }
  if (!s.unsupported_types.empty()) {
    line("unsupported", fmt::format("{} (readable, but quantlab cannot compute with them)",
                                    fmt::join(s.unsupported_types, ", ")));
  }
  if (!s.hyperparameters.empty()) {
    out += "\nhyperparameters\n";
    for (const auto& [key, value] : s.hyperparameters) out += fmt::format("  {:<36} {}\n", key, value);
  }
  if (s.tokenizer) {
    const TokenizerSummary& t = *s.tokenizer;
    out += "\ntokenizer\n";
    out += fmt::format("  {:<36} {}\n", "model", t.model);
    if (!t.pre.empty()) out += fmt::format("  {:<36} {}\n", "pre", t.pre);
    out += fmt::format("  {:<36} {}\n", "tokens", t.n_tokens);
    if (t.n_merges > 0) out += fmt::format("  {:<36} {}\n", "merges", t.n_merges);
    for (const auto& [name, id_text] : t.special) {
      out += fmt::format("  {:<36} {} {}\n", name + " id", id_text.first,
                         GgufValue::Str(id_text.second).ToDisplayString());
    }
  }
  if (!s.other_metadata.empty()) {
    out += "\nother metadata\n";
    for (const auto& [key, value] : s.other_metadata) out += fmt::format("  {:<36} {}\n", key, value);
  }
  if (show_tensors && !s.tensors.empty()) {
    size_t width = 4;
    for (const auto& t : s.tensors) width = std::max(width, t.name.size());
    out += fmt::format("\n{:<{}}  {:<22} {:<8} {:>12}\n", "tensor", width, "shape", "type", "bytes");
    for (const auto& t : s.tensors) {
      out += fmt::format("{:<{}}  {:<22} {:<8} {:>12}\n", t.name, width,
                         fmt::format("[{}]", fmt::join(t.shape, ", ")), t.type, t.n_bytes);
    }
  }
  return out;
}

nlohmann::json SummaryToJson(const GgufSummary& s) {
  using nlohmann::json;
  json j;
  j["file"] = s.path;
  j["version"] = s.version;
  j["alignment"] = s.alignment;
  j["file_size"] = s.file_size;
  j["architecture"] = s.architecture;
  j["name"] = s.name;
  j["file_type"] = s.file_type ? json(*s.file_type) : json(nullptr);
  j["file_type_name"] = s.file_type_name;
  json hp = json::object();
  for (const auto& [key, value] : s.hyperparameters) hp[key] = value;
  j["hyperparameters"] = hp;
  if (s.tokenizer) {
    json t;
    t["model"] = s.tokenizer->model;
    t["pre"] = s.tokenizer->pre;
    t["tokens"] = s.tokenizer->n_tokens;
    t["merges"] = s.tokenizer->n_merges;
    json special = json::object();
    for (const auto& [name, id_text] : s.tokenizer->special)
      special[name] = {{"id", id_text.first}, {"text", id_text.second}};
    t["special"] = special;
    j["tokenizer"] = t;
  } else {
    j["tokenizer"] = nullptr;
  }
  json other = json::object();
  for (const auto& [key, value] : s.other_metadata) other[key] = value;
  j["metadata"] = other;
  json tensors = json::array();
  for (const auto& t : s.tensors) {
    tensors.push_back({{"name", t.name},
                       {"shape", t.shape},
                       {"type", t.type},
                       {"elements", t.n_elements},
                       {"bytes", t.n_bytes}});
  }
  j["tensors"] = tensors;
  j["tensors_per_type"] = s.tensors_per_type;
  j["unsupported_types"] = s.unsupported_types;
  j["totals"] = {{"parameters", s.n_parameters},
                 {"tensor_bytes", s.tensor_bytes},
                 {"bits_per_weight", s.bits_per_weight}};
  return j;
}

}  // namespace quantlab
