// Building a TokenizerImpl from GGUF metadata: the vocabulary, merges, special ids and the token
// attributes llama.cpp derives from types and names.
#include <algorithm>
#include <cctype>

#include "quantlab/gguf/model_checks.h"
#include "quantlab/model/tokenizer_impl.h"

namespace quantlab {
namespace {

uint32_t AttrOfType(int64_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kByte:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

Status LoadTokens(const GgufMetadata& md, TokenizerImpl& impl) {
  const GgufArray* texts = md.GetArray("tokenizer.ggml.tokens");
  if (texts == nullptr || texts->items.empty()) {
    return MakeError("tokenizer.ggml.tokens: missing or empty (the file has no vocabulary)");
  }
  // Element types and lengths were checked by CheckTokenizerMetadata.
  const size_t n = texts->items.size();
  const GgufArray* scores = md.GetArray("tokenizer.ggml.scores");
  const GgufArray* types = md.GetArray("tokenizer.ggml.token_type");
  impl.tokens.resize(n);
  impl.token_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string* text = texts->items[i].AsString();
    if (text == nullptr) return MakeError("tokenizer.ggml.tokens[{}]: not a string", i);
    TokenEntry& entry = impl.tokens[i];
    // llama.cpp renames empty entries so that every text maps back to one id.
    entry.text = text->empty() ? "[EMPTY_" + std::to_string(i) + "]" : *text;
    if (scores != nullptr) {
      const auto score = scores->items[i].AsFloat();
      if (!score) return MakeError("tokenizer.ggml.scores[{}]: not a number", i);
      entry.score = static_cast<float>(*score);
    }
    if (types != nullptr) {
      const auto type = types->items[i].AsInt();
      if (!type) return MakeError("tokenizer.ggml.token_type[{}]: not an integer", i);
      entry.type = static_cast<TokenType>(*type);
      entry.attr = AttrOfType(*type);
    }
    impl.token_to_id[entry.text] = static_cast<int32_t>(i);  // a later duplicate wins, as in llama.cpp
  }
  return Ok();
}

Status LoadMerges(const GgufMetadata& md, TokenizerImpl& impl) {
  const GgufArray* merges = md.GetArray("tokenizer.ggml.merges");
  if (merges == nullptr) return MakeError("tokenizer.ggml.merges: missing (required for a gpt2 tokenizer)");
  impl.merge_ranks.reserve(merges->items.size());
  for (size_t i = 0; i < merges->items.size(); ++i) {
    const std::string* line = merges->items[i].AsString();
    if (line == nullptr) return MakeError("tokenizer.ggml.merges[{}]: not a string", i);
    // "left right"; the search starts at 1 so that a left part may itself be a space.
    const size_t space = line->find(' ', 1);
    std::pair<std::string, std::string> pair;
    if (space != std::string::npos) pair = {line->substr(0, space), line->substr(space + 1)};
    impl.merge_ranks.emplace(std::move(pair), static_cast<int32_t>(i));  // the first rank wins
  }
  return Ok();
}

// Special token ids given by the file; an id out of range keeps the default (as llama.cpp does).
void ReadSpecialId(const GgufMetadata& md, std::string_view key, const TokenizerImpl& impl, int32_t& id) {
  const auto value = md.GetInt(key);
  if (value && *value >= 0 && static_cast<size_t>(*value) < impl.tokens.size())
    id = static_cast<int32_t>(*value);
}

// End-of-generation tokens and their attributes. llama.cpp recognizes many of them by text, because
// converters do not always write their ids, and forces them to be control tokens.
void FindEndOfGeneration(const GgufMetadata& md, TokenizerImpl& impl) {
  int32_t eot = -1, eom = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
  ReadSpecialId(md, "tokenizer.ggml.eot_token_id", impl, eot);
  ReadSpecialId(md, "tokenizer.ggml.eom_token_id", impl, eom);
  ReadSpecialId(md, "tokenizer.ggml.fim_pad_token_id", impl, fim_pad);
  ReadSpecialId(md, "tokenizer.ggml.fim_rep_token_id", impl, fim_rep);
  ReadSpecialId(md, "tokenizer.ggml.fim_sep_token_id", impl, fim_sep);

  // Returns the lowest id among `texts` (llama.cpp takes whichever its hash map yields first).
  const auto find_any = [&](std::initializer_list<std::string_view> texts) {
    int32_t best = -1;
    for (std::string_view t : texts) {
      const int32_t id = impl.Find(t);
      if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    return best;
  };
  const auto detect = [&](int32_t& slot, std::initializer_list<std::string_view> texts) {
    if (slot >= 0) return;
    slot = find_any(texts);
    if (slot >= 0) impl.tokens[slot].attr |= kAttrControl;
  };
  detect(eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
               "<\xEF\xBD\x9C"
               "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"});
  detect(eom, {"<|eom_id|>"});
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1;
  ReadSpecialId(md, "tokenizer.ggml.fim_pre_token_id", impl, fim_pre);
  ReadSpecialId(md, "tokenizer.ggml.fim_suf_token_id", impl, fim_suf);
  ReadSpecialId(md, "tokenizer.ggml.fim_mid_token_id", impl, fim_mid);
  ReadSpecialId(md, "tokenizer.ggml.prefix_token_id", impl, fim_pre);
  ReadSpecialId(md, "tokenizer.ggml.suffix_token_id", impl, fim_suf);
  ReadSpecialId(md, "tokenizer.ggml.middle_token_id", impl, fim_mid);
  detect(fim_pre, {"<|fim_prefix|>", "<fim-prefix>",
                   "<\xEF\xBD\x9C"
                   "fim\xE2\x96\x81"
                   "begin\xEF\xBD\x9C>",
                   "<PRE>"});
  detect(fim_suf, {"<|fim_suffix|>", "<fim-suffix>",
                   "<\xEF\xBD\x9C"
                   "fim\xE2\x96\x81"
                   "hole\xEF\xBD\x9C>",
                   "<SUF>"});
  detect(fim_mid, {"<|fim_middle|>", "<fim-middle>",
                   "<\xEF\xBD\x9C"
                   "fim\xE2\x96\x81"
                   "end\xEF\xBD\x9C>",
                   "<MID>"});
  detect(fim_pad, {"<|fim_pad|>", "<fim-pad>", "<PAD>"});
  detect(fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"});
  detect(fim_sep, {"<|file_sep|>"});

  for (int32_t id : {fim_pad, fim_rep, fim_sep}) {
    if (id >= 0) impl.eog_ids.insert(id);
  }
  for (std::string_view text :
       {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}) {
    const int32_t id = impl.Find(text);
    if (id < 0) continue;
    impl.eog_ids.insert(id);
    impl.tokens[id].attr |= kAttrControl;
  }
  for (int32_t id : {impl.eos_id, eot, eom}) {
    if (id >= 0) impl.eog_ids.insert(id);
  }
}

// Per-model attribute rules that llama.cpp applies by name (not stored in GGUF).
void ApplyNamedAttributes(const GgufMetadata& md, std::string_view pre, TokenizerImpl& impl) {
  std::string name = md.GetString("general.name").value_or("");
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto set_attr = [&](std::string_view text, uint32_t attr, bool on) {
    const int32_t id = impl.Find(text);
    if (id < 0) return;
    impl.tokens[id].attr = on ? (impl.tokens[id].attr | attr) : (impl.tokens[id].attr & ~attr);
  };
  if (pre.find("jina-v2-de") != std::string_view::npos || pre.find("jina-v2-es") != std::string_view::npos ||
      pre.find("jina-v2-code") != std::string_view::npos) {
    set_attr("<mask>", kAttrLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : impl.special_tokens) impl.tokens[id].attr |= kAttrRstrip;
    set_attr("</s>", kAttrRstrip, true);
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(text, kAttrRstrip, false);
  }
}

}  // namespace

Result<std::shared_ptr<TokenizerImpl>> LoadTokenizerImpl(const GgufMetadata& md) {
  QL_RETURN_IF_ERROR(CheckTokenizerMetadata(md));
  auto impl = std::make_shared<TokenizerImpl>();
  const std::optional<std::string> model = md.GetString("tokenizer.ggml.model");
  if (!model) return MakeError("tokenizer.ggml.model: missing (the file has no tokenizer)");
  const std::string pre_name = md.GetString("tokenizer.ggml.pre").value_or("");

  if (*model == "llama") {
    impl->kind = TokenizerKind::kSpm;
    impl->bos_id = 1;
    impl->eos_id = 2;
    impl->unk_id = 0;
    impl->add_space_prefix = true;
    impl->add_bos = true;
  } else if (*model == "gpt2") {
    impl->kind = TokenizerKind::kBpe;
    QL_ASSIGN_OR_RETURN(impl->pre, BpePreTokenizerFromName(pre_name));
    impl->bos_id = 11;
    impl->eos_id = 11;
    impl->add_bos = impl->pre.add_bos;
    impl->clean_spaces = impl->pre.clean_spaces;
  } else {
    return MakeError(
        "tokenizer.ggml.model: unsupported tokenizer '{}' (supported: llama (SentencePiece), gpt2 "
        "(byte-level BPE))",
        *model);
  }
  if (auto v = md.GetBool("tokenizer.ggml.add_space_prefix")) impl->add_space_prefix = *v;

  QL_RETURN_IF_ERROR(LoadTokens(md, *impl));
  if (impl->kind == TokenizerKind::kBpe) QL_RETURN_IF_ERROR(LoadMerges(md, *impl));

  ReadSpecialId(md, "tokenizer.ggml.bos_token_id", *impl, impl->bos_id);
  ReadSpecialId(md, "tokenizer.ggml.eos_token_id", *impl, impl->eos_id);
  ReadSpecialId(md, "tokenizer.ggml.unknown_token_id", *impl, impl->unk_id);
  if (!impl->Valid(impl->bos_id)) impl->bos_id = -1;
  if (!impl->Valid(impl->eos_id)) impl->eos_id = -1;
  if (!impl->Valid(impl->unk_id)) impl->unk_id = -1;
  if (auto v = md.GetBool("tokenizer.ggml.add_bos_token")) impl->add_bos = *v;
  if (auto v = md.GetBool("tokenizer.ggml.add_eos_token")) impl->add_eos = *v;
  if (impl->add_bos && impl->bos_id < 0)
    return MakeError("tokenizer: add_bos is set but there is no BOS token");
  if (impl->add_eos && impl->eos_id < 0)
    return MakeError("tokenizer: add_eos is set but there is no EOS token");

  FindEndOfGeneration(md, *impl);

  for (int32_t id = 0; id < static_cast<int32_t>(impl->tokens.size()); ++id) {
    if (impl->tokens[id].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown))
      impl->special_tokens.push_back(id);
  }
  // Same comparator and algorithm as llama.cpp, so that equal-length tokens keep the same order.
  std::sort(impl->special_tokens.begin(), impl->special_tokens.end(),
            [&](int32_t a, int32_t b) { return impl->tokens[a].text.size() > impl->tokens[b].text.size(); });
  ApplyNamedAttributes(md, pre_name, *impl);
  return impl;
}

}  // namespace quantlab
