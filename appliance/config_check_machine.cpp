// `config check`: EAL arguments, CPUs, DPDK memory and devices against this machine
// (appliance/config_check_parts.hpp). Reads /sys and /proc only; never starts EAL.
#include <rte_config.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

#include "appliance/config_check_parts.hpp"
#include "audit/flow_outcome.hpp"
#include "dataplane/audit_channel.hpp"
#include "dataplane/flow.hpp"
#include "policy/diagnostics.hpp"

namespace dc::appliance::check {
namespace {

namespace fs = std::filesystem;

// DPDK 22.11 EAL options (lib/eal/common/eal_common_options.c): long ones and whether they take
// a value (2: only as --name=VALUE), and the short ones with a value.
constexpr std::array<std::pair<std::string_view, int>, 37> kLongOptions{{
    {"allow", 1},
    {"base-virtaddr", 1},
    {"block", 1},
    {"create-uio-dev", 0},
    {"file-prefix", 1},
    {"force-max-simd-bitwidth", 1},
    {"help", 0},
    {"huge-dir", 1},
    {"huge-unlink", 2},
    {"huge-worker-stack", 2},
    {"in-memory", 0},
    {"iova-mode", 1},
    {"lcores", 1},
    {"legacy-mem", 0},
    {"log-level", 1},
    {"main-lcore", 1},
    {"match-allocations", 0},
    {"mbuf-pool-ops-name", 1},
    {"no-hpet", 0},
    {"no-huge", 0},
    {"no-pci", 0},
    {"no-shconf", 0},
    {"no-telemetry", 0},
    {"proc-type", 1},
    {"single-file-segments", 0},
    {"socket-limit", 1},
    {"socket-mem", 1},
    {"syslog", 2},
    {"telemetry", 0},
    {"trace", 1},
    {"trace-bufsz", 1},
    {"trace-dir", 1},
    {"trace-mode", 1},
    {"vdev", 1},
    {"vfio-intr", 1},
    {"vfio-vf-token", 1},
    {"vmware-tsc-map", 0},
}};
constexpr std::string_view kShortWithValue = "abcdlmnrsS";
constexpr std::string_view kShortAlone = "hv";

// What the EAL arguments say about memory, devices and cores.
struct EalView {
  bool no_pci = false, no_huge = false, lcore_map = false;
  std::optional<uint64_t> mem_mb;  // -m or the sum of --socket-mem
};

uint64_t sum_mb(const std::string& v) {
  uint64_t total = 0;
  for (size_t p = 0; p <= v.size();) {
    size_t comma = v.find(',', p);
    if (comma == std::string::npos) comma = v.size();
    total += std::strtoull(v.substr(p, comma - p).c_str(), nullptr, 10);
    p = comma + 1;
  }
  return total;
}

void note_value(EalView& v, std::string_view opt, const std::string& value) {
  if (opt == "m") v.mem_mb = std::strtoull(value.c_str(), nullptr, 10);
  if (opt == "socket-mem") v.mem_mb = sum_mb(value);
}

void note_flag(EalView& v, std::string_view opt) {
  v.no_pci |= opt == "no-pci";
  v.no_huge |= opt == "no-huge";
  v.lcore_map |= opt == "lcores";
}

// One "--name[=value]" option; sets `takes_next` when its value is the next argument.
void long_option(Context& c, const std::string& key, const std::string& a, const std::string* next,
                 EalView& v, bool& takes_next) {
  std::string name =
      a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
  auto it = std::find_if(kLongOptions.begin(), kLongOptions.end(),
                         [&](const auto& o) { return o.first == name; });
  if (it == kLongOptions.end()) {
    std::vector<std::string> names;
    for (const auto& o : kLongOptions) names.emplace_back(o.first);
    std::string near = policy::closest_match(name, names);
    c.error(key, "unknown EAL option '--" + name + "' (EAL would print its usage and stop)",
            near.empty() ? "remove it (dpdk-testpmd --help lists EAL's options)"
                         : "did you mean '--" + near + "'?");
    return;
  }
  if (name == "help")
    c.error(key, "'--help' makes EAL print its usage and the appliance exit without running",
            "remove it from [eal] args");
  if (name == "main-lcore")
    c.error(key, "'--" + name + "' is set by the appliance from [eal] main_lcore",
            "remove it and write main_lcore = N in [eal]");
  note_flag(v, name);
  bool inline_value = a.find('=') != std::string::npos;
  if (it->second == 1 && !inline_value) {
    if (next == nullptr) {
      c.error(key, "EAL option '--" + name + "' needs a value", "--" + name + "=VALUE");
      return;
    }
    takes_next = true;
    note_value(v, name, *next);
  } else if (inline_value) {
    note_value(v, name, a.substr(a.find('=') + 1));
  }
}

void short_option(Context& c, const std::string& key, const std::string& a, const std::string* next,
                  EalView& v, bool& takes_next) {
  std::string_view opt(a.data() + 1, 1);
  if (kShortAlone.find(opt) != std::string_view::npos) {
    if (opt == "h")
      c.error(key, "'-h' makes EAL print its usage and the appliance exit without running",
              "remove it from [eal] args");
    return;
  }
  if (kShortWithValue.find(opt) == std::string_view::npos) {
    c.error(key, "unknown EAL option '" + a + "' (EAL would print its usage and stop)",
            "remove it (dpdk-testpmd --help lists EAL's options)");
    return;
  }
  if (opt == "l" || opt == "c")
    c.error(key, "'-" + std::string(opt) + "' is set by the appliance from [eal] workers",
            "remove it and list the worker lcores in [eal] workers (a CPU mapping: "
            "--lcores=0@0,1@1)");
  if (a.size() > 2) {
    note_value(v, opt, a.substr(2));
  } else if (next != nullptr) {
    takes_next = true;
    note_value(v, opt, *next);
  } else {
    c.error(key, "EAL option '" + a + "' needs a value", "write the value after it");
  }
}

// Walks the arguments; reports problems when `report` (the view alone otherwise).
EalView read_eal(Context& c, bool report) {
  std::vector<Diagnostic> sink;
  Context quiet(c.cfg, c.opt, sink);
  Context& to = report ? c : quiet;
  EalView v;
  auto args = c.eal_args();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string key = i < c.cfg.eal_args.size() ? "eal.args." + std::to_string(i) : "";
    const std::string* next = i + 1 < args.size() ? &args[i + 1] : nullptr;
    bool takes_next = false;
    if (a.starts_with("--"))
      long_option(to, key, a, next, v, takes_next);
    else if (a.size() >= 2 && a[0] == '-')
      short_option(to, key, a, next, v, takes_next);
    else
      to.error(key, "'" + a + "' is not an EAL option", "EAL arguments are options ('--name')");
    if (takes_next) ++i;
  }
  return v;
}

std::string cpu_list(const cpu_set_t& set) {
  std::string s;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    s += (s.empty() ? "" : ",") + std::to_string(cpu) +
         (last > cpu ? "-" + std::to_string(last) : "");
    cpu = last;
  }
  return s;
}

uint64_t read_number(const fs::path& p) {
  std::ifstream f(p);
  uint64_t n = 0;
  f >> n;
  return n;
}

// Free hugepage memory in MiB, over every page size.
uint64_t free_hugepage_mb(uint64_t& reserved_mb) {
  uint64_t free_mb = 0;
  reserved_mb = 0;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
    std::string name = d.path().filename().string();  // hugepages-2048kB
    uint64_t kb = std::strtoull(name.c_str() + name.find('-') + 1, nullptr, 10);
    free_mb += read_number(d.path() / "free_hugepages") * kb / 1024;
    reserved_mb += read_number(d.path() / "nr_hugepages") * kb / 1024;
  }
  return free_mb;
}

// DPDK memory the appliance allocates at start-up, in bytes (pools, rings, flow tables).
uint64_t dpdk_bytes(const ApplianceConfig& cfg) {
  constexpr uint64_t kMbuf = 2176 + 128 + 64;  // data room + struct rte_mbuf + mempool header
  constexpr uint64_t kHashEntry = 96;          // rte_hash key slot, bucket and ext-table share
  const auto& d = cfg.dataplane;
  uint64_t workers = d.worker_lcores.size();
  uint64_t b = uint64_t{d.mbufs} * kMbuf;
  b += workers * d.flow_capacity *
       (sizeof(dataplane::Flow) + sizeof(dataplane::FlowCold) + kHashEntry);
  b += workers * d.pipeline.reassembly.max_datagrams * 256;
  if (cfg.audit.enabled) {
    uint64_t half = cfg.audit.ring_size / 2;
    b += uint64_t{cfg.audit.ring_size} * 32 + half * (sizeof(audit::FlowOutcome) + 64);
    if (cfg.audit.evidence_packets_per_flow > 0)
      b += dataplane::evidence_ring_memory(dataplane::evidence_bytes_for(cfg.audit.ring_size),
                                           workers);
  }
  return b;
}

std::string pci_name(const std::string& dev) {
  unsigned a, b, c, d;
  char buf[32];
  if (std::sscanf(dev.c_str(), "%x:%x:%x.%x", &a, &b, &c, &d) == 4) {
    std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", a, b, c, d);
    return buf;
  }
  if (std::sscanf(dev.c_str(), "%x:%x.%x", &b, &c, &d) == 3) {
    std::snprintf(buf, sizeof buf, "0000:%02x:%02x.%x", b, c, d);
    return buf;
  }
  return {};
}

void pci_device(Context& c, const std::string& key, const PortConfig& p, const std::string& addr,
                const EalView& v) {
  if (v.no_pci) {
    c.error(key,
            "port '" + p.name + "': device '" + p.device +
                "' is a PCI address, but [eal] args has --no-pci (EAL then probes no PCI device)",
            "remove --no-pci from [eal] args, or use a virtual device "
            "(\"net_af_packet0,iface=eth1\")");
    return;
  }
  fs::path sys = fs::path("/sys/bus/pci/devices") / addr;
  std::error_code ec;
  if (!fs::exists(sys, ec)) {
    c.error(key, "port '" + p.name + "': no PCI device " + addr + " on this machine",
            "lspci -D lists the machine's devices (dpdk-devbind.py --status, the network ones)");
    return;
  }
  std::string driver = fs::read_symlink(sys / "driver", ec).filename().string();
  std::ifstream vf(sys / "vendor");
  std::string vendor;
  vf >> vendor;
  bool mellanox = vendor == "0x15b3";  // mlx5: bifurcated, stays on its kernel driver
  if (mellanox || driver == "vfio-pci" || driver == "uio_pci_generic" || driver == "igb_uio")
    return;
  c.error(key,
          "port '" + p.name + "': PCI device " + addr +
              (driver.empty() ? " has no driver bound"
                              : " is bound to kernel driver '" + driver + "'") +
              "; DPDK cannot use it",
          "modprobe vfio-pci && dpdk-devbind.py --bind=vfio-pci " + addr);
}

void vdev_device(Context& c, const std::string& key, const PortConfig& p, const std::string& dev) {
  std::error_code ec;
  std::string out_dir = fs::absolute(c.opt.out_dir, ec).lexically_normal().string();
  for (size_t pos = dev.find(','); pos != std::string::npos;) {
    size_t end = dev.find(',', pos + 1);
    std::string kv = dev.substr(pos + 1, end == std::string::npos ? end : end - pos - 1);
    pos = end;
    std::string k = kv.substr(0, kv.find('=')), val = kv.substr(kv.find('=') + 1);
    if (kv.find('=') == std::string::npos) continue;
    std::string shown = Context::display(val);
    if (k == "rx_pcap" && (!fs::is_regular_file(val, ec) || ::access(val.c_str(), R_OK) != 0))
      c.error(key, "port '" + p.name + "': cannot read rx_pcap " + shown,
              "name an existing capture file (relative paths: use ${config_dir}/...)");
    if (k == "tx_pcap") {
      std::string parent = fs::absolute(val, ec).parent_path().lexically_normal().string();
      if (parent != out_dir && !fs::is_directory(parent, ec))
        c.error(key, "port '" + p.name + "': the directory of tx_pcap " + shown + " does not exist",
                "mkdir -p " + Context::display(parent));
    }
    if ((k == "iface" || k == "rx_iface" || k == "tx_iface" || k == "rx_iface_in") &&
        !fs::exists(fs::path("/sys/class/net") / val, ec))
      c.error(key, "port '" + p.name + "': no network interface '" + val + "'",
              "ip -br link lists the interfaces");
  }
}

// Debian's DPDK loads its buses, its mempool handler and every poll-mode driver as plugins from
// RTE_EAL_PMD_PATH, so a missing one shows only when EAL starts ("failed to parse device
// 'net_null0'"): check the plugin files instead. A binary linked with DPDK's static libraries
// (DC_DPDK_STATIC, packaging/dpdk.cmake) has its drivers inside and loads no plugin directory:
// the build passes their names (DC_DPDK_LINKED_DRIVERS), and the same checks run against them.
// The package name is the file's, hyphenated, with the directory's ABI.
struct PluginDir {
  fs::path dir;                    // empty: the drivers linked into this binary
  std::string abi;                 // "23" from ".../pmds-23.0"
  std::vector<std::string> names;  // "net_null" for librte_net_null.so.23
};

std::optional<PluginDir> plugin_dir() {
#if defined(DC_DPDK_LINKED_DRIVERS)
  PluginDir d{};
  std::string_view list = DC_DPDK_LINKED_DRIVERS;
  while (!list.empty()) {
    size_t comma = list.find(',');
    d.names.emplace_back(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return d;
#elif defined(RTE_EAL_PMD_PATH)
  PluginDir d{RTE_EAL_PMD_PATH, "", {}};
  std::error_code ec;
  if (!fs::is_directory(d.dir, ec)) return std::nullopt;
  std::string base = d.dir.filename().string();  // pmds-23.0
  size_t dash = base.find('-');
  d.abi = dash == std::string::npos ? "" : base.substr(dash + 1, base.find('.') - dash - 1);
  for (const auto& e : fs::directory_iterator(d.dir, ec)) {
    std::string f = e.path().filename().string();
    if (f.rfind("librte_", 0) == 0 && f.find(".so") != std::string::npos)
      d.names.push_back(f.substr(7, f.find(".so") - 7));
  }
  return d;
#else
  return std::nullopt;
#endif
}

std::string plugin_package(const PluginDir& d, const std::string& name) {
  std::string pkg = "librte-" + name;
  std::replace(pkg.begin(), pkg.end(), '_', '-');
  if (!pkg.empty() && std::isdigit(static_cast<unsigned char>(pkg.back()))) pkg += '-';
  return pkg + d.abi;
}

// Where the drivers are, and how to add one, for the messages below.
std::string plugin_where(const PluginDir& d) {
  return d.dir.empty() ? std::string("this binary (DPDK linked statically)") : d.dir.string();
}
std::string plugin_fix(const PluginDir& d, const std::string& name) {
  if (d.dir.empty())
    return "rebuild datacustoms with it: cmake -DDC_DPDK_DRIVERS=\"...;" + name +
           "\" (or \"all\"), or with -DDC_DPDK_STATIC=OFF to use Debian's plugins "
           "(docs/operations.md \"DPDK drivers\")";
  return "apt install " + plugin_package(d, name);
}

// A virtual device's driver is the plugin whose name starts its device name (net_pcap0 ->
// net_pcap); DPDK's old eth_ aliases name the same net_ drivers.
void vdev_plugin(Context& c, const std::string& key, const PortConfig& p, const std::string& dev,
                 const PluginDir& d) {
  std::string name = dev.substr(0, dev.find(','));
  std::string canon = name.rfind("eth_", 0) == 0 ? "net_" + name.substr(4) : name;
  for (const auto& n : d.names)
    if (canon.rfind(n, 0) == 0) return;
  std::string drv = canon;
  while (!drv.empty() && std::isdigit(static_cast<unsigned char>(drv.back()))) drv.pop_back();
  c.error(key,
          "port '" + p.name + "': no DPDK driver for device '" + name + "' in " + plugin_where(d) +
              " (EAL would fail to parse it)",
          std::string("a typo in the driver name (net_pcap, net_af_packet, net_null, net_ring, "
                      "...)? If not, ") +
              (d.dir.empty() ? "" : "install its plugin: ") + plugin_fix(d, drv));
}

void required_plugins(Context& c, const PluginDir& d, bool vdevs, bool pcis) {
  std::vector<std::pair<std::string, bool>> need = {
      {"mempool_ring", true}, {"bus_vdev", vdevs}, {"bus_pci", pcis}};
  for (const auto& [n, needed] : need)
    if (needed && std::find(d.names.begin(), d.names.end(), n) == d.names.end())
      c.error("eal.args",
              "DPDK's " + n + (d.dir.empty() ? " driver is not in " : " plugin is missing from ") +
                  plugin_where(d),
              plugin_fix(d, n));
}

}  // namespace

void eal_args(Context& c) { read_eal(c, true); }

void cores(Context& c) {
  if (read_eal(c, false).lcore_map) return;  // --lcores maps lcores onto CPUs itself
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  std::string cpus = cpu_list(set);
  std::string hint = "use lcores among the CPUs " + cpus +
                     ", or map lcores onto CPUs with \"--lcores=0@0,1@1,2@1\" in [eal] args";
  const auto& cfg = c.cfg;
  if (!CPU_ISSET(cfg.main_lcore, &set))
    c.error("eal.main_lcore",
            "main lcore " + std::to_string(cfg.main_lcore) +
                ": no such CPU available to this process (CPUs: " + cpus + ")",
            hint);
  const auto& w = cfg.dataplane.worker_lcores;
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i] >= CPU_SETSIZE || !CPU_ISSET(w[i], &set))
      c.error("eal.workers." + std::to_string(i),
              "worker lcore " + std::to_string(w[i]) +
                  ": no such CPU available to this process (CPUs: " + cpus + ")",
              hint);
}

void memory(Context& c) {
  EalView v = read_eal(c, false);
  uint64_t need_mb = (dpdk_bytes(c.cfg) >> 20) + 8;  // + EAL's own memzones
  std::string what = std::to_string(c.cfg.dataplane.mbufs) + " mbufs, " +
                     std::to_string(c.cfg.dataplane.worker_lcores.size()) + " x " +
                     std::to_string(c.cfg.dataplane.flow_capacity) + " flows";
  std::string fix = "lower [memory] mbufs or [flows] capacity, or give DPDK more memory";
  uint64_t have_mb = 0;
  std::string source;
  if (v.mem_mb) {
    have_mb = *v.mem_mb;
    source = "-m/--socket-mem gives " + std::to_string(have_mb) + " MiB";
    fix += " (-m " + std::to_string(need_mb) + ")";
  } else if (v.no_huge) {
    have_mb = 64;  // EAL's default without hugepages
    source = "--no-huge without -m gives 64 MiB";
    fix += " (-m " + std::to_string(need_mb) + ")";
  } else {
    uint64_t reserved = 0;
    have_mb = free_hugepage_mb(reserved);
    source = std::to_string(have_mb) + " MiB of hugepages are free";
    if (reserved == 0) {
      c.error("eal.args",
              "no hugepages are reserved on this machine and [eal] args has no --no-huge",
              "reserve some (dpdk-hugepages.py --setup 2G, or vm.nr_hugepages in sysctl.d), "
              "or run without them: \"--no-huge\", \"-m\", \"" +
                  std::to_string(need_mb) + "\"");
      return;
    }
    fix += " (reserve hugepages: dpdk-hugepages.py --setup " + std::to_string(need_mb) + "M)";
  }
  if (need_mb > have_mb)
    c.error(
        v.mem_mb ? "eal.args" : "memory",
        "DPDK memory: about " + std::to_string(need_mb) + " MiB needed (" + what + "), " + source,
        fix);
}

void devices(Context& c) {
  EalView v = read_eal(c, false);
  const std::optional<PluginDir> plugins = plugin_dir();
  bool vdevs = false, pcis = false;
  for (size_t i = 0; i < c.cfg.ports.size(); ++i) {
    const auto& p = c.cfg.ports[i];
    std::string key = "ports." + std::to_string(i) + ".device";
    std::string dev = c.expand(p.device);
    if (std::string addr = pci_name(dev); !addr.empty()) {
      pci_device(c, key, p, addr, v);
      pcis = true;
    } else {
      vdev_device(c, key, p, dev);
      if (plugins) vdev_plugin(c, key, p, dev, *plugins);
      vdevs = true;
    }
  }
  if (plugins) required_plugins(c, *plugins, vdevs, pcis && !v.no_pci);
}

}  // namespace dc::appliance::check
