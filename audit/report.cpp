// `audit report`: flow records summed per verdict, counterparty, category, zone pair and day.
#include "audit/report.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "audit/record.hpp"

namespace dc::audit {
namespace fs = std::filesystem;
namespace {

std::uint64_t u64_at(const nlohmann::json& j, const char* a, const char* b) {
  auto it = j.find(a);
  if (it == j.end() || !it->is_object()) return 0;
  auto v = it->find(b);
  return v != it->end() && v->is_number_unsigned() ? v->get<std::uint64_t>() : 0;
}

std::string str_or(const nlohmann::json& j, const char* key, const char* fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

void count(Tally& t, const std::string& verdict, std::uint64_t bytes) {
  ++t.flows;
  t.bytes += bytes;
  if (verdict == "allow")
    ++t.allow;
  else if (verdict == "block")
    ++t.block;
  else if (verdict == "alert")
    ++t.alert;
  else
    ++t.other;
}

nlohmann::ordered_json tally_json(const Tally& t, bool with_findings) {
  nlohmann::ordered_json j{{"flows", t.flows}, {"allow", t.allow}, {"block", t.block},
                           {"alert", t.alert}, {"other", t.other}, {"bytes", t.bytes}};
  if (with_findings) j["findings"] = t.findings;
  return j;
}

void table(std::string& out, const char* title, const std::map<std::string, Tally>& rows,
           bool with_findings) {
  std::size_t w = std::strlen(title);
  for (const auto& [k, v] : rows) w = std::max(w, k.size());
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-*s %8s %8s %8s %8s %14s%s\n", static_cast<int>(w), title,
                "flows", "allow", "block", "alert", "bytes", with_findings ? "  findings" : "");
  out += buf;
  for (const auto& [k, t] : rows) {
    std::snprintf(
        buf, sizeof buf, "%-*s %8llu %8llu %8llu %8llu %14llu", static_cast<int>(w), k.c_str(),
        static_cast<unsigned long long>(t.flows), static_cast<unsigned long long>(t.allow),
        static_cast<unsigned long long>(t.block), static_cast<unsigned long long>(t.alert),
        static_cast<unsigned long long>(t.bytes));
    out += buf;
    if (with_findings) {
      std::snprintf(buf, sizeof buf, "  %8llu", static_cast<unsigned long long>(t.findings));
      out += buf;
    }
    out += '\n';
  }
  out += '\n';
}

}  // namespace

Result<AuditSummary> summarise_log(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error(dir + ": not a directory");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (parse_log_file_name(e.path().filename().string())) files.push_back(e.path().filename());
  if (files.empty()) return make_error(dir + ": no audit-*.jsonl files");
  std::sort(files.begin(), files.end());

  AuditSummary s;
  s.files = files.size();
  for (const auto& name : files) {
    std::ifstream in(fs::path(dir) / name, std::ios::binary);
    if (!in) return make_error(dir + "/" + name + ": cannot read");
    std::string line;
    while (std::getline(in, line)) {
      ++s.records;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        ++s.unreadable;
        continue;
      }
      if (str_or(j, "type", "") != "flow") continue;
      const std::string verdict = str_or(j, "verdict", "(none)");
      const std::uint64_t bytes =
          u64_at(j, "flow", "bytes_toserver") + u64_at(j, "flow", "bytes_toclient");
      count(s.total, verdict, bytes);
      count(s.by_verdict[verdict], verdict, bytes);
      count(s.by_counterparty[str_or(j, "counterparty", "(none)")], verdict, bytes);
      std::string zones = "(unknown)";
      if (auto z = j.find("zones"); z != j.end() && z->is_object())
        zones = str_or(*z, "src", "?") + "->" + str_or(*z, "dest", "?");
      count(s.by_zone_pair[zones], verdict, bytes);
      auto day = utc_date(str_or(j, "time", ""));
      count(s.by_day[day ? *day : "(no time)"], verdict, bytes);
      if (auto c = j.find("categories"); c != j.end() && c->is_array()) {
        for (const auto& cat : *c) {
          if (!cat.is_object()) continue;
          Tally& t = s.by_category[str_or(cat, "name", "(unnamed)")];
          count(t, verdict, bytes);
          if (auto n = cat.find("count"); n != cat.end() && n->is_number_unsigned())
            t.findings += n->get<std::uint64_t>();
        }
      }
    }
  }
  return s;
}

std::string AuditSummary::to_text() const {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%llu flow records in %llu records, %llu files (%llu unreadable lines skipped; "
                "not verified: run 'datacustoms audit verify')\n\n",
                static_cast<unsigned long long>(total.flows),
                static_cast<unsigned long long>(records), static_cast<unsigned long long>(files),
                static_cast<unsigned long long>(unreadable));
  out += buf;
  table(out, "verdict", by_verdict, false);
  table(out, "counterparty", by_counterparty, false);
  table(out, "category", by_category, true);
  table(out, "zones", by_zone_pair, false);
  table(out, "day (UTC)", by_day, false);
  return out;
}

nlohmann::ordered_json AuditSummary::to_json() const {
  nlohmann::ordered_json j;
  j["files"] = files;
  j["records"] = records;
  j["unreadable"] = unreadable;
  j["total"] = tally_json(total, false);
  auto dim = [](const std::map<std::string, Tally>& m, bool f) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& [k, t] : m) o[k] = tally_json(t, f);
    return o;
  };
  j["by_verdict"] = dim(by_verdict, false);
  j["by_counterparty"] = dim(by_counterparty, false);
  j["by_category"] = dim(by_category, true);
  j["by_zone_pair"] = dim(by_zone_pair, false);
  j["by_day"] = dim(by_day, false);
  return j;
}

}  // namespace dc::audit
