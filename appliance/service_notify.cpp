// sd_notify for Type=notify services: start-up, reloads, stop and the watchdog.
#include "appliance/service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace dc::appliance::service {
namespace {

// STATUS= is one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

void ready(const std::string& st) { sd_notify(0, ("READY=1\nSTATUS=" + one_line(st)).c_str()); }

void reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  sd_notify(
      0,
      ("RELOADING=1\nSTATUS=reloading the policy\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

void stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=stopping: closing flows, sealing the audit log");
}

void status(const std::string& st) { sd_notify(0, ("STATUS=" + one_line(st)).c_str()); }

Watchdog::Watchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec);
}

bool Watchdog::due(std::chrono::steady_clock::time_point now) const noexcept {
  return enabled() && now - last_ >= interval_ / 2;
}

void Watchdog::ping(std::chrono::steady_clock::time_point now) {
  last_ = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace dc::appliance::service
