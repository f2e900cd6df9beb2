#pragma once
// Why the dataplane dropped a packet. One counter per reason (dataplane/counters.hpp), each with
// a stable snake_case name ("truncated_ethernet") used by the final report, telemetry and
// Prometheus, and by the audit trail as a flow's block reason. The list is
// dataplane/drop_reasons.def; the pipeline maps its stages' own statuses (decode, stream order)
// onto it (dataplane/stage_drops.hpp).
// Thread-safety: constants and pure functions, callable from any thread.
#include <cstddef>
#include <cstdint>

namespace dc::dataplane {

enum class DropReason : uint8_t {
#define DC_DROP_REASON(name, desc) name,
#include "dataplane/drop_reasons.def"
  kCount
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);

// Stable snake_case name ("truncated_ethernet"), "unknown" out of range. The pointer is to a
// static string: it stays valid for the life of the process.
const char* drop_reason_name(DropReason r) noexcept;
const char* drop_reason_description(DropReason r) noexcept;

}  // namespace dc::dataplane
