#include "quantlab/lab/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "quantlab/recipes/imatrix_rules.h"
#include "quantlab/recipes/recipe.h"

namespace quantlab::lab {
namespace fs = std::filesystem;

std::vector<std::string> DefaultPrompts() {
  return {"Once upon a time", "The capital of France is", "To solve this math problem, first we need to",
          "In the field of artificial intelligence,",
          "Step-by-step reasoning: If x = 5 and y = 3, then x + y ="};
}

std::vector<std::string> DefaultFormats(const std::string& base_format) {
  return {base_format, "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_K_S", "Q3_K_M"};
}

Result<uint64_t> ParseByteSize(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return MakeError("'{}' is not a size (expected e.g. 8G, 512M, 1.5GiB)", text);
  }
  std::string unit = text.substr(pos);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (!unit.empty() && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit == "K")
    scale = 1024.0;
  else if (unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty())
    return MakeError("'{}': unknown size unit '{}' (use K, M, G or T)", text, unit);
  if (value < 0) return MakeError("'{}': a size cannot be negative", text);
  return static_cast<uint64_t>(value * scale);
}

Result<analysis::ScoreWeights> ParseWeights(const std::string& text, analysis::ScoreWeights w) {
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return MakeError("weights '{}': expected name=value, got '{}'", text, item);
    const std::string name = item.substr(0, eq);
    double value = 0;
    try {
      value = std::stod(item.substr(eq + 1));
    } catch (...) {
      return MakeError("weights '{}': '{}' is not a number", text, item.substr(eq + 1));
    }
    if (value < 0) return MakeError("weights '{}': {} is negative", text, name);
    if (name == "size")
      w.size = value;
    else if (name == "quality")
      w.quality = value;
    else if (name == "speed")
      w.speed = value;
    else
      return MakeError("weights '{}': unknown weight '{}' (size, quality, speed)", text, name);
    start = end + 1;
  }
  if (w.size + w.quality + w.speed <= 0)
    return MakeError("weights '{}': at least one must be positive", text);
  return w;
}

DataSetSpec ParseDataSet(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq != std::string::npos && eq > 0 && text.find('/') > eq)
    return {text.substr(0, eq), text.substr(eq + 1)};
  return {fs::path(text).stem().string(), text};
}

Result<TaskKind> ParseTaskKind(const std::string& name) {
  if (name == "hellaswag") return TaskKind::kHellaswag;
  if (name == "winogrande") return TaskKind::kWinogrande;
  if (name == "mc" || name == "multiple-choice" || name == "multiple_choice")
    return TaskKind::kMultipleChoice;
  return MakeError("unknown task kind '{}' (hellaswag, winogrande, mc)", name);
}

Result<std::vector<TaskSetSpec>> ParseTaskSets(const std::string& text) {
  std::vector<TaskSetSpec> sets;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq + 1 == item.size()) {
      return MakeError("tasks '{}': expected KIND=FILE (hellaswag, winogrande or mc), got '{}'", text, item);
    }
    QL_ASSIGN_OR_RETURN_CTX(const TaskKind kind, ParseTaskKind(item.substr(0, eq)), "tasks '{}'", text);
    for (const auto& s : sets) {
      if (s.kind == kind) return MakeError("tasks '{}': {} is given twice", text, TaskKindName(kind));
    }
    sets.push_back({kind, item.substr(eq + 1)});
    start = end + 1;
  }
  if (sets.empty()) return MakeError("tasks '{}': no task file (expected KIND=FILE,...)", text);
  return sets;
}

namespace {

template <typename T>
Status Read(const toml::table& t, const char* key, T& out, const std::string& path) {
  const toml::node* node = t.get(key);
  if (!node) return Ok();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) {
      out = *v;
      return Ok();
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (auto v = node->value<double>()) {
      out = static_cast<T>(*v);
      return Ok();
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node->value<bool>()) {
      out = *v;
      return Ok();
    }
  } else {
    if (auto v = node->value<int64_t>()) {
      out = static_cast<T>(*v);
      return Ok();
    }
  }
  return MakeError("{}:{}: '{}' has the wrong type", path, node->source().begin.line, key);
}

// A size: "8G" or a number of bytes.
Status ReadByteSize(const toml::table& t, const char* key, uint64_t& out, const std::string& path) {
  const toml::node* node = t.get(key);
  if (!node) return Ok();
  if (auto s = node->value<std::string>()) {
    QL_ASSIGN_OR_RETURN(out, ParseByteSize(*s));
  } else if (auto n = node->value<int64_t>(); n && *n >= 0) {
    out = static_cast<uint64_t>(*n);
  } else {
    return MakeError("{}:{}: {} must be a size like \"8G\"", path, node->source().begin.line, key);
  }
  return Ok();
}

Status ReadStrings(const toml::table& t, const char* key, std::vector<std::string>& out,
                   const std::string& path) {
  const toml::node* node = t.get(key);
  if (!node) return Ok();
  const toml::array* arr = node->as_array();
  if (!arr) return MakeError("{}:{}: '{}' must be an array of strings", path, node->source().begin.line, key);
  out.clear();
  for (const auto& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) return MakeError("{}:{}: '{}' must hold only strings", path, item.source().begin.line, key);
    out.push_back(*v);
  }
  return Ok();
}

}  // namespace

Status CheckReference(const LabConfig& c) {
  if (c.reference.empty()) return Ok();
  const auto same = [&](const std::string& name) {
    return std::equal(name.begin(), name.end(), c.reference.begin(), c.reference.end(),
                      [](unsigned char a, unsigned char b) { return std::toupper(a) == std::toupper(b); });
  };
  std::string upper = SplitImatrixSuffix(c.reference).recipe;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!FindRecipe(upper)) return MakeError("'{}' is not a known format", c.reference);
  if (!c.formats.empty() && std::none_of(c.formats.begin(), c.formats.end(), same)) {
    return MakeError("'{}' is not one of the lab's formats ({})", c.reference, fmt::join(c.formats, ", "));
  }
  return Ok();
}

FormatChoice SplitImatrixSuffix(const std::string& name) {
  const auto lower = [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; };
  if (name.size() > kImatrixSuffix.size() &&
      std::equal(name.end() - static_cast<std::ptrdiff_t>(kImatrixSuffix.size()), name.end(),
                 kImatrixSuffix.begin(), kImatrixSuffix.end(), lower)) {
    return {name.substr(0, name.size() - kImatrixSuffix.size()), true};
  }
  return {name, false};
}

Status CheckImatrixChoice(const LabConfig& c) {
  const bool have = !c.imatrix_file.empty() || !c.calibration_file.empty();
  if (!c.imatrix_file.empty() && !c.calibration_file.empty()) {
    return MakeError(
        "give an importance matrix (--imatrix {}) or a calibration text to compute one from "
        "(--calibration {}), not both",
        c.imatrix_file, c.calibration_file);
  }
  if (c.calibration_chunks == 0 || c.calibration_chunks < -1) {
    return MakeError("--calibration-chunks must be at least 1, or -1 for all (got {})", c.calibration_chunks);
  }
  for (const std::string& name : c.formats) {
    const FormatChoice choice = SplitImatrixSuffix(name);
    if (RecipeNeedsImatrix(choice.recipe) && !have) {
      return MakeError(
          "'{}' needs an importance matrix (llama-quantize refuses to make it without one): give --imatrix "
          "FILE or --calibration TEXT",
          name);
    }
    if (!choice.imatrix) continue;
    if (!have) {
      return MakeError("'{}' needs an importance matrix: give --imatrix FILE or --calibration TEXT", name);
    }
    const std::optional<Recipe> recipe = FindRecipe(choice.recipe);
    if (!recipe) return MakeError("'{}': unknown format '{}'", name, choice.recipe);
    if (!RecipeTakesImatrix(*recipe)) {
      return MakeError("'{}': {} does not use an importance matrix (the file would be the same)", name,
                       RecipeName(*recipe));
    }
  }
  return Ok();
}

Status ApplyLabToml(const std::string& path, LabConfig& c) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return MakeError("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description());
  }
  static constexpr std::string_view kKnown[] = {"base",
                                                "formats",
                                                "data",
                                                "prompts",
                                                "prompts_file",
                                                "ram_budget",
                                                "weights",
                                                "context",
                                                "chunks",
                                                "threads",
                                                "out",
                                                "n_predict",
                                                "temperature",
                                                "top_p",
                                                "top_k",
                                                "seed",
                                                "bench_prompt",
                                                "bench_gen",
                                                "bench_repetitions",
                                                "skip_speed",
                                                "mem_limit",
                                                "full",
                                                "reference",
                                                "imatrix",
                                                "calibration",
                                                "calibration_chunks",
                                                "tasks",
                                                "tasks_max"};
  for (const auto& [key, node] : t) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key.str()) == std::end(kKnown)) {
      return MakeError("{}:{}: unknown setting '{}'", path, node.source().begin.line, key.str());
    }
  }
  const fs::path dir = fs::path(path).parent_path();
  auto relative = [&](const std::string& p) {
    return p.empty() || fs::path(p).is_absolute() ? p : (dir / p).string();
  };
  QL_RETURN_IF_ERROR(Read(t, "base", c.base_model, path));
  c.base_model = relative(c.base_model);
  QL_RETURN_IF_ERROR(ReadStrings(t, "formats", c.formats, path));
  QL_RETURN_IF_ERROR(Read(t, "reference", c.reference, path));
  QL_RETURN_IF_ERROR(Read(t, "imatrix", c.imatrix_file, path));
  c.imatrix_file = relative(c.imatrix_file);
  QL_RETURN_IF_ERROR(Read(t, "calibration", c.calibration_file, path));
  c.calibration_file = relative(c.calibration_file);
  QL_RETURN_IF_ERROR(Read(t, "calibration_chunks", c.calibration_chunks, path));
  if (const toml::node* data = t.get("data")) {
    c.data.clear();
    if (const toml::table* dt = data->as_table()) {  // data = { prose = "a.txt", code = "b.txt" }
      for (const auto& [name, file] : *dt) {
        auto v = file.value<std::string>();
        if (!v)
          return MakeError("{}:{}: data.{} must be a file name", path, file.source().begin.line, name.str());
        c.data.push_back({std::string(name.str()), relative(*v)});
      }
    } else {
      std::vector<std::string> files;
      QL_RETURN_IF_ERROR(ReadStrings(t, "data", files, path));
      for (const auto& f : files) {
        auto ds = ParseDataSet(f);
        ds.path = relative(ds.path);
        c.data.push_back(ds);
      }
    }
  }
  if (const toml::node* tasks = t.get("tasks")) {  // tasks = { hellaswag = "h.txt", mc = "mc.bin" }
    const toml::table* tt = tasks->as_table();
    if (!tt)
      return MakeError("{}:{}: tasks must be a table of KIND = FILE", path, tasks->source().begin.line);
    c.tasks.clear();
    for (const auto& [name, file] : *tt) {
      const int line = file.source().begin.line;
      auto v = file.value<std::string>();
      if (!v) return MakeError("{}:{}: tasks.{} must be a file name", path, line, name.str());
      QL_ASSIGN_OR_RETURN_CTX(const TaskKind kind, ParseTaskKind(std::string(name.str())), "{}:{}", path,
                              line);
      for (const auto& s : c.tasks) {
        if (s.kind == kind) return MakeError("{}:{}: {} is given twice", path, line, TaskKindName(kind));
      }
      c.tasks.push_back({kind, relative(*v)});
    }
  }
  if (const toml::node* n = t.get("tasks_max")) {
    auto v = n->value<int64_t>();
    if (!v || *v < 0)
      return MakeError("{}:{}: tasks_max must be a count (0: every task)", path, n->source().begin.line);
    c.tasks_max = static_cast<size_t>(*v);
  }
  QL_RETURN_IF_ERROR(ReadStrings(t, "prompts", c.prompts, path));
  QL_RETURN_IF_ERROR(Read(t, "prompts_file", c.prompts_file, path));
  c.prompts_file = relative(c.prompts_file);
  QL_RETURN_IF_ERROR(ReadByteSize(t, "ram_budget", c.ram_budget_bytes, path));
  QL_RETURN_IF_ERROR(ReadByteSize(t, "mem_limit", c.mem_limit_bytes, path));
  if (const toml::node* w = t.get("weights")) {
    if (auto s = w->value<std::string>()) {
      QL_ASSIGN_OR_RETURN(c.weights, ParseWeights(*s, c.weights));
    } else if (const toml::table* wt = w->as_table()) {
      QL_RETURN_IF_ERROR(Read(*wt, "size", c.weights.size, path));
      QL_RETURN_IF_ERROR(Read(*wt, "quality", c.weights.quality, path));
      QL_RETURN_IF_ERROR(Read(*wt, "speed", c.weights.speed, path));
    } else {
      return MakeError("{}:{}: weights must be a table or \"size=..,quality=..,speed=..\"", path,
                       w->source().begin.line);
    }
  }
  QL_RETURN_IF_ERROR(Read(t, "context", c.n_ctx, path));
  QL_RETURN_IF_ERROR(Read(t, "chunks", c.chunks, path));
  QL_RETURN_IF_ERROR(Read(t, "full", c.full, path));
  QL_RETURN_IF_ERROR(Read(t, "threads", c.threads, path));
  QL_RETURN_IF_ERROR(Read(t, "out", c.out_dir, path));
  QL_RETURN_IF_ERROR(Read(t, "n_predict", c.n_predict, path));
  QL_RETURN_IF_ERROR(Read(t, "temperature", c.temperature, path));
  QL_RETURN_IF_ERROR(Read(t, "top_p", c.top_p, path));
  QL_RETURN_IF_ERROR(Read(t, "top_k", c.top_k, path));
  QL_RETURN_IF_ERROR(Read(t, "seed", c.seed, path));
  QL_RETURN_IF_ERROR(Read(t, "bench_prompt", c.bench_prompt, path));
  QL_RETURN_IF_ERROR(Read(t, "bench_gen", c.bench_gen, path));
  QL_RETURN_IF_ERROR(Read(t, "bench_repetitions", c.bench_repetitions, path));
  QL_RETURN_IF_ERROR(Read(t, "skip_speed", c.skip_speed, path));
  return Ok();
}

Result<std::string> FindDemoDir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("QUANTLAB_DEMO_DIR")) candidates.emplace_back(env);
  candidates.emplace_back(fs::path(QUANTLAB_SOURCE_DIR) / "models" / "demo");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "models" / "demo");
    candidates.push_back(exe.parent_path().parent_path() / "models" / "demo");
  }
  std::string tried;
  for (const auto& c : candidates) {
    if (fs::exists(c / "demo-f16.gguf", ec)) return c.string();
    tried += (tried.empty() ? "" : ", ") + c.string();
  }
  return MakeError("no base model given and the built-in demo model (demo-f16.gguf) was not found in: {}",
                   tried);
}

Status ApplyDemoDefaults(LabConfig& c) {
  if (!c.base_model.empty()) return Ok();
  QL_ASSIGN_OR_RETURN(std::string dir, FindDemoDir());
  c.base_model = (fs::path(dir) / "demo-f16.gguf").string();
  if (c.data.empty()) c.data.push_back({"demo-eval", (fs::path(dir) / "eval.txt").string()});
  if (c.prompts.empty() && c.prompts_file.empty() && fs::exists(fs::path(dir) / "prompts.txt")) {
    c.prompts_file = (fs::path(dir) / "prompts.txt").string();
  }
  const fs::path tasks = fs::path(dir) / "tasks";
  if (c.tasks.empty() && !c.no_tasks && fs::exists(tasks / "hellaswag.txt")) {
    c.tasks = {{TaskKind::kHellaswag, (tasks / "hellaswag.txt").string()},
               {TaskKind::kWinogrande, (tasks / "winogrande.csv").string()},
               {TaskKind::kMultipleChoice, (tasks / "mc.bin").string()}};
    if (!c.tasks_max) c.tasks_max = kDemoTasksMax;
  }
  return Ok();
}

}  // namespace quantlab::lab
