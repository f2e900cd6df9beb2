// The drop-reason vocabulary (dataplane/drop_reasons.def): stable snake_case counter names, and
// the tables that turn decode statuses and reorderer answers into drop reasons.
#include "dataplane/drop_reason.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>

#include "dataplane/stage_drops.hpp"

namespace dc::dataplane {
namespace {

TEST(DropReasonName, SnakeCaseFromEnumNames) {
  using R = DropReason;
  const std::pair<R, std::string_view> rows[] = {
      {R::kNone, "none"},
      {R::kTruncatedEthernet, "truncated_ethernet"},
      {R::kBadIpv4Ihl, "bad_ipv4_ihl"},
      {R::kTooManyIpv6ExtHeaders, "too_many_ipv6_ext_headers"},
      {R::kBadTcpFlags, "bad_tcp_flags"},
      {R::kTxFull, "tx_full"},
      {R::kNoPolicy, "no_policy"},
      {R::kAuditUnavailable, "audit_unavailable"},
      {R::kFrameTooLong, "frame_too_long"},
      {R::kTcpOutOfWindow, "tcp_out_of_window"},
      {R::kTcpRstOutOfWindow, "tcp_rst_out_of_window"},
      {R::kTcpRstNotExact, "tcp_rst_not_exact"},
      {R::kEthernetFcs, "ethernet_fcs"},
      {R::kTcpPaws, "tcp_paws"},
      {R::kTcpBeyondWindow, "tcp_beyond_window"},
      {R::kBadFcs, "bad_fcs"},
      {R::kEvidenceBackpressure, "evidence_backpressure"},
      {R::kDeclarationGrantWait, "declaration_grant_wait"},
      {R::kCount, "unknown"},
  };
  for (const auto& [r, name] : rows) EXPECT_EQ(drop_reason_name(r), name);
  EXPECT_STREQ(drop_reason_description(R::kBadIpv4Checksum), "IPv4 header checksum mismatch");
}

// Counter order is ABI (append only): the first and last entries and the count are pinned.
TEST(DropReasonName, OrderIsStable) {
  EXPECT_EQ(static_cast<int>(DropReason::kNone), 0);
  EXPECT_EQ(static_cast<int>(DropReason::kTruncatedEthernet), 1);
  EXPECT_EQ(static_cast<int>(DropReason::kTxFull), 30);
  EXPECT_EQ(static_cast<int>(DropReason::kTcpOutOfWindow), 43);
  EXPECT_EQ(static_cast<int>(DropReason::kTcpRstOutOfWindow), 44);
  EXPECT_EQ(static_cast<int>(DropReason::kBadFcs), 48);
  EXPECT_EQ(static_cast<int>(DropReason::kRecordHoldFull), 49);
  EXPECT_EQ(static_cast<int>(DropReason::kFragmentOverlap), 50);
  EXPECT_EQ(static_cast<int>(DropReason::kServerNamePending), 55);
  EXPECT_EQ(static_cast<int>(DropReason::kTcpPaws), 56);
  EXPECT_EQ(static_cast<int>(DropReason::kTcpBeyondWindow), 57);
  EXPECT_EQ(static_cast<int>(DropReason::kTlsKeyWait), 58);
  EXPECT_EQ(static_cast<int>(DropReason::kVolumeCap), 59);
  EXPECT_EQ(static_cast<int>(DropReason::kAccountingWait), 60);
  EXPECT_EQ(static_cast<int>(DropReason::kEvidenceBackpressure), 61);
  EXPECT_EQ(static_cast<int>(DropReason::kDeclarationGrantWait), 62);
  EXPECT_EQ(static_cast<int>(DropReason::kVerdictTableFull), 63);
  EXPECT_EQ(kDropReasonCount, 64u);
}

TEST(DropReasonName, AllUniqueSnakeCaseAndDescribed) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    const auto r = static_cast<DropReason>(i);
    const std::string_view name = drop_reason_name(r);
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    })) << name;
    EXPECT_NE(name.front(), '_');
    EXPECT_GT(std::string_view(drop_reason_description(r)).size(), 5u) << name;
  }
}

std::string snake(std::string_view camel) {
  std::string s;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (!s.empty()) s += '_';
      s += static_cast<char>(c - 'A' + 'a');
    } else {
      s += c;
    }
  }
  return s;
}

// Every decode failure is counted under the drop reason of the same name; success drops nothing.
TEST(StageDrops, DecodeStatusMapsToTheSameName) {
  EXPECT_EQ(drop_reason_of(inspect::DecodeStatus::kOk), DropReason::kNone);
  for (std::size_t i = 1; i < static_cast<std::size_t>(inspect::DecodeStatus::kCount); ++i) {
    const auto s = static_cast<inspect::DecodeStatus>(i);
    EXPECT_EQ(drop_reason_name(drop_reason_of(s)), snake(inspect::decode_status_name(s)));
  }
}

TEST(StageDrops, ReorderAnswersThatDropTheSegment) {
  using A = inspect::ReorderAction;
  const std::pair<A, DropReason> rows[] = {
      {A::kInOrder, DropReason::kNone},
      {A::kQueued, DropReason::kNone},
      {A::kDuplicate, DropReason::kNone},
      {A::kNoPayload, DropReason::kNone},
      {A::kReset, DropReason::kNone},
      {A::kEvasion, DropReason::kStreamEvasion},
      {A::kQueueFull, DropReason::kReorderQueueFull},
      {A::kOutOfWindow, DropReason::kTcpOutOfWindow},
      {A::kUnverifiableRetransmission, DropReason::kUnverifiableRetransmission},
  };
  for (const auto& [a, r] : rows)
    EXPECT_EQ(drop_reason_of(a), r) << inspect::reorder_action_name(a);
}

}  // namespace
}  // namespace dc::dataplane
