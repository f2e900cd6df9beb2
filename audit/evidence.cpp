// Evidence captures: one pcap per blocked flow under evidence/, bounded, bound by SHA-256.
#include "audit/evidence.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
  const fs::path dir = fs::path(log_dir) / kEvidenceDir;
  fs::create_directories(dir, ec);
  if (ec) return make_error(log_dir + "/evidence: cannot create: " + ec.message());
  if (limits.snaplen == 0) return make_error("evidence: snaplen must be positive");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return make_error(dir.string() + ": cannot open: " + std::strerror(errno));
  return std::unique_ptr<EvidenceStore>(new EvidenceStore(std::move(log_dir), limits, dfd));
}

EvidenceStore::~EvidenceStore() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
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

  // O_EXCL: an existing capture is never replaced.
  int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(abs + ": cannot create: " + std::strerror(errno));
  std::unique_ptr<FlowCapture> cap(new FlowCapture(this, rel, abs, fd));  // owns fd
  // libpcap writes the capture into memory; finish() hashes and writes it in one go.
  std::FILE* f = ::open_memstream(&cap->buf_, &cap->size_);
  if (f == nullptr) return make_error(abs + ": open_memstream failed");
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

FlowCapture::FlowCapture(EvidenceStore* store, std::string rel_path, std::string abs_path, int fd)
    : store_(store), rel_path_(std::move(rel_path)), abs_path_(std::move(abs_path)), fd_(fd) {
  ref_.file = rel_path_;
}

FlowCapture::~FlowCapture() {
  dumper_.reset();  // closes the memory stream before its buffer goes
  pcap_.reset();
  std::free(buf_);
  if (fd_ >= 0) ::close(fd_);
}

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

// The capture's bytes, hashed in memory and written to the file in one write loop.
Result<EvidenceRef> FlowCapture::write_out() {
  if (!dumper_) return make_error(abs_path_ + ": capture already finished");
  const bool flushed = pcap_dump_flush(dumper_.get()) == 0;
  dumper_.reset();  // pcap_dump_close closes the memory stream: buf_/size_ are final
  pcap_.reset();
  if (!flushed || buf_ == nullptr) return make_error(abs_path_ + ": capture buffer failed");
  std::size_t off = 0;
  while (off < size_) {
    const ssize_t n = ::write(fd_, buf_ + off, size_ - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error(abs_path_ + ": write failed: " + std::strerror(n < 0 ? errno : ENOSPC));
    off += static_cast<std::size_t>(n);
  }
  ref_.sha256 = base::sha256_hex(std::string_view(buf_, size_));
  std::free(buf_);
  buf_ = nullptr;
  return ref_;
}

Result<EvidenceRef> FlowCapture::finish() {
  auto ref = write_out();
  if (!ref) return ref;
  const bool ok = ::fsync(fd_) == 0;
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  if (!ok) return make_error(abs_path_ + ": fsync failed: " + std::strerror(err));
  // The file's name must survive a crash as well as its bytes.
  if (::fsync(store_->dir_fd_) != 0)
    return make_error(abs_path_ +
                      ": fsync of the evidence directory failed: " + std::strerror(errno));
  return ref;
}

Result<FlowCapture::Deferred> FlowCapture::finish_deferred() {
  auto ref = write_out();
  if (!ref) return ref.error();
  Deferred d{*ref, fd_};
  fd_ = -1;
  return d;
}

}  // namespace dc::audit
