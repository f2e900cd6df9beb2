#pragma once
// Offline replay: the live packet pipeline (dataplane::Pipeline) driven on the calling thread
// over capture files read with libpcap (classic pcap and pcapng; several files are merged by
// timestamp), with the captures' own time. Used by `datacustoms replay` and by capture cases of
// `datacustoms policy test`. Control plane; needs EAL (replay_eal_init).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/flow_outcome.hpp"
#include "audit/ledger_keys.hpp"
#include "base/result.hpp"
#include "dataplane/counters.hpp"
#include "policy/snapshot.hpp"

namespace dc::appliance {

// EAL without hugepages, devices or shared files, once per process, with `memory_mb` of DPDK
// memory (EAL's page table for it is built and zeroed at start-up: give it what the replay needs,
// replay_memory_mb()).
Result<void> replay_eal_init(uint32_t memory_mb = 512);

inline constexpr uint16_t kMaxReplayBurst = 256;  // Pipeline::process takes at most 256

struct ReplayOptions {
  uint32_t flows = 65536;                  // flow table capacity
  uint32_t inspect_flows = 4096;           // flows with inspection state at once
  bool fcs_strip = false;                  // frames end with their Ethernet FCS: check and strip it
  bool pass_arp = false, pass_nd = false;  // ARP / IPv6 ND pass-through (pairs pass_arp/pass_nd)
  // NSS key logs (SSLKEYLOGFILE) whose keys are in the workers' key store from the start, as if
  // escrowed in time (`replay --keylog`); and how long a TLS flow waits for missing keys, on the
  // captures' clock (appliance.toml [tls] key_wait_ms).
  std::vector<std::string> keylogs;
  uint32_t tls_key_wait_ms = 200;
  // Customs accounting ([accounting] enabled in the policy): the key of the person digests
  // (`replay --accounting-key`; null: audit::test_accounting_key()), the store (empty: in
  // memory), how long exported bytes wait for their persons' count on the captures' clock.
  const audit::AccountingKey* accounting_key = nullptr;
  std::function<std::unique_ptr<audit::PersonStore>()> accounting_store;
  uint32_t accounting_wait_ms = 50;
  // Packets per call of the engine (`replay --burst`, 1 to kMaxReplayBurst): 1 judges each
  // packet at its own capture time; more groups them as a live worker's receive bursts do, at
  // the time of a burst's last packet (the same verdicts: the replay cases' `_burst32` runs).
  uint16_t burst = 1;
  // replay_packet_bound() of the captures when the caller has it already (0: counted here).
  uint64_t packet_bound = 0;
  // Called every ~0.5 s of wall time with (packets so far, current file); may be empty.
  std::function<void(uint64_t, const std::string&)> progress;
};

// The packets `captures` hold (counted, up to 2^20 records; beyond, or for a pipe, what their
// bytes allow) and the DPDK memory a replay of them needs (at most 512 MB).
uint64_t replay_packet_bound(const std::vector<std::string>& captures);
uint32_t replay_memory_mb(const ReplayOptions& options, uint64_t packets);

struct ReplayStats {
  uint64_t packets = 0;
  // Process CPU time (CLOCK_PROCESS_CPUTIME_ID) building the tables and pools, and replaying the
  // packets (to the last flow record): `datacustoms replay --timing`, tests/bench/run.
  double rig_cpu_s = 0, run_cpu_s = 0;
  // The user part of run_cpu_s (getrusage): without the kernel's reads of the capture files,
  // which the live path does not do and whose cost moves by several percent between two files
  // of the same bytes with the page cache's state (docs/performance.md, "Session 14").
  double run_user_s = 0;
  dataplane::WorkerCounters counters{};
};

// Replays `captures` against `policy`; `on_flow` gets every flow record in emission order (the
// event is valid during the call only). A corrupt or truncated capture is an error naming the
// file and record; records already delivered stay delivered.
Result<ReplayStats> replay_captures(const policy::Snapshot& policy,
                                    const std::vector<std::string>& captures,
                                    const ReplayOptions& options,
                                    const std::function<void(const audit::FlowOutcome&)>& on_flow);

}  // namespace dc::appliance
