// [[test]] cases of a policy: validation against the compiled tables, and execution (payloads
// scanned with the detector database, findings tallied, the verdict compared with the expectation).
#include "policy/test_runner.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/time.hpp"
#include "inspect/detect/scanner.hpp"

namespace dc::policy {

namespace {

struct Endpoint {
  inspect::IpAddr addr;
  uint16_t port = 0;
  bool ok = false;
};

// "10.1.2.3", "10.1.2.3:443", "2001:db8::5", "[2001:db8::5]:443".
Endpoint parse_endpoint(const std::string& s, uint16_t default_port) {
  Endpoint e;
  std::string host = s, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos) return e;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return e;
      port = s.substr(close + 2);
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    auto colon = s.find(':');
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (!parse_address(host, e.addr)) return e;
  e.port = default_port;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return e;
    int p = std::stoi(port);
    if (p > 65535) return e;
    e.port = static_cast<uint16_t>(p);
  }
  e.ok = true;
  return e;
}

constexpr uint16_t kDefaultClientPort = 49152;  // first dynamic port (RFC 6335)
constexpr uint16_t kDefaultServerPort = 443;

// Flag names accepted in [[test]] flags.
uint32_t flag_by_name(std::string_view n) {
  if (n == "evasion") return flag::kEvasion;
  if (n == "fragmented") return flag::kFragmented;
  if (n == "opaque_payload") return flag::kPayloadOpaque;
  if (n == "reverse_payload") return flag::kReversePayload;
  if (n == "urgent_data") return flag::kUrgentData;
  if (n == "midstream") return flag::kMidstream;
  if (n == "http_anomaly") return flag::kHttpAnomaly;
  if (n == "tls_auth_failure") return flag::kTlsAuthFailure;
  if (n == "tls_key_missing") return flag::kTlsKeyMissing;
  if (n == "content_uninspected") return flag::kContentUninspected;
  if (n == "server_name_changed") return flag::kServerNameChanged;
  for (std::size_t i = 0; i < kFailureCount; ++i) {
    if (failure_name(i) == n) return flag::kFlowTableFull << i;
  }
  return 0;
}

std::vector<std::string> flag_names() {
  std::vector<std::string> v = {"evasion",          "fragmented",          "opaque_payload",
                                "reverse_payload",  "urgent_data",         "midstream",
                                "http_anomaly",     "content_uninspected", "server_name_changed",
                                "tls_auth_failure", "tls_key_missing"};
  for (std::size_t i = 0; i < kFailureCount; ++i) v.emplace_back(failure_name(i));
  return v;
}

std::string dir_of(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Expected reason "kind" or "kind:id" (id = category, counterparty, basis or detector id).
bool reason_matches(const Snapshot& s, const Reason& r, const std::string& want) {
  auto colon = want.find(':');
  std::string kind = want.substr(0, colon);
  if (reason_name(r.kind) != kind) return false;
  if (colon == std::string::npos) return true;
  std::string id = want.substr(colon + 1);
  if (r.category < s.category_count() && s.category(r.category).id == id) return true;
  if (r.counterparty < s.counterparty_count() && s.counterparty(r.counterparty).id == id)
    return true;
  if (r.basis < s.basis_count() && s.basis(r.basis).id == id) return true;
  if (r.detector < s.detector_names().size() && s.detector_names()[r.detector] == id) return true;
  return false;
}

class TallySink : public inspect::FindingSink {
 public:
  TallySink(const Snapshot& s, CategoryTally& t, std::string* log) : s_(s), t_(t), log_(log) {}
  void on_finding(const inspect::Finding& f) noexcept override {
    s_.add_finding(t_, f.detector, f.confidence);
    if (log_) {
      *log_ += "  finding " +
               (f.detector < s_.detector_names().size() ? s_.detector_names()[f.detector]
                                                        : std::string("?")) +
               " " + std::string(confidence_name(f.confidence)) + " " + f.masked + "\n";
    }
  }

 private:
  const Snapshot& s_;
  CategoryTally& t_;
  std::string* log_;
};

}  // namespace

void validate_tests(const PolicyDoc& doc, const Snapshot* snap, Diagnostics& d) {
  for (const auto& t : doc.tests) {
    if (!t.at.set && !doc.header.test_time.set) {
      d.error(t.pos, "test '" + t.name.value + "' has no time: set 'at' or [policy] test_time");
    }
    if (!t.from.value.empty() && !parse_endpoint(t.from.value, 0).ok) {
      d.error(t.from.pos, "'" + t.from.value + "' is not an address or address:port");
    }
    if (!t.to.value.empty() && !parse_endpoint(t.to.value, 0).ok) {
      d.error(t.to.pos, "'" + t.to.value + "' is not an address or address:port");
    }
    if (t.proto.value != "tcp" && t.proto.value != "udp") {
      d.error(t.proto.pos, "proto must be \"tcp\" or \"udp\"");
    }
    if (t.direction.value != "forward" && t.direction.value != "reverse") {
      d.error(t.direction.pos,
              "direction must be \"forward\" (opener sends) or \"reverse\" "
              "(responder sends)");
    }
    if (!t.expect.value.empty() && t.expect.value != "allow" && t.expect.value != "alert" &&
        t.expect.value != "block") {
      d.error(t.expect.pos, "expect must be \"allow\", \"alert\" or \"block\"");
    }
    if (!t.payload.value.empty() && !t.payload_file.value.empty()) {
      d.error(t.payload_file.pos, "give either payload or payload_file, not both");
    }
    for (const auto& f : t.flags) {
      if (!flag_by_name(f.value)) {
        std::string hint = closest_match(f.value, flag_names());
        d.error(f.pos, "unknown flag '" + f.value + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
    }
    for (const auto& r : t.expect_reasons) {
      std::string kind = r.value.substr(0, r.value.find(':'));
      if (reason_from_name(kind) == ReasonKind::kCount) {
        std::vector<std::string> names;
        for (std::size_t i = 0; i < kReasonKindCount; ++i)
          names.emplace_back(reason_name(static_cast<ReasonKind>(i)));
        std::string hint = closest_match(kind, names);
        d.error(r.pos, "unknown reason '" + kind + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
    }
    if (!snap) continue;
    for (const auto& [cat, n] : t.findings) {
      if (snap->find_category(cat.value) == kNoCategory) {
        d.error(cat.pos, "unknown category '" + cat.value + "' in findings");
      }
      if (n.value < 1 || n.value > 65535) d.error(n.pos, "findings count must be 1..65535");
    }
  }
}

bool evaluate_case(const PolicyDoc& doc, const TestDoc& t, const Snapshot& snap, Verdict& out,
                   std::string& error, std::string* log) {
  Endpoint from = parse_endpoint(t.from.value, kDefaultClientPort);
  Endpoint to = parse_endpoint(t.to.value, kDefaultServerPort);
  if (!from.ok || !to.ok) {
    error = "bad from/to address";
    return false;
  }
  int64_t now = t.at.set ? t.at.ns : doc.header.test_time.ns;
  FlowQuery q;
  q.src = from.addr;
  q.dst = to.addr;
  q.sport = from.port;
  q.dport = to.port;
  q.proto = t.proto.value == "udp" ? 17 : 6;
  q.src_zone = snap.zone_of(q.src);
  q.dst_zone = snap.zone_of(q.dst);
  q.now_ns = now;
  q.sni_state = t.sni.value.empty() ? SniState::kAbsent : SniState::kPresent;
  q.sni = t.sni.value;
  Admission a = snap.admit(q);

  uint32_t flags = 0;
  for (const auto& f : t.flags) flags |= flag_by_name(f.value);
  CategoryTally tally;
  for (const auto& [cat, n] : t.findings) {
    CategoryId c = snap.find_category(cat.value);
    if (c == kNoCategory) continue;
    // Synthetic findings stand for findings in exported bytes at the highest confidence.
    for (auto& slot : tally.slots) {
      if (slot.category == kNoCategory || slot.category == c) {
        slot.category = c;
        slot.count = static_cast<uint16_t>(std::min<int64_t>(65535, slot.count + n.value));
        slot.max_confidence = static_cast<uint8_t>(Confidence::kVeryLikely);
        tally.seen |= 1ull << c;
        break;
      }
    }
  }

  if (t.has_payload) {
    std::string bytes = t.payload.value;
    if (!t.payload_file.value.empty()) {
      std::string path = (std::filesystem::path(dir_of(doc.path)) / t.payload_file.value).string();
      std::ifstream in(path, std::ios::binary);
      if (!in) {
        error = "cannot read payload file '" + path + "'";
        return false;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      bytes = ss.str();
    }
    bool forward = t.direction.value != "reverse";
    if (!forward && !a.reverse_payload_allowed && !bytes.empty()) flags |= flag::kReversePayload;
    bool inspected = forward ? a.inspect_forward : a.inspect_reverse;
    bool exported = forward ? a.forward_is_export() : a.reverse_is_export();
    // Only bytes travelling towards the foreign end are exports (docs §4.1); the pipeline feeds
    // decide() the same way.
    if (exported && inspected && snap.detector_db() && !bytes.empty()) {
      TallySink sink(snap, tally, log);
      // Birth dates may not lie after the case's own date (the validators' "today").
      base::CivilDate today = base::civil_date_at(now, doc.header.tz_offset_minutes);
      auto r = inspect::scan_buffer(snap.detector_db(),
                                    {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                    sink, today);
      if (!r) {
        error = "scanner: " + r.error().message;
        return false;
      }
    } else if (log) {
      *log += exported ? "  payload not scanned (link does not inspect this direction)\n"
                       : "  payload not scanned (not an export direction)\n";
    }
  }
  out = snap.decide(a, tally, flags, now);
  return true;
}

std::vector<TestOutcome> run_tests(const PolicyDoc& doc, const Snapshot& snap,
                                   const CaptureEvaluator* capture) {
  std::vector<TestOutcome> results;
  for (const auto& t : doc.tests) {
    TestOutcome o;
    o.name = t.name.value;
    o.pos = t.pos;
    o.expected = t.expect.value;
    if (!t.expect_reasons.empty()) {
      o.expected += ":";
      for (const auto& r : t.expect_reasons) o.expected += " " + r.value;
    }
    Verdict v;
    std::string error, log;
    bool evaluated;
    if (!t.capture.empty()) {
      if (capture == nullptr) {
        o.skipped = true;
        o.actual = "skipped: capture cases run in `datacustoms policy test` (packet engine)";
        results.push_back(std::move(o));
        continue;
      }
      std::vector<std::string> paths;
      std::filesystem::path base = std::filesystem::path(doc.path).parent_path();
      for (const auto& c : t.capture) {
        std::filesystem::path p(c.value);
        paths.push_back((p.is_relative() ? base / p : p).string());
      }
      evaluated = (*capture)(t, paths, v, error);
      log = "  replayed " + std::to_string(paths.size()) + " capture(s)\n";
    } else {
      evaluated = evaluate_case(doc, t, snap, v, error, &log);
    }
    if (!evaluated) {
      o.actual = "error: " + error;
      o.detail = log;
      results.push_back(std::move(o));
      continue;
    }
    o.actual = snap.describe(v);
    o.detail = log;
    bool ok = action_name(v.action) == t.expect.value;
    // Expected reasons must appear in this relative order (other reasons may sit in between).
    std::size_t next = 0;
    for (const auto& want : t.expect_reasons) {
      bool found = false;
      for (; next < v.reason_count && !found; ++next)
        found = reason_matches(snap, v.reasons[next], want.value);
      if (!found) {
        ok = false;
        o.detail += "  expected reason '" + want.value + "' not found (in order)\n";
        break;
      }
    }
    o.passed = ok;
    results.push_back(std::move(o));
  }
  return results;
}

}  // namespace dc::policy
