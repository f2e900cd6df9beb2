#pragma once
// `datacustoms audit report`: a summary of the flow records of a log directory that a reviewer
// can hand on: per verdict, counterparty, category, zone pair and UTC day.
// It does not verify the log (run `audit verify` for that); unreadable lines are counted, skipped.
// Threads: any; reads files only.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.hpp"

namespace dc::audit {

struct Tally {
  std::uint64_t flows = 0;
  std::uint64_t allow = 0;
  std::uint64_t block = 0;
  std::uint64_t alert = 0;
  std::uint64_t other = 0;     // any other verdict string
  std::uint64_t bytes = 0;     // bytes_toserver + bytes_toclient
  std::uint64_t findings = 0;  // category findings (categories[].count); per-category table only
};

struct AuditSummary {
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t unreadable = 0;
  Tally total;
  std::map<std::string, Tally> by_verdict;
  std::map<std::string, Tally> by_counterparty;  // "(none)" when no counterparty matched
  std::map<std::string, Tally> by_category;      // a flow counts once per category it carried
  std::map<std::string, Tally> by_zone_pair;     // "domestic->crossborder"
  std::map<std::string, Tally> by_day;           // UTC date of the record's "time"

  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
};

Result<AuditSummary> summarise_log(const std::string& dir);

}  // namespace dc::audit
