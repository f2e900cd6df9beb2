#pragma once
// Per-worker counters. Single writer (the worker lcore); the control, telemetry and metrics
// threads read them while the worker runs. The counter list is dataplane/counters.def.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/drop_reason.hpp"

namespace dc::dataplane {

inline constexpr uint16_t kMaxPorts = 16;
inline constexpr uint16_t kReplayPort = kMaxPorts;  // "no physical port" (offline replay)

// A counter with one writing thread and any number of reading threads. The writer does a relaxed
// load and a relaxed store (plain moves on x86-64: no lock prefix, no fence); readers do a relaxed
// load, so a value read on another thread is never torn. Copying reads the value (a snapshot).
class Counter {
 public:
  Counter() = default;
  Counter(uint64_t v) noexcept : v_(v) {}  // NOLINT: a counter is used like a number
  Counter(const Counter& o) noexcept : v_(o.load()) {}
  Counter& operator=(const Counter& o) noexcept {
    set(o.load());
    return *this;
  }
  uint64_t load() const noexcept { return v_.load(std::memory_order_relaxed); }
  operator uint64_t() const noexcept { return load(); }  // NOLINT
  void set(uint64_t v) noexcept { v_.store(v, std::memory_order_relaxed); }
  // Writer thread only.
  Counter& operator+=(uint64_t n) noexcept {
    set(load() + n);
    return *this;
  }
  Counter& operator-=(uint64_t n) noexcept {
    set(load() - n);
    return *this;
  }
  Counter& operator++() noexcept { return *this += 1; }
  Counter& operator--() noexcept { return *this -= 1; }
  uint64_t operator++(int) noexcept {
    uint64_t v = load();
    set(v + 1);
    return v;
  }

 private:
  std::atomic<uint64_t> v_{0};
};
static_assert(sizeof(Counter) == sizeof(uint64_t));

// Where a counter appears in the outputs (see counters.def).
enum class CounterSection : uint8_t { kVerdicts, kTotals, kWorker, kInternal };

struct PortCounters {
#define DC_PORT_COUNTER(field, width, metric, help) Counter field;
#include "dataplane/counters.def"
  void add(const PortCounters& o) noexcept {
#define DC_PORT_COUNTER(field, width, metric, help) field += o.field;
#include "dataplane/counters.def"
  }
};

// Labelled outcome counters (appliance/prometheus.cpp): flows by verdict and counterparty,
// findings by category, indexed by the policy snapshot's own indices. Fixed arrays so counting
// never allocates; indices past the bound count in the last slot ("other"), "none" has its own.
inline constexpr std::size_t kCounterpartyLabels = 64;  // + none + other
inline constexpr std::size_t kCategoryLabels = 64;      // policy::kMaxCategories, + none
inline constexpr std::size_t kCpNone = kCounterpartyLabels, kCpOther = kCounterpartyLabels + 1;
inline constexpr std::size_t kCatNone = kCategoryLabels;
struct LabelledCounters {
  Counter verdicts[kCounterpartyLabels + 2][3]{};  // [counterparty][allow, alert, block]
  Counter category_findings[kCategoryLabels + 1]{};
  void add(const LabelledCounters& o) noexcept {
    for (std::size_t c = 0; c < kCounterpartyLabels + 2; ++c)
      for (std::size_t v = 0; v < 3; ++v) verdicts[c][v] += o.verdicts[c][v];
    for (std::size_t c = 0; c <= kCategoryLabels; ++c)
      category_findings[c] += o.category_findings[c];
  }
};

struct alignas(64) WorkerCounters {
  PortCounters port[kMaxPorts + 1]{};
  Counter drops[kDropReasonCount]{};
  LabelledCounters labelled{};
#define DC_COUNTER(field, section, key, label, worker_column, metric, metric_labels, help) \
  Counter field;
#include "dataplane/counters.def"

  void drop(DropReason r) noexcept {
    ++drops[static_cast<unsigned>(r)];
    ++dropped;
  }
  // Adds `o` (a snapshot or another worker's live counters) to this snapshot.
  void add(const WorkerCounters& o) noexcept {
    for (unsigned p = 0; p <= kMaxPorts; ++p) port[p].add(o.port[p]);
    for (size_t i = 0; i < kDropReasonCount; ++i) drops[i] += o.drops[i];
    labelled.add(o.labelled);
#define DC_COUNTER(field, section, key, label, worker_column, metric, metric_labels, help) \
  field += o.field;
#include "dataplane/counters.def"
  }
  uint64_t rx_packets() const noexcept {
    uint64_t n = 0;
    for (const auto& p : port) n += p.rx_packets;
    return n;
  }
};

// One row of counters.def, for the outputs that walk the list.
struct CounterInfo {
  Counter WorkerCounters::*field;
  CounterSection section;
  const char* key;
  const char* label;
  const char* worker_column;
  const char* metric;
  const char* metric_labels;
  const char* help;
};
// clang-format off
inline constexpr CounterInfo kCounterInfo[] = {
#define DC_COUNTER(field, section, key, label, worker_column, metric, metric_labels, help) \
  {&WorkerCounters::field, CounterSection::section, key, label, worker_column, metric,     \
   metric_labels, help},
#include "dataplane/counters.def"
};
// clang-format on

struct PortCounterInfo {
  Counter PortCounters::*field;
  const char* key;
  int width;
  const char* metric;
  const char* help;
};
inline constexpr PortCounterInfo kPortCounterInfo[] = {
#define DC_PORT_COUNTER(field, width, metric, help) \
  {&PortCounters::field, #field, width, metric, help},
#include "dataplane/counters.def"
};

}  // namespace dc::dataplane
