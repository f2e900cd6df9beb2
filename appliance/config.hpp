#pragma once
// appliance.toml: the operator's file (ports, zones of ports, cores, memory, flow table).
// Separate from the compliance policy (policy/). Loaded once by the control thread at start-up.
// Every problem is reported as `file:line:col: error: ...`, all of them at once.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "dataplane/runtime.hpp"

namespace dc::appliance {

struct Diagnostic {
  std::string file;
  int line = 0;  // 0: the file as a whole ("file: error: message")
  int column = 0;
  bool error = true;  // false: warning
  std::string message;
  std::string hint = {};    // how to fix it (`config check` prints it under the message)
  std::string str() const;  // "file:line:col: error: message"
};

// Where a key was written: "eal.args", "eal.args.2" (an array element), "audit.signing_key".
struct KeyPosition {
  int line = 0, column = 0;
};

struct PortConfig {
  std::string name;        // operator's name, used in pairs and counters
  std::string device;      // PCI address (0000:01:00.0) or DPDK vdev string (net_pcap0,rx_pcap=...)
  std::string zone;        // zone name, resolved against the policy's zones
  bool fcs_strip = false;  // `fcs = "strip"`: frames arrive with their 4-byte FCS (default "none")
  // Set from its pair's options (pairs = [{ ports = [..], pass_arp = true, pass_nd = true }]):
  // ARP / IPv6 neighbour discovery frames cross the pair outside flows and audit (default off).
  bool pass_arp = false, pass_nd = false;
  int line = 0;
};

// [audit.witness]: where each signed checkpoint is also published (audit/witness.hpp).
struct WitnessConfig {
  std::string file;  // a file outside the log directory (ideally another mount); empty: none
  uint64_t file_max_mb = 16;
  bool syslog = false;
  std::string redis;  // "host:port" or a unix socket path; empty: none
  std::string redis_key = "datacustoms:witness";
  uint32_t redis_history = 10000;
  uint32_t redis_connect_timeout_ms = 500;
  uint32_t redis_timeout_ms = 500;
  int line = 0;
};

struct AuditConfig {
  bool enabled = false;       // an [audit] table is present
  std::string dir;            // log directory (${config_dir}, ${out_dir} expanded later)
  std::string signing_key;    // Ed25519 private key, PKCS#8 PEM (datacustoms audit keygen)
  std::string hmac_key_file;  // secret for keyed hashes of sensitive values
  uint64_t checkpoint_every_records = 1000;
  uint32_t checkpoint_interval_s = 60;
  uint64_t max_file_mb = 64;
  uint64_t fsync_every_records = 0;
  uint32_t fsync_interval_ms = 1000;
  uint32_t ring_size = 16384;  // power of two
  uint32_t evidence_packets_per_flow = 32;
  uint64_t evidence_max_mb = 1024;
  // Record before release: border payload waits for the flow's fsynced flow_open record.
  bool record_before_release = true;
  uint32_t hold_ms = 500;           // longest wait; then the flow meets audit_unavailable
  uint32_t hold_packets = 1024;     // per worker and ingress port
  uint32_t update_interval_s = 60;  // flow_update records of long border flows (0: none)
  // fsyncs on the log writer's commit thread (asynchronous group commit); false: on the writer's
  // own thread, which then drains nothing while the disk answers (the behaviour before).
  bool background_sync = true;
  WitnessConfig witness;
  int line = 0;
};

// [tls]: the key intake socket (appliance/key_intake.hpp; docs/security.md).
struct TlsConfig {
  std::string key_socket;         // empty: no key intake (${config_dir}, ${out_dir} expanded later)
  int64_t key_socket_owner = -1;  // uid; -1: the process's own
  int64_t key_socket_group = -1;  // gid; -1: the process's own
  uint32_t key_socket_mode = 0660;
  std::vector<uint32_t> key_allowed_uids;  // empty: whoever the socket's mode lets in
  uint32_t key_max_clients = 16;
  uint32_t key_queue_size = 4096;  // keys waiting per worker (hand-off ring)
  int line = 0;
};

// [accounting]: customs accounting on this appliance (docs/accounting.md). The policy's
// [accounting] section switches it on; this names the site's key, the fast path's bounds and
// where the distinct-person counts live (audit/person_store_backends.hpp, docs/scale-out.md).
struct AccountingConfig {
  std::string key_file;       // 32 bytes (datacustoms accounting keygen); relative: to this file
  uint32_t ring_size = 4096;  // claims (and answers) in flight per worker
  // The LMDB store's directory. Default: "accounting" beside the audit log's directory
  // (/var/lib/datacustoms/accounting); empty when neither is known (then counts stay in memory).
  std::string state_dir;
  std::string redis;  // "host:port": the site's shared Redis; empty: this appliance alone
  uint32_t redis_timeout_ms = 200;
  bool count_locally = false;  // site_unavailable = "count_locally" (default "block")
  int line = 0;
};

struct ApplianceConfig {
  std::string path;  // the file it came from
  std::string dir;   // its directory (for ${config_dir})
  // [eal]
  std::vector<std::string> eal_args;  // extra EAL arguments (e.g. --no-huge, -m 512, --no-shconf)
  unsigned main_lcore = 0;
  // [eal] workers, [memory], [flows], [inspect] and [dataplane] settings go straight into the
  // dataplane's own configuration. Its `ports` stay empty here: `run` fills them in (devices
  // expanded, zones resolved against the policy).
  dataplane::DataplaneConfig dataplane;
  // [dataplane]
  std::string policy;  // path of the compliance policy (relative paths: to this file)
  AuditConfig audit;
  TlsConfig tls;
  AccountingConfig accounting;
  // [metrics]
  std::string metrics_listen;     // "127.0.0.1:9464": Prometheus GET /metrics; empty: off
  std::string metrics_auth_file;  // htpasswd-style user:crypt-hash lines; empty: no auth
  // [[ports]] and pairs
  std::vector<PortConfig> ports;
  std::vector<std::pair<size_t, size_t>> pairs;  // indexes into ports
  // Every key's position, by its dotted path (tables and arrays of tables two levels deep).
  std::map<std::string, KeyPosition> positions;
};

// Parses and validates `path`. On failure the Result holds a summary and `diags` every problem;
// `partial`, when given, then gets what did load (when the file is TOML at all), with
// `*partial_loaded` set, so that `config check` can still check the policy it names.
Result<ApplianceConfig> load_appliance_config(const std::string& path,
                                              std::vector<Diagnostic>& diags,
                                              ApplianceConfig* partial = nullptr,
                                              bool* partial_loaded = nullptr);

// Expands ${config_dir} and ${out_dir} in a device string.
std::string expand_device(const std::string& device, const std::string& config_dir,
                          const std::string& out_dir);

}  // namespace dc::appliance
