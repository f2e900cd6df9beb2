#pragma once
// Reload requests from other threads (`ctl reload` on a telemetry thread) to the control thread,
// which alone may reload (appliance/reloader.hpp). Requests that arrive while one reload runs are
// answered by the next one; closed when the control loop ends, so no asker waits forever.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "appliance/reloader.hpp"

namespace dc::appliance {

class ReloadMailbox {
 public:
  // Any thread but the control thread: blocks until a reload that started after this call is
  // done (its result), or `timeout` passes / the mailbox closes (a rejection saying so).
  ReloadResult request(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t mine = ++asked_;
    cv_.notify_all();
    bool done = cv_.wait_for(lock, timeout, [&] { return closed_ || done_ >= mine; });
    if (done && done_ >= mine) return last_;
    ReloadResult r;
    r.error = closed_ ? "the appliance is stopping" : "no answer from the control thread in time";
    return r;
  }
  // Control thread: whether a reload is asked for; then run it and complete() with its result.
  bool pending() {
    std::lock_guard<std::mutex> lock(mu_);
    taking_ = asked_;
    return taking_ > done_;
  }
  void complete(ReloadResult r) {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = std::move(r);
    done_ = taking_;
    cv_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t asked_ = 0, taking_ = 0, done_ = 0;
  bool closed_ = false;
  ReloadResult last_;
};

}  // namespace dc::appliance
