#pragma once
// The decoding layer's per-flow object: both directions of one TCP connection's HTTP/1.x
// exchange, paired so that responses are framed by their request's method. The pipeline keeps
// one per inspected flow (fixed size, in its per-flow context pool), feeds each direction's
// in-order bytes after the Reorderer, and calls finish() at that direction's FIN and release()
// when the flow ends. Worker-owned; noexcept; no allocation (codec memory from the worker's
// DecoderArena, returned at the end of each body).
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/decode/events.hpp"
#include "inspect/decode/http_message.hpp"
#include "inspect/decode/worker.hpp"

namespace dc::inspect::decoding {

enum class FlowSide : uint8_t { kClient, kServer };  // client = the side that sent requests

class HttpFlowDecoder {
 public:
  HttpFlowDecoder() noexcept { reset(); }
  HttpFlowDecoder(const HttpFlowDecoder&) = delete;
  HttpFlowDecoder& operator=(const HttpFlowDecoder&) = delete;
  ~HttpFlowDecoder() { release(); }

  // Next in-order bytes sent by `from`. Decoded bytes, anomalies and conditions go to `sink`
  // before this returns. Cost: O(bytes) framing plus the decoders the message asks for.
  void feed(FlowSide from, std::span<const uint8_t> bytes, DecodeWorker& w,
            DecodeSink& sink) noexcept {
    dir(from).feed(bytes, pending_, w, sink);
  }
  // `from` closed its stream: a body delimited by the close ends; an unfinished message is
  // kTruncatedMessage.
  void finish(FlowSide from, DecodeWorker& w, DecodeSink& sink) noexcept {
    dir(from).finish(pending_, w, sink);
  }
  // Returns all codec memory; the object can be reused for another flow after reset().
  void release() noexcept {
    request_.release();
    response_.release();
  }
  void reset() noexcept {
    release();
    request_.init(true);
    response_.init(false);
    pending_ = PendingRequests{};
  }
  const MessageDecoder& side(FlowSide s) const noexcept {
    return s == FlowSide::kClient ? request_ : response_;
  }

 private:
  MessageDecoder& dir(FlowSide s) noexcept { return s == FlowSide::kClient ? request_ : response_; }
  MessageDecoder request_;
  MessageDecoder response_;
  PendingRequests pending_;
};

}  // namespace dc::inspect::decoding
