// The log writer's commit thread: fdatasync off the formatting path, durable seq published after.
#include "audit/log_writer_sync.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace dc::audit {
namespace {
// After a failed fsync, wait this long before trying again (the writer keeps appending meanwhile;
// nothing it wrote since is acknowledged until an fsync succeeds).
constexpr std::chrono::milliseconds kRetryDelay{10};
}  // namespace

std::uint64_t SyncDeps::add(int fd, bool owned, std::uint64_t number) {
  last = number;
  if (!owned)
    for (const File& f : files)
      if (f.fd == fd && !f.owned) return number;
  files.push_back(File{fd, owned});
  return number;
}

Result<void> SyncDeps::sync_all() {
  for (const File& f : files)
    if (::fsync(f.fd) != 0)
      return make_error(std::string("evidence fsync failed: ") + std::strerror(errno));
  for (const File& f : files)
    if (f.owned) ::close(f.fd);
  files.clear();
  return {};
}

void SyncDeps::append(SyncDeps&& later) {
  for (const File& f : later.files) add(f.fd, f.owned, later.last);
  last = std::max(last, later.last);
  later.files.clear();
}

GroupCommit::GroupCommit(FileSink& sink) : sink_(sink) {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "dc-audit-sync");
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const SyncDeps::File& f : deps_.files)
    if (f.owned) ::close(f.fd);
}

std::uint64_t GroupCommit::depend(int fd, bool owned) {
  std::uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = deps_.add(fd, owned, ++dep_numbers_);
  }
  work_.notify_one();
  return n;
}

SyncDeps GroupCommit::take_deps() {
  std::lock_guard<std::mutex> lock(mu_);
  SyncDeps d = std::move(deps_);
  deps_ = SyncDeps{};
  return d;
}

std::uint64_t GroupCommit::deps_issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dep_numbers_;
}

void GroupCommit::restore_deps(SyncDeps&& deps) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    deps.append(std::move(deps_));
    deps_ = std::move(deps);
  }
  work_.notify_one();
}

void GroupCommit::mark_deps_durable(std::uint64_t number) noexcept {
  std::uint64_t cur = deps_durable_.load(std::memory_order_relaxed);
  while (cur < number &&
         !deps_durable_.compare_exchange_weak(cur, number, std::memory_order_release)) {
  }
}

void GroupCommit::request(std::uint64_t seq) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (seq <= requested_) return;
    requested_ = seq;
  }
  work_.notify_one();
}

void GroupCommit::mark_durable(std::uint64_t seq) noexcept {
  std::uint64_t cur = durable_.load(std::memory_order_relaxed);
  while (cur < seq && !durable_.compare_exchange_weak(cur, seq, std::memory_order_release)) {
  }
}

void GroupCommit::pause() {
  std::unique_lock<std::mutex> lock(mu_);
  paused_ = true;
  idle_.wait(lock, [this] { return !busy_; });
}

void GroupCommit::resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  work_.notify_one();
}

std::string GroupCommit::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void GroupCommit::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [this] {
      return stop_ || (!paused_ && (requested_ > durable() || !deps_.files.empty()));
    });
    if (stop_) return;
    if (!commit_once(lock)) work_.wait_for(lock, kRetryDelay, [this] { return stop_; });
  }
}

// One commit, called and returning with the lock held: the waiting dependencies, then the log.
bool GroupCommit::commit_once(std::unique_lock<std::mutex>& lock) {
  // Every record up to `target` was appended before request() published it, and every
  // dependency a record names was added before that record was appended: the fsyncs that start
  // now cover them all (and whatever the writer appends meanwhile, unacknowledged).
  const std::uint64_t target = requested_;
  SyncDeps deps = std::move(deps_);
  deps_ = SyncDeps{};
  busy_ = true;
  lock.unlock();
  const std::uint64_t deps_number = deps.last;
  auto r = deps.sync_all();
  const bool deps_ok = static_cast<bool>(r);
  if (r) r = sink_.sync();
  lock.lock();
  busy_ = false;
  idle_.notify_all();
  if (deps_ok) mark_deps_durable(deps_number);
  if (!r) {
    if (!deps_ok) {
      deps.append(std::move(deps_));  // tried again first next time, in order
      deps_ = std::move(deps);
    }
    errors_.fetch_add(1, std::memory_order_relaxed);
    last_error_ = r.error().message;
    return false;
  }
  fsyncs_.fetch_add(1, std::memory_order_relaxed);  // counted before it is seen durable
  mark_durable(target);
  return true;
}

}  // namespace dc::audit
