// The synthetic models' SentencePiece vocabulary (src/quantlab/synth) against llama.cpp: our inputs
// (tests/data/tokenizer/extra.inp) tokenized by llama.cpp (libllama, commit c392e509) on a model written
// by `quantlab synth --vocab 2000`, committed as extra-synth2000.{out,special.out,detok}. Needs nothing
// outside the tree.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/tokenizer_test_util.h"
#include "quantlab/model/tokenizer.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using testing::Hex;
using testing::Join;
using testing::ParseIds;
using testing::Printable;
using testing::ReadInputs;
using testing::ReadLines;
using testing::TestDataPath;

TEST(SynthVocabulary, SameIdsAndTextAsLlamaCpp) {
  SynthModelSpec spec;
  spec.n_vocab = 2000;
  auto tok = Tokenizer::FromGguf(SynthModelMetadata(spec));
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->n_vocab(), 2000);
  EXPECT_EQ(tok->kind(), TokenizerKind::kSpm);

  const std::vector<std::string> inputs = ReadInputs(TestDataPath("tokenizer/extra.inp"));
  const auto plain = ReadLines(TestDataPath("tokenizer/extra-synth2000.out"));
  const auto special = ReadLines(TestDataPath("tokenizer/extra-synth2000.special.out"));
  const auto detok = ReadLines(TestDataPath("tokenizer/extra-synth2000.detok"));
  ASSERT_GT(inputs.size(), 90u);
  ASSERT_EQ(plain.size(), inputs.size());
  ASSERT_EQ(special.size(), inputs.size());
  ASSERT_EQ(detok.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tok->Encode(inputs[i], false, false);
    EXPECT_EQ(Join(ids), Join(ParseIds(plain[i]))) << "input " << i << " '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(Join(tok->Encode(inputs[i], true, true)), Join(ParseIds(special[i])))
        << "input " << i << " (special) '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(Hex(tok->Decode(ids)), detok[i]) << "decode of input " << i;
  }
}

// The synthetic byte-level BPE vocabularies (synth --bpe) against llama-tokenize c392e509 on a dozen
// strings (tests/data/tokenizer/synth-bpe1024.json): llama3's llama-bpe pre-tokenizer with BOS added and
// its special tokens parsed, qwen3's qwen2 pre-tokenizer without BOS.
TEST(SynthBpeVocabulary, SameIdsAsLlamaCpp) {
  std::ifstream in(TestDataPath("tokenizer/synth-bpe1024.json"));
  ASSERT_TRUE(in) << "missing tests/data/tokenizer/synth-bpe1024.json";
  const nlohmann::json golden = nlohmann::json::parse(in);
  for (const char* arch : {"llama3", "qwen3"}) {
    SCOPED_TRACE(arch);
    SynthModelSpec spec;
    spec.arch = arch;
    spec.bpe_vocab = true;
    spec.n_vocab = 1024;
    auto tok = Tokenizer::FromGguf(SynthModelMetadata(spec));
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    EXPECT_EQ(tok->kind(), TokenizerKind::kBpe);
    EXPECT_EQ(tok->n_vocab(), 1024);
    ASSERT_GE(golden[arch].size(), 10u);
    for (const auto& c : golden[arch]) {
      const std::string text = c["text"].get<std::string>();
      EXPECT_EQ(tok->Encode(text, true, true), c["ids"].get<std::vector<int32_t>>()) << text;
    }
  }
}

}  // namespace
}  // namespace quantlab
