#pragma once
// Evidence store: one classic pcap file (nanosecond timestamps, Ethernet link type) per captured
// flow, bounded in packets and bytes, bound to its audit record by SHA-256:
//   flow record "evidence": {"file": "evidence/<name>.pcap", "sha256": ..., "packets": ...}
// Files are written with libpcap (pcap_open_dead + pcap_dump_fopen) so that tcpdump, Wireshark
// and our own `replay` read them; nanosecond precision keeps packet times exact for replay. The
// capture is built in memory (open_memstream), hashed there, and written with one write loop:
// per file one open, one write, one close, and one fsync, made at once by finish() or handed to
// the audit log's group commit by finish_deferred() (audit/log_writer_sync.hpp).
//
// Threads: the audit writer thread owns the store and every FlowCapture; no locking inside.
// Ownership: the store owns the directory LOG_DIR/evidence; a FlowCapture owns its open file until
// finish(). A capture destroyed without finish() leaves a partial file that no record refers to.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "audit/record.hpp"
#include "base/result.hpp"

typedef struct pcap pcap_t;                // NOLINT: libpcap forward declarations
typedef struct pcap_dumper pcap_dumper_t;  // NOLINT

namespace dc::audit {

struct EvidenceLimits {
  std::uint32_t max_packets_per_flow = 1000;
  std::uint64_t max_bytes_per_flow = 1ull << 20;  // captured bytes (after snaplen)
  std::uint32_t snaplen = 65535;
  std::uint64_t max_total_bytes = 1ull << 30;  // whole store, this process; then "store full"
};

inline constexpr std::string_view kEvidenceDir = "evidence";

struct PcapDeleter {
  void operator()(pcap_t* p) const noexcept;
};
struct PcapDumperDeleter {
  void operator()(pcap_dumper_t* d) const noexcept;
};

class EvidenceStore;

class FlowCapture {
 public:
  ~FlowCapture();
  FlowCapture(const FlowCapture&) = delete;
  FlowCapture& operator=(const FlowCapture&) = delete;

  // Stores one frame (starting at the Ethernet header). `wire_len` is the original length (0:
  // frame.size()). Returns false, storing nothing, once this flow's or the store's bound is
  // reached; the reference then says truncated = true.
  bool add(TimePoint ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len = 0);
  // Hashes the capture, writes it, fsyncs the file and the evidence directory, closes. Call once.
  Result<EvidenceRef> finish();
  // The same without the fsyncs: the written file's descriptor is returned open (the caller
  // owns it) and must be fsynced, with EvidenceStore::dir_fd(), before anything that names the
  // capture may be durable.
  struct Deferred {
    EvidenceRef ref;
    int fd = -1;
  };
  Result<Deferred> finish_deferred();

 private:
  friend class EvidenceStore;
  FlowCapture(EvidenceStore* store, std::string rel_path, std::string abs_path, int fd);
  Result<EvidenceRef> write_out();  // hash + write; fd_ stays open
  EvidenceStore* store_;
  std::string rel_path_, abs_path_;
  int fd_ = -1;           // the capture file (O_EXCL), written by write_out()
  char* buf_ = nullptr;   // open_memstream's buffer: the capture's bytes
  std::size_t size_ = 0;  // their number, after a flush
  std::unique_ptr<pcap_t, PcapDeleter> pcap_;
  std::unique_ptr<pcap_dumper_t, PcapDumperDeleter> dumper_;
  EvidenceRef ref_;
};

class EvidenceStore {
 public:
  // Creates LOG_DIR/evidence if needed.
  static Result<std::unique_ptr<EvidenceStore>> open(std::string log_dir, EvidenceLimits limits);
  // Starts the capture file evidence/<name>.pcap. `name` is reduced to [A-Za-z0-9._-] (anything
  // else becomes '_'); an existing file is never overwritten (error), so a record's evidence
  // cannot be replaced by a later capture.
  Result<std::unique_ptr<FlowCapture>> begin(std::string_view name);
  std::uint64_t total_bytes() const { return total_bytes_; }
  const EvidenceLimits& limits() const { return limits_; }
  // The evidence directory, open for fsync (new captures' names are durable once it is synced).
  int dir_fd() const { return dir_fd_; }
  ~EvidenceStore();
  EvidenceStore(const EvidenceStore&) = delete;
  EvidenceStore& operator=(const EvidenceStore&) = delete;

 private:
  friend class FlowCapture;
  EvidenceStore(std::string log_dir, EvidenceLimits limits, int dir_fd)
      : log_dir_(std::move(log_dir)), limits_(limits), dir_fd_(dir_fd) {}
  std::string log_dir_;
  EvidenceLimits limits_;
  int dir_fd_ = -1;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace dc::audit
