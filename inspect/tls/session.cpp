// Session: record framing over the two TCP streams and the per-direction record dispatch.
// The key schedule (which key protects which record, when keys change) is in session_keys.cpp.
#include "inspect/tls/session.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace dc::inspect::tls {
namespace {

constexpr uint8_t kCcs = 20, kAlert = 21, kHandshake = 22, kAppData = 23, kHeartbeat = 24;
constexpr std::size_t kMaxPlain = 16384;              // RFC 8446 §5.1, RFC 5246 §6.2.1
constexpr std::size_t kMaxProtected13 = 16384 + 256;  // RFC 8446 §5.2

uint32_t record_len(const std::array<uint8_t, 5>& h) noexcept { return uint32_t(h[3]) << 8 | h[4]; }

}  // namespace

const char* condition_name(Condition c) noexcept {
  switch (c) {
    case Condition::kNone:
      return "none";
    case Condition::kNoKey:
      return "no_key";
    case Condition::kAuthFailure:
      return "auth_failure";
    case Condition::kUnsupportedVersion:
      return "unsupported_version";
    case Condition::kUnsupportedSuite:
      return "unsupported_suite";
    case Condition::kUnsupportedFeature:
      return "unsupported_feature";
    case Condition::kMalformedRecord:
      return "malformed_record";
    case Condition::kMalformedHandshake:
      return "malformed_handshake";
  }
  return "?";
}

const char* phase_name(Phase p) noexcept {
  switch (p) {
    case Phase::kPlain:
      return "plain";
    case Phase::kHandshake:
      return "handshake";
    case Phase::kApplication:
      return "application";
    case Phase::kClosed:
      return "closed";
    case Phase::kStopped:
      return "stopped";
  }
  return "?";
}

Condition Session::feed(Direction d, std::span<const uint8_t> bytes, PlaintextSink& sink) noexcept {
  sink_ = &sink;
  Dir& s = dir(d);
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (s.blocked || s.phase == Phase::kClosed || s.phase == Phase::kStopped) {
      counters_.ignored_bytes += bytes.size() - i;
      break;
    }
    i += consume(d, bytes.data() + i, bytes.size() - i);
  }
  sink_ = nullptr;
  return s.condition;
}

// Frames one record (RFC 5246 §6.2.1, RFC 8446 §5.1). A record wholly inside the input is
// opened straight from it; a protected one that straddles feeds is decrypted as it arrives
// (stream_body); any other is collected in the body buffer.
std::size_t Session::consume(Direction d, const uint8_t* p, std::size_t n) noexcept {
  Dir& s = dir(d);
  std::size_t k = 0;
  if (s.hdr_have < 5) {
    if (s.hdr_have == 0) s.rec_start = s.offset;
    k = std::min<std::size_t>(5 - s.hdr_have, n);
    std::memcpy(s.hdr.data() + s.hdr_have, p, k);
    s.hdr_have = uint8_t(s.hdr_have + k);
    s.offset += k;
    if (s.hdr_have < 5 || !on_header(d)) return k;
    const uint32_t len = record_len(s.hdr);
    if (n - k >= len) {
      s.offset += len;
      on_record(d, p + k, len);
      return k + len;
    }
    if (needs_key(d, s.hdr[0]) && !begin_stream(d)) return k;
  }
  if (s.streaming) return k + stream_body(d, p + k, n - k);
  const uint32_t len = record_len(s.hdr);
  const std::size_t take = std::min<std::size_t>(len - s.body_have, n - k);
  std::memcpy(s.body.data() + s.body_have, p + k, take);
  s.body_have += uint32_t(take);
  s.offset += take;
  if (s.body_have == len) on_record(d, s.body.data(), len);
  return k + take;
}

// Starts decrypting a protected record whose body arrives in pieces. TLS 1.2 GCM starts once
// its 8-byte explicit nonce is in (stream_body).
bool Session::begin_stream(Direction d) noexcept {
  Dir& s = dir(d);
  s.streaming = true;
  const uint32_t len = record_len(s.hdr);
  bool ok = true;
  if (version_ == 0x0304) {
    ok = s.cipher.begin13(s.hdr.data());
  } else if (s.cipher.explicit_len() == 0) {
    ok = s.cipher.begin12(s.hdr.data(), nullptr, len - kTagLen);
  }
  if (!ok) stop(d, Condition::kMalformedRecord);
  return ok;
}

// Body layout: [explicit nonce (1.2 GCM)] [ciphertext -> decrypted in place] [tag (16)].
std::size_t Session::stream_body(Direction d, const uint8_t* p, std::size_t n) noexcept {
  Dir& s = dir(d);
  const uint32_t len = record_len(s.hdr);
  const uint32_t ex = version_ == 0x0304 ? 0 : s.cipher.explicit_len();
  const uint32_t ct_end = len - uint32_t(kTagLen);
  const std::size_t take = std::min<std::size_t>(len - s.body_have, n);
  for (std::size_t i = 0; i < take;) {
    const uint32_t pos = s.body_have;
    const uint32_t stop_at = pos < ex ? ex : pos < ct_end ? ct_end : len;
    const std::size_t c = std::min<std::size_t>(stop_at - pos, take - i);
    uint8_t* out = s.body.data() + pos;
    if (pos >= ex && pos < ct_end) {
      if (!s.cipher.update(p + i, c, out)) return stop(d, Condition::kMalformedRecord), take;
    } else {
      std::memcpy(out, p + i, c);
    }
    s.body_have += uint32_t(c);
    i += c;
    if (ex != 0 && pos < ex && s.body_have == ex &&
        !s.cipher.begin12(s.hdr.data(), s.body.data(), ct_end - ex)) {
      return stop(d, Condition::kMalformedRecord), take;
    }
  }
  s.offset += take;
  if (s.body_have == len) finish_stream(d);
  return take;
}

void Session::finish_stream(Direction d) noexcept {
  Dir& s = dir(d);
  const uint32_t len = record_len(s.hdr);
  const uint32_t ex = version_ == 0x0304 ? 0 : s.cipher.explicit_len();
  const uint32_t ct_end = len - uint32_t(kTagLen);
  s.streaming = false;
  s.hdr_have = 0;
  s.body_have = 0;
  ++counters_.records;
  uint8_t* plain = s.body.data() + ex;
  uint8_t type = s.hdr[0];
  std::size_t n = ct_end - ex;
  OpenStatus st =
      s.cipher.finish(s.body.data() + ct_end) ? OpenStatus::kOk : OpenStatus::kAuthFailure;
  if (st == OpenStatus::kOk && version_ == 0x0304) st = RecordCipher::inner13(plain, n, &type, &n);
  opened(d, st, type, plain, n);
  if (s.phase != Phase::kStopped && s.phase != Phase::kClosed) after_record(d);
}

// Validates a record header before its body is buffered (RFC 8446 §5.1-5.2, RFC 5246 §6.2):
// a bad one means the stream is not TLS or lost sync; there is no resynchronisation.
bool Session::on_header(Direction d) noexcept {
  Dir& s = dir(d);
  const uint8_t type = s.hdr[0];
  const uint32_t len = record_len(s.hdr);
  const bool prot = needs_key(d, type);
  const std::size_t limit =
      !prot ? kMaxPlain : (version_ == 0x0304 ? kMaxProtected13 : kMaxRecordBody);
  // A protected record holds at least its explicit nonce, a tag and (1.3) the inner type.
  const std::size_t min_len =
      !prot ? 1 : kTagLen + (version_ == 0x0304 ? 1 : s.cipher.explicit_len());
  if (type < kCcs || type > kHeartbeat || s.hdr[1] != 3 || len < min_len || len > limit) {
    stop(d, Condition::kMalformedRecord);
    return false;
  }
  if (prot && !s.cipher.ready()) {
    block(d);
    return false;
  }
  return true;
}

bool Session::needs_key(Direction d, uint8_t type) const noexcept {
  const Phase p = dir(d).phase;
  if (p != Phase::kHandshake && p != Phase::kApplication) return false;
  if (version_ == 0x0304) return type == kAppData;
  return type == kAlert || type == kHandshake || type == kAppData;
}

void Session::on_record(Direction d, const uint8_t* body, std::size_t len) noexcept {
  Dir& s = dir(d);
  s.hdr_have = 0;
  s.body_have = 0;
  ++counters_.records;
  const uint8_t type = s.hdr[0];
  if (needs_key(d, type)) {
    on_protected_record(d, body, len);
  } else if (type == kCcs) {
    // TLS 1.2: the sender's keys start with its next record (RFC 5246 §7.1). TLS 1.3: a
    // middlebox-compatibility record to drop, allowed only before Finished (RFC 8446 §5, §D.4).
    if (len != 1 || body[0] != 1) return stop(d, Condition::kMalformedRecord);
    if (version_ == 0x0303 && s.phase == Phase::kPlain) {
      enter_phase(d, Phase::kApplication);
    } else if (version_ == 0x0303) {
      return stop(d, Condition::kUnsupportedFeature);  // renegotiation
    } else if (s.phase == Phase::kApplication) {
      return stop(d, Condition::kMalformedRecord);
    } else {
      ++counters_.ccs_dropped;
    }
  } else if (type == kAlert) {
    s.phase = Phase::kClosed;  // a plaintext alert ends the handshake (RFC 8446 §6)
  } else if (type == kHandshake && s.phase == Phase::kPlain) {
    on_plain_record(d, body, len);
  } else if (type == kAppData && s.phase == Phase::kPlain && d == Direction::kClientToServer &&
             !have_server_hello_) {
    return stop(d, Condition::kUnsupportedFeature);  // 0-RTT early data (RFC 8446 §2.3)
  } else if (type == kHeartbeat) {
    return stop(d, Condition::kUnsupportedFeature);
  } else {
    return stop(d, Condition::kMalformedRecord);
  }
  if (s.phase != Phase::kStopped && s.phase != Phase::kClosed) after_record(d);
}

void Session::on_plain_record(Direction d, const uint8_t* body, std::size_t len) noexcept {
  dir(d).hs.feed({body, len},
                 [&](const HandshakeMessage& m) { return on_handshake_message(d, m); });
}

void Session::on_protected_record(Direction d, const uint8_t* body, std::size_t len) noexcept {
  Dir& s = dir(d);
  uint8_t* out = s.body.data();  // may be `body` itself: EVP decrypts in place
  OpenStatus st;
  uint8_t type = s.hdr[0];
  const uint8_t* data = out;
  std::size_t n = 0;
  if (version_ == 0x0304) {
    st = s.cipher.open13(s.hdr.data(), body, len, out, &type, &n);
  } else {
    st = s.cipher.open12(s.hdr.data(), body, len, out, &data, &n);
  }
  opened(d, st, type, data, n);
}

void Session::opened(Direction d, OpenStatus st, uint8_t type, const uint8_t* data,
                     std::size_t n) noexcept {
  if (st == OpenStatus::kAuthFailure) return stop(d, Condition::kAuthFailure);
  if (st != OpenStatus::kOk) return stop(d, Condition::kMalformedRecord);
  ++counters_.decrypted;
  on_content(d, type, data, n);
}

// The content of an authenticated record (RFC 8446 §5.4 inner type; RFC 5246 §6.2.3.3).
void Session::on_content(Direction d, uint8_t type, const uint8_t* data, std::size_t n) noexcept {
  Dir& s = dir(d);
  if (n > kMaxPlain) return stop(d, Condition::kMalformedRecord);  // record_overflow
  switch (type) {
    case kAppData:
      if (s.phase != Phase::kApplication) return stop(d, Condition::kMalformedRecord);
      if (n > 0) {
        counters_.plaintext_bytes += n;
        sink_->on_plaintext(d, {data, n});
      }
      return;
    case kHandshake:
      if (n == 0) return stop(d, Condition::kMalformedRecord);
      s.hs.feed({data, n}, [&](const HandshakeMessage& m) { return on_handshake_message(d, m); });
      return;
    case kAlert:
      if (n != 2) return stop(d, Condition::kMalformedRecord);
      // close_notify or any fatal alert ends the direction (RFC 8446 §6.1-6.2, RFC 5246 §7.2).
      if (data[0] == 2 || data[1] == 0) s.phase = Phase::kClosed;
      return;
    default:
      return stop(d, Condition::kMalformedRecord);
  }
}

void Session::stop(Direction d, Condition c) noexcept {
  Dir& s = dir(d);
  s.phase = Phase::kStopped;
  s.condition = c;
  s.blocked = false;
}

// Waits for keys at the start of the current record: the caller re-feeds from next_offset().
void Session::block(Direction d) noexcept {
  Dir& s = dir(d);
  s.blocked = true;
  s.condition = Condition::kNoKey;
  s.offset = s.rec_start;
  s.hdr_have = 0;
  s.body_have = 0;
}

void Session::reset() noexcept {
  const bool sensitive = keys_.present != 0;
  for (Dir& s : dirs_) {
    s.cipher.reset();
    s.hs.reset();
    OPENSSL_cleanse(s.app_secret.data(), s.app_secret.size());
    if (sensitive) OPENSSL_cleanse(s.body.data(), s.body.size());  // decrypted plaintext
    s.hdr_have = 0;
    s.body_have = 0;
    s.offset = s.rec_start = 0;
    s.phase = Phase::kPlain;
    s.condition = Condition::kNone;
    s.blocked = s.update_pending = s.streaming = false;
    s.generation = 0;
    s.key_slot = -1;
  }
  keys_.wipe();
  hello_ = {};
  server_ = {};
  suite_ = nullptr;
  version_ = 0;
  have_client_hello_ = have_server_hello_ = false;
  counters_ = {};
}

}  // namespace dc::inspect::tls
