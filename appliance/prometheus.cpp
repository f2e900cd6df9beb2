// Prometheus text (GET /metrics): the counters of dataplane/counters.def, device statistics,
// flows, audit writer health, reloads, legal-basis expiry and build info, from the telemetry
// registry (appliance/telemetry_state.hpp). Every label set is bounded by the configuration
// (ports), the policy (bases) or a fixed list (drop reasons, verdicts, reload results).
#include <cstring>
#include <limits>

#include "appliance/telemetry.hpp"
#include "appliance/telemetry_state.hpp"

namespace dc::appliance {
namespace {

// Label values are operator/policy names; escaped per the exposition format.
std::string esc(const std::string& v) {
  std::string r;
  for (char c : v) {
    if (c == '\\' || c == '"') r += '\\';
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    r += c;
  }
  return r;
}

class Text {
 public:
  void head(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void line(const char* name, const std::string& labels, uint64_t v) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + std::to_string(v) + "\n";
  }
  void one(const char* name, const char* type, const char* help, uint64_t v) {
    head(name, type, help);
    line(name, "", v);
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

void policy_metrics(Text& t, const telemetry_state::Registry& r) {
  const policy::Snapshot* p = r.policy;
  if (p == nullptr) return;
  t.head("datacustoms_policy_info", "gauge", "The live compliance policy.");
  t.line("datacustoms_policy_info",
         "id=\"" + esc(p->policy_id()) + "\",version=\"" + esc(p->policy_version()) +
             "\",sha256=\"" + p->sha256_hex() + "\"",
         1);
  t.one("datacustoms_policy_generation", "gauge",
        "Generation of the live policy (1 at start, +1 per accepted reload).", r.generation);
  t.head("datacustoms_legal_basis_expiry_timestamp_seconds", "gauge",
         "End of validity of each legal basis of the live policy (Unix time).");
  for (size_t b = 0; b < p->basis_count(); ++b) {
    const auto& bi = p->basis(static_cast<policy::BasisId>(b));
    if (bi.valid_until_ns == std::numeric_limits<int64_t>::max()) continue;  // no end
    t.line("datacustoms_legal_basis_expiry_timestamp_seconds", "basis=\"" + esc(bi.id) + "\"",
           static_cast<uint64_t>(std::max<int64_t>(0, bi.valid_until_ns / 1'000'000'000)));
  }
}

void port_metrics(Text& t, const telemetry_state::Registry& r,
                  const dataplane::WorkerCounters& sum) {
  const auto& ports = r.plane->ports();
  auto labels = [&](size_t p) {
    return "port=\"" + esc(ports[p].name) + "\",zone=\"" + esc(r.config->ports[p].zone_name) + "\"";
  };
  for (const auto& pm : dataplane::kPortCounterInfo) {
    t.head(pm.metric, "counter", pm.help);
    for (size_t p = 0; p < ports.size(); ++p)
      t.line(pm.metric, labels(p), (sum.port[p].*pm.field).load());
  }
  std::vector<telemetry_state::DeviceStats> dev;
  for (const auto& pi : ports) dev.push_back(telemetry_state::device_stats(pi.port_id));
  struct {
    const char* name;
    uint64_t telemetry_state::DeviceStats::*field;
    const char* help;
  } const devm[] = {
      {"datacustoms_port_rx_missed_packets_total", &telemetry_state::DeviceStats::imissed,
       "Packets the device dropped because no RX descriptor was free (rte_eth_stats imissed)."},
      {"datacustoms_port_rx_errors_total", &telemetry_state::DeviceStats::ierrors,
       "Erroneous packets received by the device (ierrors)."},
      {"datacustoms_port_tx_errors_total", &telemetry_state::DeviceStats::oerrors,
       "Packets the device failed to transmit (oerrors)."},
      {"datacustoms_port_rx_nombuf_total", &telemetry_state::DeviceStats::rx_nombuf,
       "RX mbuf allocation failures (rx_nombuf): the packet pool is too small."},
  };
  for (const auto& m : devm) {
    t.head(m.name, "counter", m.help);
    for (size_t p = 0; p < ports.size(); ++p) t.line(m.name, labels(p), dev[p].*m.field);
  }
}

void counter_metrics(Text& t, const dataplane::WorkerCounters& sum) {
  t.head("datacustoms_dropped_packets_total", "counter", "Packets dropped, by named reason.");
  for (size_t i = 1; i < dataplane::kDropReasonCount; ++i)
    t.line("datacustoms_dropped_packets_total",
           std::string("reason=\"") +
               dataplane::drop_reason_name(static_cast<dataplane::DropReason>(i)) + "\"",
           sum.drops[i].load());
  // One family per metric name; rows sharing a name differ by their labels. The unlabelled
  // total of all drops is the sum of the family above, so it is not repeated.
  const char* family = "";
  for (const auto& c : dataplane::kCounterInfo) {
    if (*c.metric == '\0' || std::strcmp(c.metric, "datacustoms_dropped_packets_total") == 0 ||
        std::strcmp(c.metric, "datacustoms_flow_verdicts_total") == 0)  // labelled_metrics below
      continue;
    if (std::strcmp(c.metric, family) != 0) t.head(c.metric, "counter", c.help);
    family = c.metric;
    t.line(c.metric, c.metric_labels, (sum.*c.field).load());
  }
}

// Label values: the live policy's counterparty and category ids (at most
// dataplane::kCounterpartyLabels / kCategoryLabels), "none" and "other" (docs/operations.md).
void labelled_metrics(Text& t, const telemetry_state::Registry& r,
                      const dataplane::WorkerCounters& sum) {
  static const char* const kVerdict[3] = {"allow", "alert", "block"};
  t.head("datacustoms_flow_verdicts_total", "counter",
         "Flows by final verdict and counterparty (\"none\": no counterparty endpoint).");
  for (const auto& row : r.labelled.counterparties(sum.labelled))
    for (int v = 0; v < 3; ++v)
      t.line("datacustoms_flow_verdicts_total",
             std::string("verdict=\"") + kVerdict[v] + "\",counterparty=\"" + esc(row.label) + "\"",
             row.v[v]);
  t.head("datacustoms_category_findings_total", "counter",
         "Findings by the policy category their detector feeds (one per category fed; \"none\": "
         "the detector feeds no category).");
  for (const auto& row : r.labelled.categories(sum.labelled))
    t.line("datacustoms_category_findings_total", "category=\"" + esc(row.label) + "\"", row.v[0]);
}

void control_metrics(Text& t, const ControlView& c) {
  if (c.reloads != nullptr) {
    t.head("datacustoms_policy_reloads_total", "counter", "Policy reloads, by result.");
    t.line("datacustoms_policy_reloads_total", "result=\"ok\"", c.reloads->ok.load());
    t.line("datacustoms_policy_reloads_total", "result=\"rejected\"", c.reloads->rejected.load());
    t.one("datacustoms_policy_reload_last_failure_timestamp_seconds", "gauge",
          "When the last reload was rejected (Unix time; 0: never).",
          static_cast<uint64_t>(c.reloads->last_failed_unix.load()));
  }
  t.one(
      "datacustoms_start_time_seconds", "gauge", "When the appliance started (Unix time).",
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(c.started.time_since_epoch()).count()));
  if (c.audit == nullptr) return;
  t.one("datacustoms_audit_writer_up", "gauge",
        "1 while the audit writer writes; 0 after a write failure until it recovers.",
        c.audit->writer_ok.load());
  t.one("datacustoms_audit_backlog_events", "gauge",
        "Records and evidence queued for the audit writer and not written yet (its lag).",
        c.audit->backlog());
  t.one("datacustoms_audit_events_lost_total", "counter",
        "Flow outcomes lost: no free event slot on the audit channel.", c.audit->lost_outcomes());
}

}  // namespace

std::string prometheus_metrics() {
  auto& r = telemetry_state::registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.plane == nullptr) return {};
  auto sum = r.plane->counters();
  auto fs = r.plane->flow_stats();
  Text t;
  t.head("datacustoms_build_info", "gauge", "The running build.");
  t.line("datacustoms_build_info", "version=\"" + esc(r.version) + "\"", 1);
  policy_metrics(t, r);
  port_metrics(t, r, sum);
  counter_metrics(t, sum);
  labelled_metrics(t, r, sum);
  t.one("datacustoms_flows_created_total", "counter", "Flows created.", fs.created.load());
  t.one("datacustoms_flows_expired_total", "counter", "Flows ended by idle expiry or at stop.",
        fs.expired.load());
  t.one("datacustoms_flows_refused_total", "counter", "New flows refused: flow table full.",
        fs.full.load());
  t.one("datacustoms_flows_active", "gauge", "Flows in the flow tables.", fs.active.load());
  t.one("datacustoms_workers", "gauge", "Worker lcores running.", r.plane->workers());
  control_metrics(t, r.control);
  if (r.keys != nullptr) {
    auto st = r.keys->stats();
    for (const auto& k : telemetry_state::kKeyCounters) {
      std::string name = std::string("datacustoms_") + k.key + "_total";
      t.one(name.c_str(), "counter", k.help, st.*k.field);
    }
  }
  return std::move(t.str());
}

}  // namespace dc::appliance
