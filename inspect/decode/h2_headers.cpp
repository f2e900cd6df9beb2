// HTTP/2 header fields of one direction (h2_flow.hpp): each decoded field is emitted as its own
// decoded stream, checked against RFC 9113 §8.2-§8.3 (malformed messages are how HTTP/2 to
// HTTP/1.1 downgrades get smuggled), :path is percent-decoded and scanned like an HTTP/1.x
// request target, and content-encoding / content-type / content-length set up the body.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "inspect/decode/h2_flow.hpp"

namespace dc::inspect::decoding {

namespace {

constexpr uint8_t kMethod = 1, kScheme = 2, kPathBit = 4, kAuthority = 8, kProtocol = 16,
                  kStatus = 32;

std::span<const uint8_t> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <std::size_t N, typename Len>
void copy_to(char (&dst)[N], Len& len, std::string_view v) noexcept {
  const std::size_t n = std::min(v.size(), N);
  std::memcpy(dst, v.data(), n);
  len = static_cast<Len>(n);
}

bool valid_name(std::string_view n) noexcept {
  if (n.empty()) return false;
  for (std::size_t i = n[0] == ':' ? 1 : 0; i < n.size(); ++i) {
    const auto c = static_cast<uint8_t>(n[i]);
    // §8.2.1: lowercase only; no CTL, SP, DEL, non-ASCII or ':' after the first byte.
    if ((c >= 'A' && c <= 'Z') || c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return n.size() > 1 || n[0] != ':';
}

bool valid_value(std::string_view v) noexcept {
  if (v.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) return false;
  return v.empty() ||
         (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' && v.back() != '\t');
}

uint8_t pseudo_bit(std::string_view n) noexcept {
  if (n == ":method") return kMethod;
  if (n == ":scheme") return kScheme;
  if (n == ":path") return kPathBit;
  if (n == ":authority") return kAuthority;
  if (n == ":protocol") return kProtocol;  // RFC 8441 extended CONNECT
  if (n == ":status") return kStatus;
  return 0;
}

}  // namespace

void H2Direction::field_hop(void* ctx, std::span<const uint8_t> n,
                            std::span<const uint8_t> v) noexcept {
  static_cast<H2Direction*>(ctx)->field({reinterpret_cast<const char*>(n.data()), n.size()},
                                        {reinterpret_cast<const char*>(v.data()), v.size()});
}

LayerKind H2Direction::field_layer() const noexcept {
  return block_.request ? LayerKind::kH2RequestHeaders : LayerKind::kH2ResponseHeaders;
}

void H2Direction::field(std::string_view name, std::string_view value) noexcept {
  if (dead_ || !block_.active) return;
  emit_field(name, value);
  if (!valid_name(name) || !valid_value(value)) on_anomaly(HttpAnomaly::kH2MalformedHeaders);
  if (!name.empty() && name[0] == ':') return pseudo_field(name, value);
  regular_field(name, value);
}

// One decoded stream per field, so values of different fields never join.
void H2Direction::emit_field(std::string_view name, std::string_view value) noexcept {
  const Path p = Path{}.child(field_layer(), block_.stream);
  if (!name.empty()) sink_->on_data(p, as_bytes(name));
  sink_->on_data(p, as_bytes(": "));
  if (!value.empty()) sink_->on_data(p, as_bytes(value));
  sink_->on_end(p);
}

void H2Direction::pseudo_field(std::string_view name, std::string_view value) noexcept {
  Block& k = block_;
  const uint8_t bit = pseudo_bit(name);
  const bool fits = k.request ? (bit != 0 && bit != kStatus) : bit == kStatus;
  // §8.3: pseudo-header fields come first, once each, only those of the message kind.
  if (k.regular_seen || k.trailers || !fits || (k.pseudo & bit)) {
    on_anomaly(HttpAnomaly::kH2MalformedHeaders);
  }
  k.pseudo |= bit;
  switch (bit) {
    case kMethod:
      return copy_to(k.rec.method, k.rec.method_len, value);
    case kAuthority:
      return copy_to(k.rec.authority, k.rec.authority_len, value);
    case kPathBit:
      copy_to(k.rec.path, k.rec.path_len, value);
      return scan_path(value);
    case kStatus:
      if (value.size() != 3 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        on_anomaly(HttpAnomaly::kH2MalformedHeaders);
        return;
      }
      k.status =
          static_cast<uint16_t>((value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0'));
      return;
    default:
      return;
  }
}

void H2Direction::regular_field(std::string_view name, std::string_view value) noexcept {
  Block& k = block_;
  k.regular_seen = true;
  // §8.2.2: connection-specific fields make a message malformed (TE only as "trailers").
  if (name == "connection" || name == "proxy-connection" || name == "keep-alive" ||
      name == "transfer-encoding" || name == "upgrade" || (name == "te" && value != "trailers")) {
    on_anomaly(HttpAnomaly::kH2MalformedHeaders);
  }
  if (name == "host" && k.rec.authority_len == 0)
    copy_to(k.rec.authority, k.rec.authority_len, value);
  if (k.trailers) return;  // trailer fields never change how the body is read
  if (name == "content-length") {
    uint64_t v = 0;
    const bool digits =
        !value.empty() && value.size() <= 18 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    for (const char c : value) v = digits ? v * 10 + static_cast<uint64_t>(c - '0') : 0;
    if (!digits || (k.has_cl && v != k.content_length)) {
      on_anomaly(HttpAnomaly::kH2MalformedHeaders);
      return;
    }
    k.has_cl = true;
    k.content_length = v;
  } else if (name == "content-encoding") {
    std::size_t i = 0;
    while (i < value.size()) {  // a list of codings in the order they were applied
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
      const std::size_t b = i;
      while (i < value.size() && value[i] != ',' && value[i] != ' ' && value[i] != '\t') ++i;
      if (i == b) continue;
      Coding c = coding_from_token(value.data() + b, i - b);
      if (c == Coding::kIdentity) continue;
      if (c == Coding::kChunked) c = Coding::kUnknown;  // not a content coding
      if (k.n_codings < kMaxCodings) {
        k.codings[k.n_codings++] = c;
      } else {
        k.too_many = true;
      }
    }
  } else if (name == "content-type") {
    content_from_type(value.data(), value.size(), k.spec);
  }
}

// :path, percent-decoded (query '+' as space) with its base64 runs, like http.request.target.
void H2Direction::scan_path(std::string_view value) noexcept {
  struct Ctx {
    H2Direction* self;
    Path target, run;
  } c{this, Path{}.child(LayerKind::kH2RequestPath, block_.stream), {}};
  c.run = c.target.child(LayerKind::kBase64Run);
  const ByteOut to_run{&c, [](void* p, std::span<const uint8_t> d) noexcept {
                         auto* x = static_cast<Ctx*>(p);
                         x->self->sink_->on_data(x->run, d);
                       }};
  const ByteOut to_target{&c, [](void* p, std::span<const uint8_t> d) noexcept {
                            auto* x = static_cast<Ctx*>(p);
                            x->self->sink_->on_data(x->target, d);
                            x->self->run_.feed(
                                d, ByteOut{x, [](void* q, std::span<const uint8_t> e) noexcept {
                                             auto* y = static_cast<Ctx*>(q);
                                             y->self->sink_->on_data(y->run, e);
                                           }});
                          }};
  percent_.begin(PercentDecoder::Mode::kTarget);
  run_.begin();
  percent_.feed(as_bytes(value), to_target);
  percent_.finish(to_target);
  run_.finish(to_run);
  sink_->on_end(c.run);
  sink_->on_end(c.target);
}

// §8.3.1 / §8.3.2: the pseudo-header fields a request or a response must carry.
void H2Direction::check_required() noexcept {
  const Block& k = block_;
  bool ok = true;
  if (k.trailers) {
    ok = k.end_stream;  // §8.1: trailers end the stream
  } else if (!k.request) {
    ok = (k.pseudo & kStatus) != 0;
  } else if ((k.pseudo & kMethod) == 0) {
    ok = false;
  } else if (k.rec.method_view() == "CONNECT" && (k.pseudo & kProtocol) == 0) {
    ok = (k.pseudo & kAuthority) && !(k.pseudo & (kScheme | kPathBit));
  } else {
    ok = (k.pseudo & kScheme) && (k.pseudo & kPathBit) && k.rec.path_len > 0;
  }
  if (!ok) on_anomaly(HttpAnomaly::kH2MalformedHeaders);
}

void H2Direction::block_end() noexcept {
  Block& k = block_;
  k.active = false;
  check_required();
  if (k.request && !k.trailers && !k.push) {
    sink_->on_request(k.stream, {k.rec.method, k.rec.method_len},
                      {k.rec.authority, k.rec.authority_len}, {k.rec.path, k.rec.path_len});
    conn_->record(k.rec);
  }
  if (k.trailers) {
    if (Body* b = body_of(k.stream); b != nullptr && k.end_stream) end_body(*b, true);
    return;
  }
  if (k.push || (!k.request && k.status >= 100 && k.status < 200)) return;  // no body here
  if (k.end_stream) {
    // §8.1.1: a response without content (to HEAD, a 304) may still state a content-length.
    if (k.request && k.has_cl && k.content_length > 0) {
      on_anomaly(HttpAnomaly::kH2ContentLengthMismatch);
    }
    return;
  }
  open_body();
}

}  // namespace dc::inspect::decoding
