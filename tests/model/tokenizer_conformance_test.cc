// Conformance with llama.cpp's tokenizer. Dev-time check: needs a llama.cpp checkout for its
// vocabulary files (models/ggml-vocab-*.gguf, never committed here) and is skipped unless
// QUANTLAB_LLAMA_CPP_DIR points at one.
//
// Two sources of expected ids:
//  - llama.cpp's own suites: models/ggml-vocab-X.gguf.inp / .out (add_special = false,
//    parse_special = false, compared through a map keyed by input, as test-tokenizer-0 does);
//  - our inputs tests/data/tokenizer/extra.inp, tokenized by llama.cpp (libllama, commit c392e509) on
//    the same vocabulary files, committed as extra-<variant>.out (plain), .special.out (add_special and
//    parse_special) and .detok (hex of llama_detokenize of the plain ids). The llama-bpe and qwen2
//    vocabularies are not in the checkout, so their pre-tokenizers are checked on the gpt-2
//    vocabulary with tokenizer.ggml.pre overridden (variants gpt-2-as-*), also on llama.cpp's
//    llama-bpe and qwen2 input suites (suite-gpt-2-as-*.out).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "model/tokenizer_test_util.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/model/tokenizer.h"
#include "support/paths.h"

namespace quantlab {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int32_t>;
using testing::Hex;
using testing::Join;
using testing::ParseIds;
using testing::Printable;
using testing::ReadInputs;
using testing::ReadLines;

std::optional<fs::path> LlamaCppModels() {
  const char* dir = std::getenv("QUANTLAB_LLAMA_CPP_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return fs::path(dir) / "models";
}

Result<Tokenizer> LoadVocab(const fs::path& file, const std::string& pre_override) {
  QL_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::Open(file.string()));
  GgufMetadata md = gguf.metadata();
  if (!pre_override.empty()) md.Set("tokenizer.ggml.pre", GgufValue::Str(pre_override));
  return Tokenizer::FromGguf(md);
}

// llama.cpp's own suites.
class LlamaCppSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppSuite, IdenticalIds) {
  const auto models = LlamaCppModels();
  if (!models)
    GTEST_SKIP() << "set QUANTLAB_LLAMA_CPP_DIR to a llama.cpp checkout to run tokenizer conformance";
  const fs::path vocab = *models / ("ggml-vocab-" + GetParam() + ".gguf");
  if (!fs::exists(vocab)) GTEST_SKIP() << vocab << " not found";
  auto tok = LoadVocab(vocab, "");
  ASSERT_TRUE(tok.ok()) << tok.error().message;

  const std::vector<std::string> inputs = ReadInputs(vocab.string() + ".inp");
  const std::vector<std::string> outputs = ReadLines(vocab.string() + ".out");
  ASSERT_EQ(inputs.size(), outputs.size());
  std::map<std::string, Ids> cases;  // keyed by input, as test-tokenizer-0 does (duplicates collapse)
  for (size_t i = 0; i < inputs.size(); ++i) cases[inputs[i]] = ParseIds(outputs[i]);

  int identical = 0;
  for (const auto& [input, expected] : cases) {
    const Ids got = tok->Encode(input, false, false);
    if (got == expected) {
      ++identical;
    } else {
      ADD_FAILURE() << "'" << Printable(input) << "'\n expected:" << Join(expected)
                    << "\n got:     " << Join(got);
    }
  }
  std::cout << "[conformance] ggml-vocab-" << GetParam() << ": " << identical << " / " << cases.size()
            << " identical\n";
  EXPECT_EQ(identical, static_cast<int>(cases.size()));
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaCppSuite,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "refact",
                                           "falcon"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = (c == '-') ? '_' : c;
                           return name;
                         });

struct Variant {
  std::string name;   // expected files extra-<name>.*
  std::string vocab;  // models/ggml-vocab-<vocab>.gguf
  std::string pre;    // tokenizer.ggml.pre override ("" = as in the file)
  std::string suite;  // llama.cpp input suite also checked with this variant ("" = none)
};

class ExtraInputs : public ::testing::TestWithParam<Variant> {};

TEST_P(ExtraInputs, IdenticalIdsAndText) {
  const Variant& v = GetParam();
  const auto models = LlamaCppModels();
  if (!models)
    GTEST_SKIP() << "set QUANTLAB_LLAMA_CPP_DIR to a llama.cpp checkout to run tokenizer conformance";
  const fs::path vocab = *models / ("ggml-vocab-" + v.vocab + ".gguf");
  if (!fs::exists(vocab)) GTEST_SKIP() << vocab << " not found";
  auto tok = LoadVocab(vocab, v.pre);
  ASSERT_TRUE(tok.ok()) << tok.error().message;

  const std::vector<std::string> inputs = ReadInputs(testing::TestDataPath("tokenizer/extra.inp"));
  const auto plain = ReadLines(testing::TestDataPath("tokenizer/extra-" + v.name + ".out"));
  const auto special = ReadLines(testing::TestDataPath("tokenizer/extra-" + v.name + ".special.out"));
  const auto detok = ReadLines(testing::TestDataPath("tokenizer/extra-" + v.name + ".detok"));
  ASSERT_EQ(plain.size(), inputs.size());
  ASSERT_EQ(special.size(), inputs.size());
  ASSERT_EQ(detok.size(), inputs.size());

  int same_plain = 0, same_special = 0, same_text = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Ids got = tok->Encode(inputs[i], false, false);
    const Ids got_special = tok->Encode(inputs[i], true, true);
    const std::string text = Hex(tok->Decode(got));
    same_plain += got == ParseIds(plain[i]);
    same_special += got_special == ParseIds(special[i]);
    same_text += text == detok[i];
    EXPECT_EQ(Join(got), Join(ParseIds(plain[i]))) << "input " << i << " '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(Join(got_special), Join(ParseIds(special[i])))
        << "input " << i << " (special) '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(text, detok[i]) << "decode of input " << i << " '" << Printable(inputs[i]) << "'";
  }
  std::cout << "[conformance] extra inputs on " << v.name << ": ids " << same_plain << " / " << inputs.size()
            << ", with special " << same_special << " / " << inputs.size() << ", decoded text " << same_text
            << " / " << inputs.size() << " identical\n";

  if (v.suite.empty()) return;
  const fs::path suite_inp = *models / ("ggml-vocab-" + v.suite + ".gguf.inp");
  if (!fs::exists(suite_inp)) GTEST_SKIP() << suite_inp << " not found";
  const std::vector<std::string> suite_inputs = ReadInputs(suite_inp);
  const auto suite_out = ReadLines(testing::TestDataPath("tokenizer/suite-" + v.name + ".out"));
  ASSERT_EQ(suite_out.size(), suite_inputs.size());
  int same_suite = 0;
  for (size_t i = 0; i < suite_inputs.size(); ++i) {
    const Ids got = tok->Encode(suite_inputs[i], false, false);
    same_suite += got == ParseIds(suite_out[i]);
    EXPECT_EQ(Join(got), Join(ParseIds(suite_out[i])))
        << "suite input '" << Printable(suite_inputs[i]) << "'";
  }
  std::cout << "[conformance] " << v.suite << " suite on " << v.name << ": " << same_suite << " / "
            << suite_inputs.size() << " identical\n";
}

INSTANTIATE_TEST_SUITE_P(
    Vocabs, ExtraInputs,
    ::testing::Values(Variant{"llama-spm", "llama-spm", "", ""}, Variant{"phi-3", "phi-3", "", ""},
                      Variant{"baichuan", "baichuan", "", ""}, Variant{"gpt-2", "gpt-2", "", ""},
                      Variant{"mpt", "mpt", "", ""}, Variant{"starcoder", "starcoder", "", ""},
                      Variant{"refact", "refact", "", ""}, Variant{"falcon", "falcon", "", ""},
                      Variant{"gpt-neox", "gpt-neox", "", ""},
                      Variant{"gpt-2-as-llama-bpe", "gpt-2", "llama-bpe", "llama-bpe"},
                      Variant{"gpt-2-as-qwen2", "gpt-2", "qwen2", "qwen2"},
                      Variant{"gpt-2-as-default", "gpt-2", "default", ""},
                      Variant{"gpt-2-as-smollm", "gpt-2", "smollm", ""}),
    [](const auto& info) {
      std::string name = info.param.name;
      for (char& c : name) c = (c == '-') ? '_' : c;
      return name;
    });

}  // namespace
}  // namespace quantlab
