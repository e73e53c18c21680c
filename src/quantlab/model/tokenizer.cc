// Loading the vocabulary from GGUF metadata, cutting special tokens out of the input, and turning ids
// back into text. The encoders themselves are in spm_tokenizer.cc and bpe_tokenizer.cc.
#include "quantlab/model/tokenizer.h"

#include <algorithm>
#include <cctype>

#include "quantlab/gguf/reader.h"
#include "quantlab/model/tokenizer_impl.h"
#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

constexpr std::string_view kSpaceEscape = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

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

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t hit; (hit = text.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(text.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(text.substr(pos));
  return out;
}

Status LoadTokens(const GgufMetadata& md, TokenizerImpl& impl) {
  const GgufArray* texts = md.GetArray("tokenizer.ggml.tokens");
  if (texts == nullptr || texts->items.empty()) {
    return MakeError("tokenizer.ggml.tokens: missing or empty (the file has no vocabulary)");
  }
  const size_t n = texts->items.size();
  const GgufArray* scores = md.GetArray("tokenizer.ggml.scores");
  const GgufArray* types = md.GetArray("tokenizer.ggml.token_type");
  if (scores != nullptr && scores->items.size() != n) {
    return MakeError("tokenizer.ggml.scores: {} entries for {} tokens", scores->items.size(), n);
  }
  if (types != nullptr && types->items.size() != n) {
    return MakeError("tokenizer.ggml.token_type: {} entries for {} tokens", types->items.size(), n);
  }
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
  int32_t eot = -1, eom = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1, unused = -1;
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
  (void)unused;

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

Result<std::shared_ptr<TokenizerImpl>> Load(const GgufMetadata& md) {
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

// A piece of the input: raw text still to tokenize, or a special token already recognized.
struct Fragment {
  int32_t token;  // -1 for raw text
  size_t offset;
  size_t length;
};

// Cuts the texts of special tokens out of `text`, longest first. Control and unknown tokens only with
// `parse_special`; user-defined tokens always (they are matched before anything else).
std::vector<Fragment> PartitionSpecial(const TokenizerImpl& impl, std::string_view text, bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, 0, text.size()});
  for (int32_t id : impl.special_tokens) {
    const TokenEntry& special = impl.tokens[id];
    if (!parse_special && (special.attr & (kAttrControl | kAttrUnknown))) continue;
    std::vector<Fragment> next;
    next.reserve(fragments.size());
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      size_t begin = fragment.offset;
      size_t end = fragment.offset + fragment.length;
      while (true) {
        const size_t match = text.find(special.text, begin);
        if (match == std::string_view::npos || match + special.text.size() > end) break;
        size_t left_end = match;
        if (special.attr & kAttrLstrip) {
          while (left_end > begin && IsAsciiSpace(text[left_end - 1])) --left_end;
        }
        if (left_end > begin) next.push_back({-1, begin, left_end - begin});
        next.push_back({id, 0, 0});
        begin = match + special.text.size();
        if (special.attr & kAttrRstrip) {
          while (begin < end && IsAsciiSpace(text[begin])) ++begin;
        }
      }
      if (end > begin) next.push_back({-1, begin, end - begin});
    }
    fragments = std::move(next);
  }
  return fragments;
}

}  // namespace

std::vector<int32_t> TokenizerImpl::Encode(std::string_view text, bool add_special,
                                           bool parse_special) const {
  std::vector<int32_t> out;
  const std::vector<Fragment> fragments = PartitionSpecial(*this, text, parse_special);
  if (add_special && add_bos) out.push_back(bos_id);
  if (kind == TokenizerKind::kSpm) {
    // SentencePiece sees a space before the text and after every special token.
    bool after_special = true;
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        out.push_back(fragment.token);
        after_special = true;
        continue;
      }
      std::string piece = add_space_prefix && after_special ? " " : "";
      piece.append(text.substr(fragment.offset, fragment.length));
      EncodeSpm(*this, ReplaceAll(piece, " ", kSpaceEscape), out);
      after_special = false;
    }
  } else {
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        out.push_back(fragment.token);
      } else {
        EncodeBpe(*this, text.substr(fragment.offset, fragment.length), out);
      }
    }
  }
  if (add_special && add_eos) out.push_back(eos_id);
  return out;
}

std::string TokenizerImpl::TokenToPiece(int32_t id, bool special) const {
  if (!Valid(id)) return "";
  const TokenEntry& token = tokens[id];
  if (token.attr & (kAttrUnknown | kAttrControl)) return special ? token.text : "";
  if (token.attr & kAttrUserDefined) return token.text;
  if (kind == TokenizerKind::kSpm) {
    if (token.attr & kAttrNormal) return ReplaceAll(token.text, kSpaceEscape, " ");
    if ((token.attr & kAttrByte) && token.text.size() >= 6) {
      return std::string(1, static_cast<char>(std::stoi(token.text.substr(3, 2), nullptr, 16)));
    }
    return "";
  }
  if (!(token.attr & kAttrNormal)) return "";
  // Each code point of a byte-level token stands for one byte.
  std::string bytes;
  for (uint32_t cp : unicode::DecodeUtf8(token.text)) {
    const int byte = unicode::BpeCharToByte(cp);
    if (byte >= 0) {
      bytes.push_back(static_cast<char>(byte));
    } else {
      // Not a byte stand-in: llama.cpp writes a marker with the code point's UTF-8 and the token.
      std::string utf8;
      unicode::AppendUtf8(cp, utf8);
      bytes += "[UNK_BYTE_0x";
      for (char c : utf8) bytes += fmt::format("{:02x}", static_cast<uint8_t>(c));
      bytes += token.text + "]";
    }
  }
  return bytes;
}

namespace {

// llama.cpp's clean_up_tokenization_spaces: " ." " ," " !" " ?" lose their space, a lone " ' "
// loses both, and " 's", " 'm", " 're", " 've" lose theirs.
std::string CleanSpaces(std::string text) {
  if (text.empty()) return text;
  size_t total = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    text[total++] = x;
  }
  text.resize(total);

  total = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (x == '\'' && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
      --total;
      text[++i] = '\0';
    }
    text[total++] = x;
  }
  text.resize(total);

  total = 1;
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && x == '\'' && i + 1 < text.size()) {
      const char x1 = text[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < text.size()) {
        const char x2 = text[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    text[total++] = x;
  }
  text.resize(total);
  return text;
}

}  // namespace

std::string TokenizerImpl::Decode(std::span<const int32_t> ids) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = TokenToPiece(ids[i], /*special=*/false);
    // The space SentencePiece put before the text is dropped again (only ever from the first piece).
    if (i == 0 && add_space_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    text += piece;
  }
  return clean_spaces ? CleanSpaces(std::move(text)) : text;
}

Result<Tokenizer> Tokenizer::FromGguf(const GgufMetadata& metadata) {
  QL_ASSIGN_OR_RETURN(std::shared_ptr<TokenizerImpl> impl, Load(metadata));
  return Tokenizer(std::move(impl));
}

Result<Tokenizer> Tokenizer::FromFile(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.error();
  auto tokenizer = FromGguf(file->metadata());
  if (!tokenizer.ok()) return tokenizer.error().Wrap(path);
  return tokenizer;
}

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special, bool parse_special) const {
  return impl_->Encode(text, add_special, parse_special);
}
std::string Tokenizer::TokenToPiece(int32_t id, bool special) const {
  return impl_->TokenToPiece(id, special);
}
std::string Tokenizer::Decode(std::span<const int32_t> ids) const { return impl_->Decode(ids); }

const std::string& Tokenizer::TokenText(int32_t id) const {
  static const std::string kEmpty;
  return impl_->Valid(id) ? impl_->tokens[id].text : kEmpty;
}
TokenType Tokenizer::GetTokenType(int32_t id) const {
  return impl_->Valid(id) ? impl_->tokens[id].type : TokenType::kUndefined;
}
float Tokenizer::TokenScore(int32_t id) const { return impl_->Valid(id) ? impl_->tokens[id].score : 0.0f; }
TokenizerKind Tokenizer::kind() const { return impl_->kind; }
int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->tokens.size()); }
int32_t Tokenizer::bos() const { return impl_->bos_id; }
int32_t Tokenizer::eos() const { return impl_->eos_id; }
int32_t Tokenizer::unk() const { return impl_->unk_id; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
bool Tokenizer::IsEog(int32_t id) const { return id >= 0 && impl_->eog_ids.count(id) > 0; }

}  // namespace quantlab
