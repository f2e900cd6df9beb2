#pragma once
// Which drop reason each refusal of an inspect stage means: decode's DecodeStatus and the stream
// reorderer's ReorderAction are the stages' own vocabulary; the pipeline counts them as drop
// reasons through these constexpr tables (no branch per status on the packet path).
#include <array>

#include "dataplane/drop_reason.hpp"
#include "inspect/packet/decode.hpp"
#include "inspect/stream/reorder.hpp"

namespace dc::dataplane {

// Every decode failure is the drop reason of the same name (a missing one fails to compile).
inline constexpr std::array<DropReason, static_cast<std::size_t>(inspect::DecodeStatus::kCount)>
    kDecodeDrops = {DropReason::kNone,
#define DC_X(name) DropReason::name,
                    DC_DECODE_FAILURES(DC_X)
#undef DC_X
};

constexpr DropReason drop_reason_of(inspect::DecodeStatus s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < kDecodeDrops.size() ? kDecodeDrops[i] : DropReason::kNone;
}

// The reorderer's answers that drop the segment (kNone: the segment is not dropped for it).
constexpr DropReason drop_reason_of(inspect::ReorderAction a) noexcept {
  using A = inspect::ReorderAction;
  constexpr auto table = [] {
    std::array<DropReason, static_cast<std::size_t>(A::kCount)> t{};  // all kNone
    t[static_cast<std::size_t>(A::kEvasion)] = DropReason::kStreamEvasion;
    t[static_cast<std::size_t>(A::kQueueFull)] = DropReason::kReorderQueueFull;
    t[static_cast<std::size_t>(A::kOutOfWindow)] = DropReason::kTcpOutOfWindow;
    t[static_cast<std::size_t>(A::kUnverifiableRetransmission)] =
        DropReason::kUnverifiableRetransmission;
    return t;
  }();
  const auto i = static_cast<std::size_t>(a);
  return i < table.size() ? table[i] : DropReason::kNone;
}

static_assert(drop_reason_of(inspect::DecodeStatus::kOk) == DropReason::kNone);
static_assert(drop_reason_of(inspect::DecodeStatus::kFrameTooLong) == DropReason::kFrameTooLong);
static_assert(drop_reason_of(inspect::ReorderAction::kInOrder) == DropReason::kNone);

}  // namespace dc::dataplane
