// Loading and checking appliance.toml (appliance/config.hpp).
#include "appliance/config.hpp"

#include <grp.h>
#include <pwd.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

#include "base/file.hpp"
#include "policy/loader.hpp"

namespace dc::appliance {

std::string Diagnostic::str() const {
  std::string where = line > 0 ? ":" + std::to_string(line) + ":" + std::to_string(column) : "";
  return file + where + ": " + (error ? "error: " : "warning: ") + message;
}

std::string expand_device(const std::string& device, const std::string& config_dir,
                          const std::string& out_dir) {
  std::string s = device;
  auto replace_all = [&](std::string_view from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  };
  replace_all("${config_dir}", config_dir);
  replace_all("${out_dir}", out_dir);
  return s;
}

namespace {

class Loader {
 public:
  Loader(std::string file, std::vector<Diagnostic>& diags)
      : file_(std::move(file)), diags_(diags) {}

  void error(const toml::source_region& src, std::string msg) {
    diags_.push_back(Diagnostic{file_, static_cast<int>(src.begin.line),
                                static_cast<int>(src.begin.column), true, std::move(msg)});
  }
  void error_at(const toml::node& n, std::string msg) { error(n.source(), std::move(msg)); }

  // Rejects keys that are not in `known`, so typos never silently fall back to defaults.
  void check_keys(const toml::table& t, std::initializer_list<std::string_view> known,
                  std::string_view where) {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (auto kn : known) ok |= (k.str() == kn);
      if (!ok) {
        std::string expected;
        for (auto kn : known) expected += (expected.empty() ? "" : ", ") + std::string(kn);
        std::string hint;
        if (k.str() == "pairs" || k.str() == "ports")
          hint = "; top-level keys such as 'pairs' must come before the first [table]";
        error(k.source(), "unknown key '" + std::string(k.str()) + "' in " + std::string(where) +
                              " (expected: " + expected + ")" + hint);
      }
    }
  }

  template <class T>
  void get_uint(const toml::table& t, std::string_view key, T& out, uint64_t min, uint64_t max) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v) {
      error_at(*n, "'" + std::string(key) + "' must be an integer");
      return;
    }
    if (*v < 0 || static_cast<uint64_t>(*v) < min || static_cast<uint64_t>(*v) > max) {
      error_at(*n, "'" + std::string(key) + "' = " + std::to_string(*v) + " is out of range [" +
                       std::to_string(min) + ", " + std::to_string(max) + "]");
      return;
    }
    out = static_cast<T>(*v);
  }

  void get_seconds(const toml::table& t, std::string_view key, int64_t& out_ns) {
    uint64_t s = static_cast<uint64_t>(out_ns / 1'000'000'000);
    get_uint(t, key, s, 1, 7 * 24 * 3600);
    out_ns = static_cast<int64_t>(s) * 1'000'000'000;
  }

  void get_string(const toml::table& t, std::string_view key, std::string& out, bool required,
                  const toml::node& owner) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) error_at(owner, "missing required key '" + std::string(key) + "'");
      return;
    }
    if (!n->is_string()) {
      error_at(*n, "'" + std::string(key) + "' must be a string");
      return;
    }
    out = *n->value<std::string>();
    if (required && out.empty()) error_at(*n, "'" + std::string(key) + "' must not be empty");
  }

  const toml::table* get_table(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) {
      error_at(*n, "'" + std::string(key) + "' must be a table ([" + std::string(key) + "])");
      return nullptr;
    }
    return n->as_table();
  }

  void load(const toml::table& root, ApplianceConfig& c) {
    check_keys(root,
               {"eal", "memory", "flows", "inspect", "dataplane", "audit", "metrics", "tls",
                "accounting", "ports", "pairs"},
               "the top level");
    if (const auto* t = get_table(root, "eal")) load_eal(*t, c);
    auto& w = c.dataplane.worker_lcores;
    if (w.empty()) w.push_back(c.main_lcore != 1 ? 1 : 0);
    if (const auto* t = get_table(root, "memory")) load_memory(*t, c.dataplane);
    if (const auto* t = get_table(root, "flows")) load_flows(*t, c.dataplane);
    if (const auto* t = get_table(root, "inspect")) {
      check_keys(*t,
                 {"flows", "idle_return_s", "decode_arena_mb", "decode_memory_mb",
                  "decode_max_output_mb", "decode_max_ratio"},
                 "[inspect]");
      // Each inspected flow costs ~10 KiB per worker at start-up (two Hyperscan streams, two
      // reorder windows): 2^20 is already ~10 GiB a worker.
      get_uint(*t, "flows", c.dataplane.pipeline.inspect_flows, 0, 1u << 20);
      // Idle inspected flows return their context after this many seconds (0: never).
      uint32_t idle_s = static_cast<uint32_t>(c.dataplane.pipeline.inspect_idle_ns / 1'000'000'000);
      get_uint(*t, "idle_return_s", idle_s, 0, 7 * 24 * 3600);
      c.dataplane.pipeline.inspect_idle_ns = static_cast<int64_t>(idle_s) * 1'000'000'000;
      load_decode(*t, c.dataplane.pipeline.decode);
    }
    if (const auto* t = get_table(root, "metrics")) {
      check_keys(*t, {"listen", "auth_file"}, "[metrics]");
      get_string(*t, "listen", c.metrics_listen, true, *t);
      get_string(*t, "auth_file", c.metrics_auth_file, false, *t);
    }
    if (const auto* t = get_table(root, "audit")) load_audit(*t, c.audit);
    if (const auto* t = get_table(root, "tls")) load_tls(*t, c.tls, c.dataplane.pipeline);
    if (const auto* t = get_table(root, "accounting"))
      load_accounting(*t, c.accounting, c.dataplane.pipeline);
    if (const auto* t = get_table(root, "dataplane")) load_dataplane(*t, c);
    load_ports(root, c);
    load_pairs(root, c);
    if (c.dataplane.mbuf_cache > c.dataplane.mbufs / 1.5)
      diags_.push_back(Diagnostic{file_, 1, 1, true, "mbuf_cache must be at most mbufs / 1.5"});
    record_positions(root, "", c.positions, 0);
  }

  // Every key's position by dotted path ("eal.args", "eal.args.0", "ports.1.device").
  static void record_positions(const toml::node& n, const std::string& prefix,
                               std::map<std::string, KeyPosition>& out, int depth) {
    auto put = [&](const std::string& key, const toml::node& v) {
      out[key] = KeyPosition{static_cast<int>(v.source().begin.line),
                             static_cast<int>(v.source().begin.column)};
      if (depth < 3) record_positions(v, key + ".", out, depth + 1);
    };
    if (const auto* t = n.as_table()) {
      for (const auto& [k, v] : *t) put(prefix + std::string(k.str()), v);
    } else if (const auto* a = n.as_array()) {
      for (size_t i = 0; i < a->size(); ++i) put(prefix + std::to_string(i), *a->get(i));
    }
  }

 private:
  // The HTTP decoding layer's limits ([inspect] decode_*; docs/operations.md).
  void load_decode(const toml::table& t, inspect::decoding::DecodeLimits& d) {
    uint64_t arena_mb = d.arena_bytes >> 20, memory_mb = d.decoder_memory >> 20;
    uint64_t output_mb = d.max_output >> 20;
    get_uint(t, "decode_arena_mb", arena_mb, 1, 2048);  // per worker, allocated at start-up
    get_uint(t, "decode_memory_mb", memory_mb, 1, 2048);
    get_uint(t, "decode_max_output_mb", output_mb, 1, 1u << 20);
    get_uint(t, "decode_max_ratio", d.max_ratio, 2, 1000000);
    if (memory_mb > arena_mb) {
      const toml::node* n = t.get("decode_memory_mb");
      if (n == nullptr) n = t.get("decode_arena_mb");
      error_at(*n, "decode_memory_mb (one decoder) must be at most decode_arena_mb (" +
                       std::to_string(arena_mb) + ")");
    }
    d.arena_bytes = static_cast<std::size_t>(arena_mb) << 20;
    d.decoder_memory = static_cast<std::size_t>(memory_mb) << 20;
    d.max_output = output_mb << 20;
  }

  void load_eal(const toml::table& eal, ApplianceConfig& c) {
    check_keys(eal, {"args", "main_lcore", "workers"}, "[eal]");
    if (const toml::node* a = eal.get("args")) {
      if (!a->is_array()) {
        error_at(*a, "'args' must be an array of strings");
      } else {
        for (const auto& e : *a->as_array()) {
          if (!e.is_string())
            error_at(e, "EAL argument must be a string");
          else
            c.eal_args.push_back(*e.value<std::string>());
        }
      }
    }
    get_uint(eal, "main_lcore", c.main_lcore, 0, 1023);
    const toml::node* w = eal.get("workers");
    if (w == nullptr) return;
    if (!w->is_array() || w->as_array()->empty()) {
      error_at(*w, "'workers' must be a non-empty array of lcore ids");
      return;
    }
    std::set<int64_t> seen;
    for (const auto& e : *w->as_array()) {
      auto v = e.value<int64_t>();
      if (!e.is_integer() || !v || *v < 0 || *v > 1023) {
        error_at(e, "worker lcore must be an integer in [0, 1023]");
      } else if (static_cast<unsigned>(*v) == c.main_lcore) {
        error_at(e, "worker lcore " + std::to_string(*v) +
                        " is the main lcore (the control thread runs there)");
      } else if (!seen.insert(*v).second) {
        error_at(e, "worker lcore " + std::to_string(*v) + " listed twice");
      } else {
        c.dataplane.worker_lcores.push_back(static_cast<unsigned>(*v));
      }
    }
  }

  void load_memory(const toml::table& m, dataplane::DataplaneConfig& d) {
    check_keys(m, {"mbufs", "mbuf_cache", "rx_descriptors", "tx_descriptors", "burst"}, "[memory]");
    get_uint(m, "mbufs", d.mbufs, 511, 16u << 20);
    get_uint(m, "mbuf_cache", d.mbuf_cache, 0, 512);
    get_uint(m, "rx_descriptors", d.rx_descriptors, 64, 16384);
    get_uint(m, "tx_descriptors", d.tx_descriptors, 64, 16384);
    get_uint(m, "burst", d.burst, 1, 256);
  }

  void load_flows(const toml::table& f, dataplane::DataplaneConfig& d) {
    check_keys(f,
               {"capacity", "expiry_budget", "tcp_syn_timeout_s", "tcp_established_timeout_s",
                "tcp_closing_timeout_s", "tcp_closed_timeout_s", "udp_timeout_s", "icmp_timeout_s",
                "other_timeout_s"},
               "[flows]");
    get_uint(f, "capacity", d.flow_capacity, 8, 1u << 26);
    get_uint(f, "expiry_budget", d.pipeline.expiry_budget, 1, 1u << 20);
    get_seconds(f, "tcp_syn_timeout_s", d.timeouts.tcp_syn_ns);
    get_seconds(f, "tcp_established_timeout_s", d.timeouts.tcp_established_ns);
    get_seconds(f, "tcp_closing_timeout_s", d.timeouts.tcp_closing_ns);
    get_seconds(f, "tcp_closed_timeout_s", d.timeouts.tcp_closed_ns);
    get_seconds(f, "udp_timeout_s", d.timeouts.udp_ns);
    get_seconds(f, "icmp_timeout_s", d.timeouts.icmp_ns);
    get_seconds(f, "other_timeout_s", d.timeouts.other_ns);
  }

  void load_audit(const toml::table& a, AuditConfig& ac) {
    check_keys(
        a,
        {"dir", "signing_key", "hmac_key_file", "checkpoint_every_records", "checkpoint_interval_s",
         "max_file_mb", "fsync_every_records", "fsync_interval_ms", "ring_size",
         "evidence_packets_per_flow", "evidence_max_mb", "witness", "record_before_release",
         "hold_ms", "hold_packets", "update_interval_s", "background_sync"},
        "[audit]");
    ac.enabled = true;
    ac.line = static_cast<int>(a.source().begin.line);
    get_string(a, "dir", ac.dir, true, a);
    get_string(a, "signing_key", ac.signing_key, true, a);
    get_string(a, "hmac_key_file", ac.hmac_key_file, true, a);
    get_uint(a, "checkpoint_every_records", ac.checkpoint_every_records, 0, 1u << 30);
    get_uint(a, "checkpoint_interval_s", ac.checkpoint_interval_s, 0, 86400);
    get_uint(a, "max_file_mb", ac.max_file_mb, 0, 1u << 20);
    get_uint(a, "fsync_every_records", ac.fsync_every_records, 0, 1u << 30);
    get_uint(a, "fsync_interval_ms", ac.fsync_interval_ms, 0, 3'600'000);
    get_uint(a, "ring_size", ac.ring_size, 256, 1u << 24);
    if ((ac.ring_size & (ac.ring_size - 1)) != 0)
      error_at(*a.get("ring_size"), "'ring_size' must be a power of two");
    get_uint(a, "evidence_packets_per_flow", ac.evidence_packets_per_flow, 0, 100000);
    get_uint(a, "evidence_max_mb", ac.evidence_max_mb, 0, 1u << 24);
    if (const toml::node* n = a.get("record_before_release")) {
      if (!n->is_boolean())
        error_at(*n, "'record_before_release' must be true or false");
      else
        ac.record_before_release = *n->value<bool>();
    }
    get_uint(a, "hold_ms", ac.hold_ms, 1, 60'000);
    get_uint(a, "hold_packets", ac.hold_packets, 16, 1u << 20);
    get_uint(a, "update_interval_s", ac.update_interval_s, 0, 86'400);
    if (const toml::node* n = a.get("background_sync")) {
      if (!n->is_boolean())
        error_at(*n, "'background_sync' must be true or false");
      else
        ac.background_sync = *n->value<bool>();
    }
    if (const auto* t = get_table(a, "witness")) load_witness(*t, ac.witness);
  }

  void load_witness(const toml::table& t, WitnessConfig& w) {
    check_keys(t,
               {"file", "file_max_mb", "syslog", "redis", "redis_key", "redis_history",
                "redis_connect_timeout_ms", "redis_timeout_ms"},
               "[audit.witness]");
    w.line = static_cast<int>(t.source().begin.line);
    get_string(t, "file", w.file, false, t);
    get_uint(t, "file_max_mb", w.file_max_mb, 1, 64);  // `audit verify` reads at most 64 MiB
    if (const toml::node* n = t.get("syslog")) {
      if (!n->is_boolean())
        error_at(*n, "'syslog' must be true or false");
      else
        w.syslog = *n->value<bool>();
    }
    get_string(t, "redis", w.redis, false, t);
    if (!w.redis.empty() && !w.redis.starts_with("/") && !valid_host_port(w.redis))
      error_at(*t.get("redis"),
               "'redis' = \"" + w.redis + "\" is neither host:port nor a unix socket path");
    get_string(t, "redis_key", w.redis_key, false, t);
    if (w.redis_key.empty()) error_at(*t.get("redis_key"), "'redis_key' must not be empty");
    get_uint(t, "redis_history", w.redis_history, 1, 100000);
    // The publisher runs off the writer thread; the bounds keep a shutdown's final flush short.
    get_uint(t, "redis_connect_timeout_ms", w.redis_connect_timeout_ms, 10, 10000);
    get_uint(t, "redis_timeout_ms", w.redis_timeout_ms, 10, 10000);
  }

  // [accounting]: the person-digest key, how long exported bytes wait for their persons' count,
  // the hold and ring bounds, and the person stores (docs/accounting.md, docs/scale-out.md).
  void load_accounting(const toml::table& t, AccountingConfig& ac,
                       dataplane::PipelineSettings& ps) {
    check_keys(t,
               {"key_file", "decision_wait_ms", "hold_packets", "ring_size", "state_dir", "redis",
                "redis_timeout_ms", "site_unavailable"},
               "[accounting]");
    ac.line = static_cast<int>(t.source().begin.line);
    get_string(t, "key_file", ac.key_file, false, t);
    uint32_t wait_ms = static_cast<uint32_t>(ps.accounting_wait_ns / 1'000'000);
    get_uint(t, "decision_wait_ms", wait_ms, 1, 10'000);
    ps.accounting_wait_ns = int64_t{wait_ms} * 1'000'000;
    get_uint(t, "hold_packets", ps.accounting_hold_packets, 1, 1u << 16);
    get_uint(t, "ring_size", ac.ring_size, 64, 1u << 20);
    get_string(t, "state_dir", ac.state_dir, false, t);
    get_string(t, "redis", ac.redis, false, t);
    if (!ac.redis.empty() && !valid_host_port(ac.redis))
      error_at(*t.get("redis"), "'redis' = \"" + ac.redis + "\" is not host:port");
    get_uint(t, "redis_timeout_ms", ac.redis_timeout_ms, 10, 10000);
    std::string mode = "block";
    get_string(t, "site_unavailable", mode, false, t);
    if (mode != "block" && mode != "count_locally")
      error_at(*t.get("site_unavailable"),
               "unknown site_unavailable \"" + mode + "\" (expected: block, count_locally)");
    ac.count_locally = mode == "count_locally";
  }

  // [tls]: the key intake socket. Users and groups are resolved here, so a typo stops the start.
  void load_tls(const toml::table& t, TlsConfig& tc, dataplane::PipelineSettings& ps) {
    check_keys(t,
               {"key_socket", "key_socket_owner", "key_socket_group", "key_socket_mode",
                "key_allowed_uids", "key_max_clients", "key_queue_size", "key_wait_ms", "sessions",
                "hold_packets", "key_store", "key_ttl_s"},
               "[tls]");
    // Decryption in the workers (dataplane/tls_flow.hpp, tls_hold.cpp): per worker.
    uint32_t wait_ms = static_cast<uint32_t>(ps.tls_key_wait_ns / 1'000'000);
    get_uint(t, "key_wait_ms", wait_ms, 0, 60'000);
    ps.tls_key_wait_ns = int64_t{wait_ms} * 1'000'000;
    get_uint(t, "sessions", ps.tls_sessions, 0, 1u << 16);
    get_uint(t, "hold_packets", ps.tls_hold_packets, 1, 4096);
    get_uint(t, "key_store", ps.tls_key_store, 1, 1u << 20);
    get_seconds(t, "key_ttl_s", ps.tls_key_ttl_ns);
    tc.line = static_cast<int>(t.source().begin.line);
    get_string(t, "key_socket", tc.key_socket, true, t);
    if (const toml::node* n = t.get("key_socket_owner")) tc.key_socket_owner = user_id(*n, true);
    if (const toml::node* n = t.get("key_socket_group")) tc.key_socket_group = user_id(*n, false);
    if (const toml::node* n = t.get("key_socket_mode")) tc.key_socket_mode = socket_mode(*n);
    if (const toml::node* n = t.get("key_allowed_uids")) {
      if (!n->is_array()) error_at(*n, "'key_allowed_uids' must be an array of user names or uids");
      if (n->is_array())
        for (const auto& e : *n->as_array())
          if (int64_t id = user_id(e, true); id >= 0) tc.key_allowed_uids.push_back(uint32_t(id));
    }
    get_uint(t, "key_max_clients", tc.key_max_clients, 1, 1024);
    get_uint(t, "key_queue_size", tc.key_queue_size, 64, 1u << 20);
  }

  // A user (or group) given by name or number; -1 (with the error reported) when unknown.
  int64_t user_id(const toml::node& n, bool user) {
    const char* what = user ? "user" : "group";
    if (auto v = n.value<int64_t>(); n.is_integer() && v) {
      if (*v >= 0 && *v < 0xffffffffLL) return *v;
      error_at(n, std::string(what) + " id " + std::to_string(*v) + " is out of range");
      return -1;
    }
    if (!n.is_string()) {
      error_at(n, std::string("a ") + what + " must be a name or a numeric id");
      return -1;
    }
    std::string name = *n.value<std::string>();
    char buf[4096];
    if (user) {
      passwd pw{}, *res = nullptr;
      if (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &res) == 0 && res != nullptr)
        return res->pw_uid;
    } else {
      group gr{}, *res = nullptr;
      if (getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &res) == 0 && res != nullptr)
        return res->gr_gid;
    }
    error_at(n, "unknown " + std::string(what) + " '" + name + "'");
    return -1;
  }

  // "0660": an octal string, permission bits only, nothing for others (any local user could
  // escrow keys, or flood the intake).
  uint32_t socket_mode(const toml::node& n) {
    std::string m = n.is_string() ? *n.value<std::string>() : std::string();
    bool octal = (m.size() == 3 || m.size() == 4) &&
                 std::all_of(m.begin(), m.end(), [](char c) { return c >= '0' && c <= '7'; }) &&
                 (m.size() == 3 || m[0] == '0');
    if (!octal) {
      error_at(n, "'key_socket_mode' must be an octal string of permission bits such as \"0660\"");
      return 0660;
    }
    uint32_t mode = static_cast<uint32_t>(std::stoul(m, nullptr, 8));
    if ((mode & 07) != 0) {
      error_at(n, "key_socket_mode \"" + m +
                      "\" lets every local user write keys; give access to the owner and group "
                      "only (e.g. \"0660\")");
      return 0660;
    }
    return mode;
  }

  static bool valid_host_port(const std::string& s) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() ||
        s.size() - colon - 1 > 5)
      return false;
    std::string port = s.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    int p = std::stoi(port);
    return p >= 1 && p <= 65535;
  }

  // A two-way choice whose default is "drop": true when `key` is `other`; anything else is an
  // error quoting the value into `message` (at its %s).
  bool drop_or(const toml::table& d, const char* key, const std::string& other,
               const std::string& message) {
    std::string value = "drop";
    get_string(d, key, value, false, d);
    if (value == other) return true;
    if (value != "drop") {
      std::string m = message;
      m.replace(m.find("%s"), 2, value);
      error_at(*d.get(key), m);
    }
    return false;
  }

  // IP reassembly per worker: datagrams in flight (rte_ip_frag entries, 256 B each, up to 8
  // fragments + 8 pieces of mbufs each), reassembled datagrams alive (64 KiB each) and how long
  // an incomplete datagram may wait (docs/operations.md "IP reassembly").
  void load_reassembly(const toml::table& d, dataplane::ReassemblyConfig& r) {
    get_uint(d, "reassembly_datagrams", r.max_datagrams, 1, 1u << 20);
    get_uint(d, "reassembly_buffers", r.buffers, 1, 1u << 14);
    uint32_t ms = static_cast<uint32_t>(r.timeout_ns / 1'000'000);
    get_uint(d, "reassembly_timeout_ms", ms, 1, 120'000);
    r.timeout_ns = int64_t{ms} * 1'000'000;
  }

  void load_dataplane(const toml::table& d, ApplianceConfig& c) {
    check_keys(d,
               {"unknown_ethertype", "policy", "allow_without_policy", "block_action",
                "reassembly_datagrams", "reassembly_buffers", "reassembly_timeout_ms"},
               "[dataplane]");
    auto& ps = c.dataplane.pipeline;
    load_reassembly(d, ps.reassembly);
    ps.reset_on_block =
        drop_or(d, "block_action", "reset", "unknown block_action \"%s\" (expected: drop, reset)");
    ps.forward_unknown_ethertype =
        drop_or(d, "unknown_ethertype", "forward",
                "unknown action \"%s\" for unknown_ethertype (expected: drop, forward)");
    get_string(d, "policy", c.policy, false, d);
    if (const toml::node* n = d.get("allow_without_policy")) {
      if (!n->is_boolean())
        error_at(*n, "'allow_without_policy' must be true or false");
      else
        ps.allow_without_policy = *n->value<bool>();
    }
  }

  void load_ports(const toml::table& root, ApplianceConfig& c) {
    const toml::node* ports = root.get("ports");
    if (ports == nullptr) {
      diags_.push_back(
          Diagnostic{file_, 1, 1, true, "no [[ports]] defined (at least two are needed)"});
      return;
    }
    if (!ports->is_array_of_tables()) {
      error_at(*ports, "'ports' must be an array of tables ([[ports]])");
      return;
    }
    for (const auto& pn : *ports->as_array()) {
      const auto& pt = *pn.as_table();
      check_keys(pt, {"name", "device", "zone", "fcs"}, "[[ports]]");
      PortConfig p;
      p.line = static_cast<int>(pt.source().begin.line);
      get_string(pt, "name", p.name, true, pt);
      get_string(pt, "device", p.device, true, pt);
      get_string(pt, "zone", p.zone, true, pt);
      std::string fcs = "none";
      get_string(pt, "fcs", fcs, false, pt);
      if (fcs != "none" && fcs != "strip")
        error_at(*pt.get("fcs"), "fcs must be \"strip\" or \"none\", not \"" + fcs + "\"");
      p.fcs_strip = fcs == "strip";
      for (const auto& q : c.ports) {
        if (!p.name.empty() && q.name == p.name)
          error_at(*pt.get("name"), "port name '" + p.name + "' defined twice (first on line " +
                                        std::to_string(q.line) + ")");
        if (!p.device.empty() && q.device == p.device)
          error_at(*pt.get("device"), "device '" + p.device + "' used by two ports");
      }
      c.ports.push_back(std::move(p));
    }
  }

  // One pair's two port indexes; false (with the error reported) when it names no valid pair.
  bool pair_indexes(const toml::node& e, const ApplianceConfig& c, size_t (&idx)[2]) {
    const auto* arr = e.as_array();
    if (arr == nullptr || arr->size() != 2 || !(*arr)[0].is_string() || !(*arr)[1].is_string()) {
      error_at(e, "a pair must be two port names, e.g. [\"inside\", \"outside\"]");
      return false;
    }
    for (int k = 0; k < 2; ++k) {
      idx[k] = SIZE_MAX;
      std::string n = *(*arr)[k].value<std::string>();
      for (size_t i = 0; i < c.ports.size(); ++i)
        if (c.ports[i].name == n) idx[k] = i;
      if (idx[k] == SIZE_MAX) error_at((*arr)[k], "unknown port '" + n + "' in pair");
    }
    if (idx[0] == SIZE_MAX || idx[1] == SIZE_MAX) return false;
    if (idx[0] == idx[1]) {
      error_at(e, "a port cannot be paired with itself");
      return false;
    }
    return true;
  }

  // A pair is ["a", "b"] or { ports = ["a", "b"], pass_arp = bool, pass_nd = bool }: the port
  // names' node, with the pass-through options read.
  const toml::node& pair_ports(const toml::node& e, bool& arp, bool& nd) {
    const auto* t = e.as_table();
    if (t == nullptr) return e;
    check_keys(*t, {"ports", "pass_arp", "pass_nd"}, "pair");
    for (auto [key, flag] : {std::pair{"pass_arp", &arp}, std::pair{"pass_nd", &nd}}) {
      const toml::node* n = t->get(key);
      if (n != nullptr && !n->is_boolean())
        error_at(*n, std::string(key) + " must be true or false");
      else if (n != nullptr)
        *flag = *n->value<bool>();
    }
    const toml::node* ports = t->get("ports");
    return ports != nullptr ? *ports : e;
  }

  void load_pairs(const toml::table& root, ApplianceConfig& c) {
    const toml::node* pairs = root.get("pairs");
    if (pairs == nullptr) {
      diags_.push_back(Diagnostic{file_, 1, 1, true,
                                  "no 'pairs' defined (e.g. pairs = [[\"inside\", \"outside\"]])"});
      return;
    }
    if (!pairs->is_array()) {
      error_at(*pairs, "'pairs' must be an array of [port, port] arrays");
      return;
    }
    std::vector<int> used(c.ports.size(), 0);
    for (const auto& e : *pairs->as_array()) {
      size_t idx[2];
      bool arp = false, nd = false;
      if (!pair_indexes(pair_ports(e, arp, nd), c, idx)) continue;
      for (size_t k : idx) {
        c.ports[k].pass_arp = arp;
        c.ports[k].pass_nd = nd;
      }
      bool dup = false;
      for (size_t k : idx) {
        if (used[k]++) {
          error_at(e, "port '" + c.ports[k].name + "' is already in another pair");
          dup = true;
        }
      }
      if (!dup) c.pairs.emplace_back(idx[0], idx[1]);
    }
    for (size_t i = 0; i < c.ports.size(); ++i)
      if (!used[i])
        diags_.push_back(Diagnostic{file_, c.ports[i].line, 1, true,
                                    "port '" + c.ports[i].name +
                                        "' is not in any pair (every port is one side of a wire)"});
  }

  std::string file_;
  std::vector<Diagnostic>& diags_;
};

}  // namespace

Result<ApplianceConfig> load_appliance_config(const std::string& path,
                                              std::vector<Diagnostic>& diags,
                                              ApplianceConfig* partial, bool* partial_loaded) {
  size_t before = diags.size();
  auto read = base::read_file(path, {.max_bytes = base::kMaxPolicyBytes});
  if (!read) {
    diags.push_back(Diagnostic{path, 1, 1, true, read.error().message});
    return make_error(read.error().code, path + ": cannot load configuration");
  }
  const std::string text = std::move(*read);
  // Same guard as the policy loader: toml++ 3.3.0 has undefined behaviour on non-ASCII bytes
  // where it expects whitespace; TOML allows non-ASCII only in strings and comments.
  if (auto bad = policy::find_non_ascii_outside_strings(text)) {
    diags.push_back(Diagnostic{path, static_cast<int>(bad->line), static_cast<int>(bad->column),
                               true, "non-ASCII character outside a string or comment"});
    return make_error(path + ": cannot load configuration");
  }
  toml::parse_result parsed = toml::parse(text, path);
  if (!parsed) {
    const auto& err = parsed.error();
    diags.push_back(Diagnostic{path, static_cast<int>(err.source().begin.line),
                               static_cast<int>(err.source().begin.column), true,
                               std::string(err.description())});
    return make_error(path + ": cannot load configuration");
  }
  ApplianceConfig c;
  c.path = path;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  c.dir = abs.parent_path().string();
  Loader(path, diags).load(parsed.table(), c);
  std::stable_sort(diags.begin() + static_cast<std::ptrdiff_t>(before), diags.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  auto rel = [&](std::string& p) {
    if (!p.empty() && p.find("${") == std::string::npos && std::filesystem::path(p).is_relative())
      p = (std::filesystem::path(c.dir) / p).lexically_normal().string();
  };
  rel(c.policy);
  rel(c.audit.dir);
  rel(c.audit.signing_key);
  rel(c.audit.hmac_key_file);
  rel(c.audit.witness.file);
  rel(c.tls.key_socket);
  rel(c.metrics_auth_file);
  if (c.accounting.state_dir.empty() && !c.audit.dir.empty()) {
    std::string d = c.audit.dir;  // "accounting" beside the audit log's directory
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    c.accounting.state_dir =
        (std::filesystem::path(d).lexically_normal().parent_path() / "accounting").string();
  }
  rel(c.accounting.state_dir);
  if (partial != nullptr) {
    *partial = c;
    if (partial_loaded != nullptr) *partial_loaded = true;
  }
  size_t errors = 0;
  for (size_t i = before; i < diags.size(); ++i) errors += diags[i].error;
  if (errors > 0)
    return make_error(path + ": " + std::to_string(errors) + " error(s) in configuration");
  if (!c.audit.witness.file.empty() && c.audit.dir.find("${") == std::string::npos &&
      c.audit.witness.file.find("${") == std::string::npos) {
    // A witness inside the log directory goes wherever the log goes: it would prove nothing.
    auto dir = std::filesystem::path(c.audit.dir).lexically_normal();
    auto file = std::filesystem::path(c.audit.witness.file).lexically_normal();
    auto rel_path = file.lexically_relative(dir);
    if (!rel_path.empty() && *rel_path.begin() != "..") {
      diags.push_back(Diagnostic{path, c.audit.witness.line, 1, true,
                                 "[audit.witness] file " + c.audit.witness.file +
                                     " is inside the audit log directory; a witness must be "
                                     "kept elsewhere (ideally on another mount)"});
      return make_error(path + ": 1 error(s) in configuration");
    }
  }
  return c;
}

}  // namespace dc::appliance
