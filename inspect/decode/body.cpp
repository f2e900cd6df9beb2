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
  } else if (is_zip_media_type(v, n)) {
    spec.content = ContentKind::kZip;
  } else if (is_html_media_type(v, n)) {
    spec.content = ContentKind::kHtml;
  } else if (equal_ci(v, end, "application/x-www-form-urlencoded")) {
    spec.content = ContentKind::kForm;
  } else if (equal_ci(sub, sub_len, "json") ||
             (sub_len > 5 && equal_ci(sub + sub_len - 5, 5, "+json"))) {
    spec.content = ContentKind::kJson;  // application/json, text/json, application/*+json
  }
}

// ---- identical start of a content view -------------------------------------------------------

void ViewHold::begin(DecoderArena& arena) noexcept {
  drop(arena);
  buf_ = static_cast<uint8_t*>(arena.alloc(kWindow));
  len_ = pos_ = 0;
}

void ViewHold::keep(std::span<const uint8_t> b) noexcept {
  if (b.size() >= kWindow) {
    std::memcpy(buf_, b.data() + b.size() - kWindow, kWindow);
    len_ = kWindow, pos_ = 0;
    return;
  }
  const std::size_t first = std::min(b.size(), kWindow - pos_);
  std::memcpy(buf_ + pos_, b.data(), first);
  std::memcpy(buf_, b.data() + first, b.size() - first);
  pos_ = static_cast<uint16_t>((pos_ + b.size()) % kWindow);
  len_ = static_cast<uint16_t>(std::min(kWindow, len_ + b.size()));
}

void ViewHold::release_to(ByteOut out, DecoderArena& arena) noexcept {
  if (buf_ == nullptr) return;
  if (len_ == kWindow) {
    out({buf_ + pos_, kWindow - pos_});
    out({buf_, pos_});
  } else {
    out({buf_, len_});
  }
  drop(arena);
}

void ViewHold::drop(DecoderArena& arena) noexcept {
  if (buf_ != nullptr) arena.free(buf_);
  buf_ = nullptr;
}

void BodyDecoder::begin(const BodySpec& spec, DecodeWorker& w, DecodeSink& sink,
                        DirOutput& dir_output, std::string_view name) noexcept {
  release();
  sink_ = &sink;
  worker_ = &w;
  dir_output_ = &dir_output;
  for (auto& o : out_bytes_) o = 0;
  stopped_at_ = kNotStopped;
  trailing_reported_ = false;
  chunked_ = spec.chunked;
  active_ = true;
  top_ = Path{}.in_lane(spec.lane).child(spec.root, spec.root_index());
  n_codings_ = spec.n_codings;
  for (uint8_t i = 0; i < n_codings_; ++i) {
    codecs_[i].begin(spec.codings[i], &w.arena(), w.limits().decoder_memory);
    hops_[i] = Hop{this, i};
    top_ = top_.child(coding_layer(spec.codings[i]));
  }
  const Path& top = top_;
  route_ = Route::kLeaf;
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
    case ContentKind::kHtml:
      content_path_ = top.child(LayerKind::kHtml);
      html_.begin();
      break;
    case ContentKind::kText:
    case ContentKind::kZip:
      content_path_ = top;
      break;
  }
  run_path_ = content_path_.child(LayerKind::kBase64Run);
  run_.begin();
  view_open_ = false;
  clean_ = 0;
  if (viewed()) hold_.begin(w.arena());
  if (content_ == ContentKind::kText || content_ == ContentKind::kZip) {
    if (stopped(n_codings_)) return;
    route_begin(content_ == ContentKind::kZip ? Route::kZip : Route::kSniff, name);
  }
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
  if (chunked_) sink.on_data(path(0), body);
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
    stop(i, DecodeCondition::kDecompressFailed, path(i + 1));
  } else if (s == CodecStatus::kNoMemory) {
    stop(i, DecodeCondition::kDecoderMemory, path(i + 1));
  } else if (s == CodecStatus::kEnd && c.trailing() > 0 && !trailing_reported_) {
    trailing_reported_ = true;  // data after the end of a compressed stream: not decoded
    sink_->on_condition(DecodeCondition::kTrailingData, path(i + 1));
  }
}

void BodyDecoder::hop(void* ctx, std::span<const uint8_t> b) noexcept {
  const Hop* h = static_cast<const Hop*>(ctx);
  h->self->codec_out(h->layer, b);
}

void BodyDecoder::codec_out(std::size_t i, std::span<const uint8_t> b) noexcept {
  if (stopped(i)) return;
  const DecodeLimits& lim = worker_->limits();
  const Path where = path(i + 1);
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

std::size_t BodyDecoder::view_identity(std::span<const uint8_t> b) noexcept {
  switch (content_) {
    case ContentKind::kJson:
      return json_.identity_prefix(b);
    case ContentKind::kForm:
      return percent_.identity_prefix(b);
    case ContentKind::kHtml:
      return html_.identity_prefix(b);
    default:
      return 0;
  }
}

// A form, JSON or HTML view (ViewHold): identical bytes are held, and handed on only as the
// context of a change: kWindow before it (from the hold) and at least kWindow after it. A change
// is decoded kViewStep bytes at a time, so the view can end soon after it in a long input.
void BodyDecoder::view_content(std::span<const uint8_t> b) noexcept {
  while (!b.empty()) {
    const std::size_t same = view_identity(b);
    if (hold_.holding()) {
      held(b.first(same));
      if (same == b.size()) return;
      open_view();
    } else if (same > 0) {
      const std::size_t ctx = std::min(same, ViewHold::kWindow - clean_);
      to_view(b.first(ctx));
      clean_ = static_cast<uint16_t>(clean_ + ctx);
      // kWindow unchanged bytes after the last change: the rest is held (a long clean tail is
      // not scanned a second time); no arena room: the view goes on as it is.
      if (clean_ == ViewHold::kWindow) hold_.begin(worker_->arena());
      if (hold_.holding()) {
        held(b.subspan(ctx, same - ctx));
      } else {
        to_view(b.subspan(ctx, same - ctx));
      }
      if (same == b.size()) return;
      if (hold_.holding()) open_view();
    }
    clean_ = 0;
    const std::span<const uint8_t> change = b.subspan(same, std::min(b.size() - same, kViewStep));
    b = b.subspan(same + change.size());
    if (content_ == ContentKind::kForm) percent_.feed(change, out_to(content_hop));
    if (content_ == ContentKind::kJson) json_.feed(change, out_to(content_hop));
    if (content_ == ContentKind::kHtml) html_.feed(change, out_to(content_hop));
  }
}

void BodyDecoder::to_view(std::span<const uint8_t> b) noexcept {
  if (b.empty()) return;
  sink_->on_data(content_path_, b);
  leaf(b);
}

void BodyDecoder::content(std::span<const uint8_t> b) noexcept {
  if (viewed()) return view_content(b);
  if (content_ == ContentKind::kMultipart) return multipart_.feed(b, *this);
  routed(b);  // kText, kZip
}

void BodyDecoder::held(std::span<const uint8_t> b) noexcept {
  if (b.empty()) return;
  hold_.keep(b);
  leaf(b);
  if (view_open_ && hold_.full()) {
    // kWindow more unchanged bytes since the view's last: it ends here. When it opens again, the
    // kWindow bytes before that change are all after this point (no byte is scanned twice).
    view_open_ = false;
    sink_->on_end(content_path_);
  }
}

// The decoder changes a byte: the view (re)starts, or goes on, with the kept bytes before it.
void BodyDecoder::open_view() noexcept {
  view_open_ = true;
  hold_.release_to(out_to(view_hop), worker_->arena());
}

void BodyDecoder::view_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->content_path_, b);
}

void BodyDecoder::content_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->content_path_, b);
  self->leaf(b);
}

void BodyDecoder::leaf(std::span<const uint8_t> b) noexcept {
  run_.feed(b, out_to(run_hop), out_to(run2_hop));
}

void BodyDecoder::run_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->run_path_, b);
}

// A base64 run inside a decoded base64 run (decoded once more, not further).
void BodyDecoder::run2_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->run_path_.child(LayerKind::kBase64Run), b);
}

void BodyDecoder::end_runs() noexcept {
  run_.finish(out_to(run_hop), out_to(run2_hop));
  sink_->on_end(run_path_.child(LayerKind::kBase64Run));
  sink_->on_end(run_path_);
}

// ---- ZIP routing ------------------------------------------------------------------------------

void BodyDecoder::route_begin(Route r, std::string_view name) noexcept {
  route_ = r;
  sniff_len_ = 0;
  if (r == Route::kZip) start_zip(name);
}

void BodyDecoder::start_zip(std::string_view name) noexcept {
  route_ = Route::kLeaf;
  if (route_parent().depth() + 3 > Path::kMaxDepth) {
    // No path depth left for "zip > member > xml-text": too deeply nested to walk.
    sink_->on_condition(DecodeCondition::kOpaqueNested, route_parent());
    return;
  }
  route_ = Route::kZip;
  if (zip_ == nullptr) zip_ = ZipWalker::create(worker_->arena());
  if (zip_ == nullptr) {  // no arena room: the archive is not decoded (fail closed)
    route_ = Route::kLeaf;
    sink_->on_condition(DecodeCondition::kDecoderMemory, route_parent().child(LayerKind::kZip));
    return;
  }
  zip_->begin(route_parent(), name);
}

void BodyDecoder::routed(std::span<const uint8_t> b) noexcept {
  if (route_ == Route::kSniff) {
    std::size_t take = 0;
    while (sniff_len_ < 4 && take < b.size()) sniff_[sniff_len_++] = b[take++];
    if (sniff_len_ < 4) return;
    b = b.subspan(take);
    const bool zip = sniff_[0] == 'P' && sniff_[1] == 'K' && sniff_[2] == 3 && sniff_[3] == 4;
    if (zip) {
      const std::string_view name =
          content_ == ContentKind::kMultipart ? multipart_.filename() : std::string_view{};
      start_zip(name);
    } else {
      route_ = Route::kLeaf;
    }
    routed({sniff_, 4});
  }
  if (b.empty()) return;
  if (route_ == Route::kZip) {
    const ZipEnv env{*sink_, *worker_, dir_output_->zip};
    return zip_->feed(b, env);
  }
  leaf(b);
}

void BodyDecoder::route_end() noexcept {
  if (route_ == Route::kSniff) {
    route_ = Route::kLeaf;
    routed({sniff_, sniff_len_});
  }
  if (route_ == Route::kZip) {
    const ZipEnv env{*sink_, *worker_, dir_output_->zip};
    zip_->finish(env);
    ZipWalker::destroy(zip_);
    zip_ = nullptr;
  }
  route_ = Route::kLeaf;
}

// ---- multipart parts --------------------------------------------------------------------------

void BodyDecoder::part_begin(uint16_t index, const PartHead& head) noexcept {
  part_index_ = index;
  const Path part = top_.child(LayerKind::kMultipart, index);
  part_enc_ = head.enc;
  enc_path_ = part;
  if (head.enc == PartEncoding::kBase64) {
    enc_path_ = part.child(LayerKind::kBase64);
    base64_.begin();
  } else if (head.enc == PartEncoding::kQuotedPrintable) {
    enc_path_ = part.child(LayerKind::kQuotedPrintable);
    qp_.begin();
  }
  // An HTML part is decoded like an HTML body (character references), then searched for runs.
  part_html_ = head.html;
  if (part_html_) html_.begin();
  run_path_ = (part_html_ ? part_html_path() : enc_path_).child(LayerKind::kBase64Run);
  run_.begin();
  route_begin(head.zip ? Route::kZip : part_html_ ? Route::kLeaf : Route::kSniff, head.filename);
}

void BodyDecoder::part_html_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->part_html_path(), b);
  self->leaf(b);
}

void BodyDecoder::part_hop(void* ctx, std::span<const uint8_t> b) noexcept {
  auto* self = static_cast<BodyDecoder*>(ctx);
  self->sink_->on_data(self->enc_path_, b);
  if (self->part_html_) return self->html_.feed(b, self->out_to(part_html_hop));
  self->routed(b);
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
  if (part_html_) html_.finish(out_to(part_html_hop));
  route_end();
  end_runs();
  if (part_html_) sink_->on_end(part_html_path());
  const Path part = top_.child(LayerKind::kMultipart, part_index_);
  if (!(enc_path_ == part)) sink_->on_end(enc_path_);
  sink_->on_end(part);
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
      case ContentKind::kHtml:
        html_.finish(out_to(content_hop));
        break;
      case ContentKind::kText:
      case ContentKind::kZip:
        route_end();
        break;
    }
    if (content_ != ContentKind::kMultipart) end_runs();
  } else if (content_ != ContentKind::kMultipart) {
    end_runs();  // a coding failed after base64 runs had begun: their streams end here too
  }
  if (zip_ != nullptr) route_end();  // decoding stopped inside an archive: end its streams
  if (viewed()) sink.on_end(content_path_);
  for (int i = n_codings_; i >= 0; --i) {
    if (i > 0 || chunked_) sink.on_end(path(static_cast<std::size_t>(i)));
  }
  release();
}

void BodyDecoder::release() noexcept {
  for (auto& c : codecs_) c.end();
  if (worker_ != nullptr) hold_.drop(worker_->arena());  // an unchanged view: not handed on
  ZipWalker::destroy(zip_);                              // a body cut off by the flow's end
  zip_ = nullptr;
  route_ = Route::kLeaf;
  active_ = false;
}

}  // namespace dc::inspect::decoding
