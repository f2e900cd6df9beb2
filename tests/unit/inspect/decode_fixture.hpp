#pragma once
// Shared helpers of the inspect/decode tests: a sink that records what the decoder reports, the
// encoders that make test bodies (zlib, libbrotlienc), and feeding a stream split at an offset.
#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "inspect/decode/events.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/decode/worker.hpp"

namespace dc::inspect::decoding::testing {

inline std::string path_str(const Path& p) {
  char buf[256];
  p.format(buf, sizeof buf);
  return buf;
}

// Records everything; data per path is concatenated, "|" marks each on_end of that path.
struct RecordSink : DecodeSink {
  std::map<std::string, std::string> data;
  std::vector<std::string> events;  // anomalies, conditions and ends, in order
  void on_data(const Path& where, std::span<const uint8_t> b) noexcept override {
    data[path_str(where)].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void on_end(const Path& where) noexcept override {
    data[path_str(where)] += "|";
    events.push_back("end " + path_str(where));
  }
  void on_anomaly(HttpAnomaly a) noexcept override {
    events.push_back(std::string("anomaly ") + http_anomaly_name(a));
  }
  void on_condition(DecodeCondition c, const Path& where) noexcept override {
    events.push_back(std::string("condition ") + decode_condition_name(c) + " @ " +
                     path_str(where));
  }
  bool has(const std::string& event) const {
    for (const auto& e : events)
      if (e == event) return true;
    return false;
  }
  std::string at(const std::string& path) const {
    auto it = data.find(path);
    return it == data.end() ? std::string() : it->second;
  }
  bool operator==(const RecordSink& o) const { return data == o.data && events == o.events; }
};

inline std::unique_ptr<DecodeWorker> worker(DecodeLimits lim = {}) {
  lim.arena_bytes = std::min<std::size_t>(lim.arena_bytes, 64u << 20);
  auto w = DecodeWorker::create(lim);
  EXPECT_TRUE(w.has_value());
  return std::move(w.value());
}

inline std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Client bytes, then server bytes, each cut at the given offsets (npos: whole); then both FINs.
inline RecordSink run_flow(const std::string& client, const std::string& server, DecodeWorker& w,
                           std::size_t client_cut = std::string::npos,
                           std::size_t server_cut = std::string::npos) {
  RecordSink sink;
  auto flow = std::make_unique<HttpFlowDecoder>();
  auto feed = [&](FlowSide side, const std::string& s, std::size_t cut) {
    cut = std::min(cut, s.size());
    flow->feed(side, bytes(s.substr(0, cut)), w, sink);
    flow->feed(side, bytes(s.substr(cut)), w, sink);
  };
  feed(FlowSide::kClient, client, client_cut);
  feed(FlowSide::kServer, server, server_cut);
  flow->finish(FlowSide::kClient, w, sink);
  flow->finish(FlowSide::kServer, w, sink);
  return sink;
}

// Byte by byte (the most extreme split).
inline RecordSink run_flow_bytewise(const std::string& client, const std::string& server,
                                    DecodeWorker& w) {
  RecordSink sink;
  auto flow = std::make_unique<HttpFlowDecoder>();
  for (char c : client) flow->feed(FlowSide::kClient, bytes(std::string(1, c)), w, sink);
  for (char c : server) flow->feed(FlowSide::kServer, bytes(std::string(1, c)), w, sink);
  flow->finish(FlowSide::kClient, w, sink);
  flow->finish(FlowSide::kServer, w, sink);
  return sink;
}

// window_bits: 31 gzip, 15 zlib, -15 raw deflate.
inline std::string deflate_with(const std::string& in, int window_bits, int level = 6) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
inline std::string gzip(const std::string& in) { return deflate_with(in, 31); }
inline std::string zlib(const std::string& in) { return deflate_with(in, 15); }
inline std::string raw_deflate(const std::string& in) { return deflate_with(in, -15); }

inline std::string brotli(const std::string& in, int lgwin = 22) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  size_t n = out.size();
  EXPECT_TRUE(BrotliEncoderCompress(5, lgwin, BROTLI_MODE_GENERIC, in.size(),
                                    reinterpret_cast<const uint8_t*>(in.data()), &n,
                                    reinterpret_cast<uint8_t*>(out.data())));
  out.resize(n);
  return out;
}

inline std::string chunk(const std::string& body, std::size_t piece) {
  std::string out;
  char hex[32];
  for (std::size_t i = 0; i < body.size(); i += piece) {
    const std::string p = body.substr(i, piece);
    std::snprintf(hex, sizeof hex, "%zx\r\n", p.size());
    out += hex + p + "\r\n";
  }
  return out + "0\r\n\r\n";
}

inline std::string base64(const std::string& in, bool url = false) {
  const char* a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(v >> k) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += a[(v >> 18) & 63], out += a[(v >> 12) & 63], out += url ? "" : "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += a[(v >> 18) & 63], out += a[(v >> 12) & 63], out += a[(v >> 6) & 63];
    out += url ? "" : "=";
  }
  return out;
}

// The valid PRC resident IDs of tests/data/test-vectors.txt ("(True, 'ok')" rows).
inline std::vector<std::string> valid_resident_ids() {
  std::vector<std::string> ids;
  FILE* f = std::fopen(DC_SOURCE_DIR "/tests/data/test-vectors.txt", "r");
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return ids;
  char line[512];
  bool in_section = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    if (s.rfind("===", 0) == 0) {
      in_section = s.find("PRC resident ID") != std::string::npos;
      continue;
    }
    if (in_section && s.find("(True, 'ok')") != std::string::npos) ids.push_back(s.substr(0, 18));
  }
  std::fclose(f);
  return ids;
}

}  // namespace dc::inspect::decoding::testing
