// One HTTP body's decoding chain: codings, content decoder, base64 runs, limits (body.hpp).
#include "inspect/decode/body.hpp"

#include <algorithm>
#include <cstring>

namespace dc::inspect::decoding {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool equal_ci(const char* s, std::size_t n, const char* want) noexcept {
  if (std::strlen(want) != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (lower(s[i]) != want[i]) return false;
  }
  return true;
}

}  // namespace

void content_from_type(const char* v, std::size_t n, BodySpec& spec) noexcept {
  std::size_t end = 0;  // media type = up to ';' or whitespace
  while (end < n && v[end] != ';' && v[end] != ' ' && v[end] != '\t') ++end;
  const char* slash = static_cast<const char*>(std::memchr(v, '/', end));
  if (slash == nullptr) return;
  const auto type_len = static_cast<std::size_t>(slash - v);
  const char* sub = slash + 1;
  const std::size_t sub_len = end - type_len - 1;
  if (equal_ci(v, type_len, "multipart")) {
    spec.boundary_len = static_cast<uint8_t>(multipart_boundary(v, n, spec.boundary));
    spec.content = ContentKind::kMultipart;
  } else if (equal_ci(v, end, "application/x-www-form-urlencoded")) {
    spec.content = ContentKind::kForm;
  } else if (equal_ci(sub, sub_len, "json") ||
             (sub_len > 5 && equal_ci(sub + sub_len - 5, 5, "+json"))) {
    spec.content = ContentKind::kJson;  // application/json, text/json, application/*+json
  }
}

void BodyDecoder::begin(const BodySpec& spec, DecodeWorker& w, DecodeSink& sink,
                        DirOutput& dir_output) noexcept {
  release();
  sink_ = &sink;
  worker_ = &w;
  dir_output_ = &dir_output;
  for (auto& o : out_bytes_) o = 0;
  stopped_at_ = kNotStopped;
  trailing_reported_ = false;
  chunked_ = spec.chunked;
  active_ = true;
  path_[0] = Path{}.in_lane(spec.lane).child(spec.root, spec.root_index());
  n_codings_ = spec.n_codings;
  for (uint8_t i = 0; i < n_codings_; ++i) {
    codecs_[i].begin(spec.codings[i], &w.arena(), w.limits().decoder_memory);
    hops_[i] = Hop{this, i};
    path_[i + 1] = path_[i].child(coding_layer(spec.codings[i]));
  }
  const Path& top = path_[n_codings_];
  content_ = spec.content;
  // The codings before an unknown one (or before the kMaxCodings limit) are still decoded.
  if (spec.too_many_codings) stop(n_codings_, DecodeCondition::kTooManyCodings, top);
  if (spec.unknown_coding) stop(n_codings_, DecodeCondition::kUnknownCoding, top);
  switch (content_) {
    case ContentKind::kForm:
      content_path_ = top.child(LayerKind::kForm);
      percent_.begin(PercentDecoder::Mode::kForm);
      break;
    case ContentKind::kJson:
      content_path_ = top.child(LayerKind::kJson);
      json_.begin();
      break;
    case ContentKind::kMultipart:
      content_path_ = top;
      if (spec.boundary_len == 0) {
        stop(n_codings_, DecodeCondition::kMultipartMalformed, top);
        break;
      }
      multipart_.begin(spec.boundary, spec.boundary_len);
      break;
    case ContentKind::kText:
      content_path_ = top;
      break;
  }
  run_path_ = content_path_.child(LayerKind::kBase64Run);
  run_.begin();
}

void BodyDecoder::stop(std::size_t from, DecodeCondition c, const Path& where) noexcept {
  if (stopped(from)) return;
  sink_->on_condition(c, where);
  stopped_at_ = static_cast<uint8_t>(from);
}

void BodyDecoder::feed(std::span<const uint8_t> body, DecodeWorker& w, DecodeSink& sink) noexcept {
  if (!active_ || body.empty()) return;
  sink_ = &sink;
  worker_ = &w;
  if (chunked_) sink.on_data(path_[0], body);
  stage(0, body);
  // Codec state is released here, never from inside a codec's own output callback.
  for (std::size_t i = stopped_at_; i < n_codings_; ++i) codecs_[i].end();
}

void BodyDecoder::stage(std::size_t i, std::span<const uint8_t> b) noexcept {
  if (stopped(i)) return;
  if (i == n_codings_) return content(b);
  Decompressor& c = codecs_[i];
  const CodecStatus s = c.feed(b, {worker_->buffer(i), kCodecBuffer}, ByteOut{&hops_[i], hop});
  if (s == CodecStatus::kCorrupt) {
    stop(i, DecodeCondition::kDecompressFailed, path_[i + 1]);
  } else if (s == CodecStatus::kNoMemory) {
    stop(i, DecodeCondition::kDecoderMemory, path_[i + 1]);
  } else if (s == CodecStatus::kEnd && c.trailing() > 0 && !trailing_reported_) {
    trailing_reported_ = true;  // data after the end of a compressed stream: not decoded
    sink_->on_condition(DecodeCondition::kTrailingData, path_[i + 1]);
  }
}

void BodyDecoder::hop(void* ctx, std::span<const uint8_t> b) noexcept {
  const Hop* h = static_cast<const Hop*>(ctx);
  h->self->codec_out(h->layer, b);
}

void BodyDecoder::codec_out(std::size_t i, std::span<const uint8_t> b) noexcept {
  if (stopped(i)) return;
  const DecodeLimits& lim = worker_->limits();
  const Path& where = path_[i + 1];
  uint64_t& total = dir_output_->layer[i];
  if (total + b.size() > lim.max_output) {
    // Emit exactly up to the limit (the same bytes for every split), then stop.
    b = b.first(lim.max_output > total ? lim.max_output - total : 0);
    total += b.size();
    if (!b.empty()) sink_->on_data(where, b);
    stage(i + 1, b);
    return stop(i, DecodeCondition::kOutputLimit, where);
  }
  total += b.size();
  out_bytes_[i] += b.size();
  // The ratio is a layer's output over the compressed bytes the first layer consumed so far.
  const uint64_t in = std::max<uint64_t>(codecs_[0].consumed(), 1);
  if (out_bytes_[i] > lim.ratio_floor && out_bytes_[i] / in > lim.max_ratio) {
    return stop(0, DecodeCondition::kRatioLimit, where);
  }
  sink_->on_data(where, b);
  stage(i + 1, b);
}

void BodyDecoder::content(std::span<const uint8_t> b) noexcept {
  switch (content_) {
    case ContentKind::kForm:
      return percent_.feed(b, out_to(content_hop));
    case ContentKind::kJson:
      return json_.feed(b, out_to(content_hop));
    case ContentKind::kMultipart:
      return multipart_.feed(b, *this);
    case ContentKind::kText:
      return leaf(b);
  }
}

void BodyDecoder::content_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->content_path_, b);
  self->leaf(b);
}

void BodyDecoder::leaf(std::span<const uint8_t> b) noexcept { run_.feed(b, out_to(run_hop)); }

void BodyDecoder::run_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->run_path_, b);
}

void BodyDecoder::part_begin(uint16_t index, PartEncoding enc) noexcept {
  part_path_ = path_[n_codings_].child(LayerKind::kMultipart, index);
  part_enc_ = enc;
  enc_path_ = part_path_;
  if (enc == PartEncoding::kBase64) {
    enc_path_ = part_path_.child(LayerKind::kBase64);
    base64_.begin();
  } else if (enc == PartEncoding::kQuotedPrintable) {
    enc_path_ = part_path_.child(LayerKind::kQuotedPrintable);
    qp_.begin();
  }
  run_path_ = enc_path_.child(LayerKind::kBase64Run);
  run_.begin();
}

void BodyDecoder::part_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->enc_path_, b);
  self->leaf(b);
}

void BodyDecoder::part_data(std::span<const uint8_t> bytes) noexcept {
  switch (part_enc_) {
    case PartEncoding::kBase64:
      return base64_.feed(bytes, out_to(part_hop));
    case PartEncoding::kQuotedPrintable:
      return qp_.feed(bytes, out_to(part_hop));
    case PartEncoding::kIdentity:
      return part_hop(this, bytes);
  }
}

void BodyDecoder::part_end() noexcept {
  if (part_enc_ == PartEncoding::kQuotedPrintable) qp_.finish(out_to(part_hop));
  run_.finish(out_to(run_hop));
  sink_->on_end(run_path_);
  if (!(enc_path_ == part_path_)) sink_->on_end(enc_path_);
  sink_->on_end(part_path_);
}

void BodyDecoder::finish(DecodeWorker& w, DecodeSink& sink) noexcept {
  if (!active_) return;
  sink_ = &sink;
  worker_ = &w;
  if (!stopped(n_codings_)) {
    switch (content_) {
      case ContentKind::kForm:
        percent_.finish(out_to(content_hop));
        break;
      case ContentKind::kJson:
        json_.finish(out_to(content_hop));
        if (json_.take_lone_surrogates() > 0) {
          sink.on_condition(DecodeCondition::kLoneSurrogate, content_path_);
        }
        break;
      case ContentKind::kMultipart:
        multipart_.finish(*this);
        if (multipart_.malformed()) {
          stop(n_codings_, DecodeCondition::kMultipartMalformed, content_path_);
        }
        break;
      case ContentKind::kText:
        break;
    }
    if (content_ != ContentKind::kMultipart) {
      run_.finish(out_to(run_hop));
      sink.on_end(run_path_);
    }
  }
  if (content_ == ContentKind::kForm || content_ == ContentKind::kJson) {
    sink.on_end(content_path_);
  }
  for (int i = n_codings_; i >= 0; --i) {
    if (i > 0 || chunked_) sink.on_end(path_[i]);
  }
  release();
}

void BodyDecoder::release() noexcept {
  for (auto& c : codecs_) c.end();
  active_ = false;
}

}  // namespace dc::inspect::decoding
