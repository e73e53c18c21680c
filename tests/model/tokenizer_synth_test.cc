// The synthetic models' SentencePiece vocabulary (src/quantlab/synth) against llama.cpp: our inputs
// (tests/data/tokenizer/extra.inp) tokenized by llama.cpp (libllama, commit c392e509) on a model written
// by `quantlab synth --vocab 2000`, committed as extra-synth2000.{out,special.out,detok}. Needs nothing
// outside the tree.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace quantlab
