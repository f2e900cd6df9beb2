#pragma once
// Inline SVG charts of the HTML period report (audit/report_html.cpp): generated here, no script,
// no external resource. Verdicts are told apart by pattern and text label, not by colour alone.
// Every string is escaped. Pure functions.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/report.hpp"

namespace dc::audit::svg {

// <defs> with the verdict patterns; include once per chart (ids are per chart prefix).
std::string verdict_defs(const std::string& prefix);
// Stacked bars per day: allow / alert / block flows, exported bytes labelled above.
std::string day_bars(const std::map<std::string, Tally>& by_day, const std::string& title);
// Horizontal bars of the top `n` rows by flows, split by verdict.
std::string top_bars(const std::map<std::string, Tally>& rows, std::size_t n,
                     const std::string& title);
// Zone pairs on the left, counterparties on the right, link width by flows.
std::string flow_diagram(const std::map<std::string, std::map<std::string, Tally>>& links,
                         const std::string& title);
// Blocks (and alerts) on a time axis from the first to the last flow of the period.
std::string block_timeline(const std::vector<FlaggedFlow>& flagged, const std::string& first,
                           const std::string& last, const std::string& title);
// "1.2 MiB"
std::string human_bytes(std::uint64_t v);

}  // namespace dc::audit::svg
