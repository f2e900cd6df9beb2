#pragma once
// Crash recovery of the audit log: when the writer starts after a run that ended without its
// closing checkpoint (killed, crashed, power loss), it reads that run back and lists the border
// flows the run opened (`flow_open`) and never closed with a final `flow` record, so the new run's
// `recovery` records say what may have crossed. Streaming and bounded: memory follows the number
// of flows open at the crash, capped. Called by LogWriter::open on the writer thread's behalf.
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace dc::audit {

struct UnclosedFlow {
  std::uint64_t flow_id = 0;
  std::string open_body;  // compact JSON: the flow_open record's who/where/when members
  std::uint64_t crossed_packets = 0, crossed_bytes = 0;  // at its last flow_update (if any)
  bool updated = false;
};

struct RecoveryScan {
  std::uint64_t run_start_seq = 0;  // the unclean run's start record
  std::string run_start_time;
  std::uint64_t last_seq = 0;       // its last complete record
  std::uint64_t unclosed = 0;       // flows opened and never closed (all of them)
  std::vector<UnclosedFlow> flows;  // the first kMaxListed of them, in open order
  bool truncated = false;           // more than kMaxListed
};

inline constexpr std::size_t kMaxRecoveryListed = 100'000;
inline constexpr std::size_t kRecoveryFlowsPerRecord = 1000;

// `names`: the log files of `dir`, sorted (chain order). Reads back from the newest file to the
// last `start` record and forward from there to the end.
Result<RecoveryScan> scan_unclean_run(const std::string& dir,
                                      const std::vector<std::string>& names);

}  // namespace dc::audit
