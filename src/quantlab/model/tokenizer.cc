// Cutting special tokens out of the input, dispatching to the encoder (spm_tokenizer.cc,
// bpe_tokenizer.cc), and turning ids back into text. Loading is in tokenizer_load.cc.
#include "quantlab/model/tokenizer.h"

#include "quantlab/gguf/reader.h"
#include "quantlab/model/tokenizer_impl.h"
#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

constexpr std::string_view kSpaceEscape = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

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
  QL_ASSIGN_OR_RETURN(std::shared_ptr<TokenizerImpl> impl, LoadTokenizerImpl(metadata));
  return Tokenizer(std::move(impl));
}

Result<Tokenizer> Tokenizer::FromFile(const std::string& path) {
  QL_ASSIGN_OR_RETURN(const GgufFile file, GgufFile::Open(path));
  QL_ASSIGN_OR_RETURN_CTX(Tokenizer tokenizer, FromGguf(file.metadata()), "{}", path);
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
