// Inline SVG charts of the HTML period report: bars, flow diagram, block timeline.
#include "audit/report_svg.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "audit/report_util.hpp"
#include "base/time.hpp"

namespace dc::audit::svg {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string u64s(std::uint64_t v) { return std::to_string(v); }

std::string rect(double x, double y, double w, double h, const std::string& fill) {
  return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
         num(h) + "\" fill=\"" + fill + "\" stroke=\"#222\" stroke-width=\"0.5\"/>";
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start",
                 const char* cls = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" class=\"" +
         cls + "\">" + html_escape(s) + "</text>";
}

std::string open_svg(int w, int h, const std::string& title, const std::string& id) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(w) + " " +
         std::to_string(h) + "\" width=\"100%\" role=\"img\" aria-labelledby=\"" + id +
         "\" class=\"chart\"><title id=\"" + id + "\">" + html_escape(title) + "</title>";
}

// The three verdicts: allow (solid), alert (dots), block (hatched), each with its text label.
struct VerdictPart {
  const char* name;
  std::uint64_t Tally::*field;
};
constexpr VerdictPart kParts[] = {
    {"allow", &Tally::allow}, {"alert", &Tally::alert}, {"block", &Tally::block}};

std::string fill_of(const std::string& prefix, const char* verdict) {
  return "url(#" + prefix + "-" + verdict + ")";
}

std::string legend(const std::string& prefix, double x, double y) {
  std::string s;
  for (const auto& p : kParts) {
    s += rect(x, y - 10, 12, 12, fill_of(prefix, p.name)) + text(x + 16, y, p.name);
    x += 70;
  }
  return s;
}

int next_id() {
  static int id = 0;
  return ++id;
}

}  // namespace

std::string human_bytes(std::uint64_t v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double d = static_cast<double>(v);
  int u = 0;
  while (d >= 1024 && u < 4) {
    d /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", d, units[u]);
  return buf;
}

std::string verdict_defs(const std::string& p) {
  return "<defs><pattern id=\"" + p +
         "-allow\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><rect width=\"6\" "
         "height=\"6\" fill=\"#2f9e44\"/></pattern><pattern id=\"" +
         p +
         "-alert\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><rect width=\"6\" "
         "height=\"6\" fill=\"#f2b01e\"/><circle cx=\"3\" cy=\"3\" r=\"1.3\" fill=\"#222\"/>"
         "</pattern><pattern id=\"" +
         p +
         "-block\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#c92a2a\"/>"
         "<rect width=\"2\" height=\"6\" fill=\"#fff\"/></pattern></defs>";
}

std::string day_bars(const std::map<std::string, Tally>& by_day, const std::string& title) {
  const std::string p = "d" + std::to_string(next_id());
  const int w = 760, h = 300, left = 50, bottom = 60, top = 40;
  std::string s = open_svg(w, h, title, p + "-t") + verdict_defs(p);
  std::uint64_t max = 1;
  for (const auto& [d, t] : by_day) max = std::max(max, t.flows);
  const double plot_w = w - left - 10, plot_h = h - top - bottom;
  const double slot = by_day.empty() ? plot_w : plot_w / static_cast<double>(by_day.size());
  const double bar = std::min(48.0, slot * 0.7);
  s += "<line x1=\"" + num(left) + "\" y1=\"" + num(h - bottom) + "\" x2=\"" + num(w - 10) +
       "\" y2=\"" + num(h - bottom) + "\" stroke=\"#222\"/>";
  s += text(left - 6, top + 4, u64s(max), "end") + text(left - 6, h - bottom, "0", "end");
  s += text(8, top - 20, "flows per UTC day (number above a bar: exported bytes)");
  double x = left + (slot - bar) / 2;
  for (const auto& [day, t] : by_day) {
    double y = h - bottom;
    s += "<g><title>" +
         html_escape(day + ": " + u64s(t.flows) + " flows, allow " + u64s(t.allow) + ", alert " +
                     u64s(t.alert) + ", block " + u64s(t.block) + ", exported " +
                     human_bytes(t.exported_bytes)) +
         "</title>";
    for (const auto& part : kParts) {
      const double ph = plot_h * static_cast<double>(t.*part.field) / static_cast<double>(max);
      if (ph <= 0) continue;
      y -= ph;
      s += rect(x, y, bar, ph, fill_of(p, part.name));
    }
    s += "</g>" + text(x + bar / 2, y - 4, human_bytes(t.exported_bytes), "middle", "small");
    s += text(x + bar / 2, h - bottom + 14, day.size() == 10 ? day.substr(5) : day, "middle",
              "small");
    x += slot;
  }
  s += legend(p, left, h - 12);
  return s + "</svg>";
}

std::string top_bars(const std::map<std::string, Tally>& rows, std::size_t n,
                     const std::string& title) {
  const std::string p = "b" + std::to_string(next_id());
  std::vector<std::pair<std::string, Tally>> v(rows.begin(), rows.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second.flows > b.second.flows; });
  if (v.size() > n) v.resize(n);
  const int row_h = 22, label_w = 190, w = 760;
  const int h = static_cast<int>(v.size()) * row_h + 50;
  std::string s = open_svg(w, h, title, p + "-t") + verdict_defs(p);
  std::uint64_t max = 1;
  for (const auto& [k, t] : v) max = std::max(max, t.flows);
  const double plot_w = w - label_w - 240;  // room for the label after the bar
  double y = 10;
  for (const auto& [key, t] : v) {
    std::string label = key.size() > 28 ? key.substr(0, 27) + "\xe2\x80\xa6" : key;
    s += "<g><title>" + html_escape(key + ": " + u64s(t.flows) + " flows") + "</title>" +
         text(label_w - 6, y + 14, label, "end");
    double x = label_w;
    for (const auto& part : kParts) {
      const double pw = plot_w * static_cast<double>(t.*part.field) / static_cast<double>(max);
      if (pw <= 0) continue;
      s += rect(x, y + 3, pw, row_h - 6, fill_of(p, part.name));
      x += pw;
    }
    s += "</g>" + text(x + 6, y + 14,
                       u64s(t.flows) + " flows, " + u64s(t.block) + " blocked, " +
                           human_bytes(t.exported_bytes) + " out",
                       "start", "small");
    y += row_h;
  }
  s += legend(p, label_w, h - 12);
  return s + "</svg>";
}

std::string flow_diagram(const std::map<std::string, std::map<std::string, Tally>>& links,
                         const std::string& title) {
  const std::string p = "f" + std::to_string(next_id());
  std::map<std::string, std::uint64_t> left, right;
  std::uint64_t total = 0;
  for (const auto& [z, cps] : links)
    for (const auto& [cp, t] : cps) {
      left[z] += t.flows;
      right[cp] += t.flows;
      total += t.flows;
    }
  const int w = 760, node_w = 14, gap = 10;
  const std::size_t rows = std::max(left.size(), right.size());
  const int h = std::max<int>(120, static_cast<int>(rows) * 40 + 60);
  const double scale = total ? (h - 60 - gap * static_cast<double>(rows)) / total : 0;
  auto place = [&](const std::map<std::string, std::uint64_t>& nodes) {
    std::map<std::string, std::pair<double, double>> pos;  // y, height
    double y = 30;
    for (const auto& [k, n] : nodes) {
      const double hh = std::max(6.0, scale * static_cast<double>(n));
      pos[k] = {y, hh};
      y += hh + gap;
    }
    return pos;
  };
  auto lp = place(left), rp = place(right);
  std::string s = open_svg(w, h, title, p + "-t");
  s += text(10, 18, "zone pair (source->destination)") + text(w - 10, 18, "counterparty", "end");
  const double lx = 200, rx = w - 200;
  std::map<std::string, double> lused, rused;
  for (const auto& [z, cps] : links)
    for (const auto& [cp, t] : cps) {
      const double sw = std::max(1.0, scale * static_cast<double>(t.flows));
      const double y1 = lp[z].first + lused[z] + sw / 2, y2 = rp[cp].first + rused[cp] + sw / 2;
      lused[z] += sw;
      rused[cp] += sw;
      const double mx = (lx + rx) / 2;
      s += "<path d=\"M" + num(lx + node_w) + " " + num(y1) + " C" + num(mx) + " " + num(y1) + " " +
           num(mx) + " " + num(y2) + " " + num(rx) + " " + num(y2) + "\" fill=\"none\" " +
           "stroke=\"" + (t.block ? "#c92a2a" : "#1c7ed6") + "\" stroke-opacity=\"0.45\" " +
           "stroke-width=\"" + num(sw) + "\"" + (t.block ? " stroke-dasharray=\"6 3\"" : "") +
           "><title>" +
           html_escape(z + " \xe2\x86\x92 " + cp + ": " + u64s(t.flows) + " flows, " +
                       u64s(t.block) + " blocked, " + human_bytes(t.exported_bytes) + " exported") +
           "</title></path>";
    }
  for (const auto& [k, ph] : lp)
    s += rect(lx, ph.first, node_w, ph.second, "#495057") +
         text(lx - 6, ph.first + ph.second / 2 + 4, k + " (" + u64s(left[k]) + ")", "end");
  for (const auto& [k, ph] : rp)
    s += rect(rx, ph.first, node_w, ph.second, "#495057") +
         text(rx + node_w + 6, ph.first + ph.second / 2 + 4, k + " (" + u64s(right[k]) + ")");
  s += text(10, h - 8, "solid blue: no flow blocked; dashed red: some flows blocked", "start",
            "small");
  return s + "</svg>";
}

std::string block_timeline(const std::vector<FlaggedFlow>& flagged, const std::string& first,
                           const std::string& last, const std::string& title) {
  const std::string p = "t" + std::to_string(next_id());
  const int w = 760, h = 150, left = 60, right = 20;
  std::string s = open_svg(w, h, title, p + "-t");
  auto t0 = base::parse_rfc3339(first, 0), t1 = base::parse_rfc3339(last, 0);
  if (!t0 || !t1) return s + text(10, 40, "no flow records in the period") + "</svg>";
  const double span = std::max<double>(1.0, static_cast<double>(*t1 - *t0));
  const double plot_w = w - left - right;
  auto xof = [&](std::int64_t t) { return left + plot_w * static_cast<double>(t - *t0) / span; };
  s += text(left - 6, 44, "block", "end") + text(left - 6, 84, "alert", "end");
  s += "<line x1=\"" + num(left) + "\" y1=\"110\" x2=\"" + num(w - right) +
       "\" y2=\"110\" stroke=\"#222\"/>";
  for (std::int64_t d = *t0 / base::kNsPerDay; d <= *t1 / base::kNsPerDay; ++d) {
    const std::int64_t at = std::max(*t0, d * base::kNsPerDay);
    const double x = xof(at);
    s +=
        "<line x1=\"" + num(x) + "\" y1=\"106\" x2=\"" + num(x) + "\" y2=\"114\" stroke=\"#222\"/>";
    s += text(x, 128, base::format_rfc3339(d * base::kNsPerDay, 0).substr(5, 5), "middle", "small");
  }
  for (const auto& f : flagged) {
    auto t = base::parse_rfc3339(f.time, 0);
    if (!t) continue;
    const double x = xof(*t);
    const std::string tip = "<title>" +
                            html_escape(f.time + " " + f.verdict + " record " + u64s(f.seq) + " " +
                                        f.src + " -> " + f.dest + " " + join(f.reasons, ", ")) +
                            "</title>";
    if (f.verdict == "block")
      s += "<path d=\"M" + num(x - 4) +
           " 36 l8 8 m0 -8 l-8 8\" stroke=\"#c92a2a\" "
           "stroke-width=\"2\">" +
           tip + "</path>";
    else
      s += "<path d=\"M" + num(x) +
           " 76 l4 8 h-8 z\" fill=\"#f2b01e\" stroke=\"#222\" "
           "stroke-width=\"0.5\">" +
           tip + "</path>";
  }
  s += text(left, h - 4, "\xc3\x97 block, \xe2\x96\xb2 alert (hover for the flow)", "start",
            "small");
  return s + "</svg>";
}

}  // namespace dc::audit::svg
