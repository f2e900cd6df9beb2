// Evidence captures: one pcap per blocked flow under evidence/, bounded, bound by SHA-256.
#include "audit/evidence.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "audit/crypto.hpp"
#include "base/hash.hpp"

namespace dc::audit {
namespace fs = std::filesystem;

void PcapDeleter::operator()(pcap_t* p) const noexcept { pcap_close(p); }
void PcapDumperDeleter::operator()(pcap_dumper_t* d) const noexcept { pcap_dump_close(d); }

Result<std::unique_ptr<EvidenceStore>> EvidenceStore::open(std::string log_dir,
                                                           EvidenceLimits limits) {
  std::error_code ec;
  fs::create_directories(fs::path(log_dir) / kEvidenceDir, ec);
  if (ec) return make_error(log_dir + "/evidence: cannot create: " + ec.message());
  if (limits.snaplen == 0) return make_error("evidence: snaplen must be positive");
  return std::unique_ptr<EvidenceStore>(new EvidenceStore(std::move(log_dir), limits));
}

Result<std::unique_ptr<FlowCapture>> EvidenceStore::begin(std::string_view name) {
  std::string clean;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    clean.push_back(ok ? c : '_');
  }
  if (clean.empty() || clean[0] == '.') clean.insert(clean.begin(), '_');
  std::string rel = std::string(kEvidenceDir) + "/" + clean + ".pcap";
  std::string abs = (fs::path(log_dir_) / rel).string();

  // O_EXCL: pcap_dump_open() would silently truncate an existing capture.
  int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(abs + ": cannot create: " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    ::close(fd);
    return make_error(abs + ": fdopen failed");
  }
  std::unique_ptr<FlowCapture> cap(new FlowCapture(this, rel, abs));
  cap->pcap_.reset(pcap_open_dead_with_tstamp_precision(
      DLT_EN10MB, static_cast<int>(limits_.snaplen), PCAP_TSTAMP_PRECISION_NANO));
  if (!cap->pcap_) {
    std::fclose(f);
    return make_error("evidence: pcap_open_dead failed");
  }
  cap->dumper_.reset(pcap_dump_fopen(cap->pcap_.get(), f));  // owns f from here on
  if (!cap->dumper_) {
    std::fclose(f);
    return make_error(abs + ": " + pcap_geterr(cap->pcap_.get()));
  }
  return cap;
}

FlowCapture::FlowCapture(EvidenceStore* store, std::string rel_path, std::string abs_path)
    : store_(store), rel_path_(std::move(rel_path)), abs_path_(std::move(abs_path)) {
  ref_.file = rel_path_;
}

FlowCapture::~FlowCapture() = default;

bool FlowCapture::add(TimePoint ts, std::span<const std::uint8_t> frame, std::uint32_t wire_len) {
  if (!dumper_) return false;
  const auto& lim = store_->limits_;
  std::uint32_t caplen =
      static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), lim.snaplen));
  if (ref_.packets >= lim.max_packets_per_flow || ref_.bytes + caplen > lim.max_bytes_per_flow ||
      store_->total_bytes_ + caplen > lim.max_total_bytes) {
    ref_.truncated = true;
    return false;
  }
  auto ns = ts.time_since_epoch().count();
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  hdr.ts.tv_usec = static_cast<suseconds_t>(ns % 1'000'000'000);  // nanoseconds: NANO precision
  hdr.caplen = caplen;
  hdr.len = wire_len != 0 ? wire_len : static_cast<std::uint32_t>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &hdr, frame.data());
  ++ref_.packets;
  ref_.bytes += caplen;
  store_->total_bytes_ += caplen;
  return true;
}

Result<EvidenceRef> FlowCapture::finish() {
  if (!dumper_) return make_error(abs_path_ + ": capture already finished");
  std::FILE* f = pcap_dump_file(dumper_.get());
  bool ok = pcap_dump_flush(dumper_.get()) == 0 && std::ferror(f) == 0;
  int err = errno;
  ok = ok && ::fsync(::fileno(f)) == 0;
  dumper_.reset();  // pcap_dump_close closes the FILE
  pcap_.reset();
  if (!ok) return make_error(abs_path_ + ": write failed: " + std::strerror(err));
  auto hash = base::sha256_file_hex(abs_path_);
  if (!hash) return hash.error();
  ref_.sha256 = *hash;
  return ref_;
}

}  // namespace dc::audit
