#pragma once
// systemd service notifications (sd_notify(3), Type=notify): READY, RELOADING, STOPPING, STATUS
// and the watchdog. Without $NOTIFY_SOCKET (not run by systemd) every call does nothing.
// Control thread only.
#include <chrono>
#include <cstdint>
#include <string>

namespace dc::appliance::service {

void ready(const std::string& status);
// RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ones ignore it); after it,
// ready() again.
void reloading();
void stopping();
void status(const std::string& status);

// WatchdogSec=: ping every half interval, but only when the caller says the workers made progress
// since the last ping (a ping thread that runs regardless of the datapath would hide a hang).
class Watchdog {
 public:
  Watchdog();  // reads WATCHDOG_USEC / WATCHDOG_PID (sd_watchdog_enabled)
  bool enabled() const noexcept { return interval_.count() > 0; }
  std::chrono::microseconds interval() const noexcept { return interval_; }
  // Whether a ping is due now (half the interval since the last one).
  bool due(std::chrono::steady_clock::time_point now) const noexcept;
  void ping(std::chrono::steady_clock::time_point now);

 private:
  std::chrono::microseconds interval_{0};
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace dc::appliance::service
