// `datacustoms scan`: run the built-in detectors over a file or stdin, one JSON line per finding.
// The input goes through the same streaming scanner as live traffic, in 64 KiB chunks, so memory
// stays bounded whatever the input size. Only masked values are printed, never raw values.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "inspect/detectors.hpp"
#include "inspect/scanner.hpp"

namespace {

using namespace dc::inspect;

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms scan [--detector NAME]... [--today YYYY-MM-DD]\n"
      "                        [--min-confidence LEVEL] [--list] [INPUT|-]\n"
      "\n"
      "Scans INPUT (default: stdin) with the built-in detectors and prints one JSON line\n"
      "per finding: {\"detector\",\"category\",\"offset\",\"length\",\"confidence\",\"masked\"}.\n"
      "  --detector NAME        only this built-in detector (repeatable; default: all)\n"
      "  --today YYYY-MM-DD     date for birth-date checks (default: today, UTC)\n"
      "  --min-confidence LEVEL very_unlikely|unlikely|possible|likely|very_likely\n"
      "                         (default: very_unlikely, i.e. every validated finding)\n"
      "  --list                 list the built-in detectors and exit\n"
      "Exit status: 0 ok, 2 usage or I/O error.\n");
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

struct PrintSink : FindingSink {
  const DetectorDb* db = nullptr;
  Confidence min = Confidence::kVeryUnlikely;
  std::string line;
  bool write_error = false;
  void on_finding(const Finding& f) noexcept override {
    if (f.confidence < min) return;
    line.clear();
    line += "{\"detector\":";
    json_string(line, db->detector(f.detector).name);
    // Categories come from the policy (negative list); not wired into `scan` yet.
    line += ",\"category\":null,\"offset\":" + std::to_string(f.offset) +
            ",\"length\":" + std::to_string(f.length) + ",\"confidence\":";
    json_string(line, to_string(f.confidence));
    line += ",\"masked\":";
    json_string(line, f.masked);
    line += "}\n";
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) write_error = true;
  }
};

CivilDate utc_today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return CivilDate{static_cast<uint16_t>(tm.tm_year + 1900), static_cast<uint8_t>(tm.tm_mon + 1),
                   static_cast<uint8_t>(tm.tm_mday)};
}

int run_scan(const std::vector<std::string>& args) {
  std::vector<DetectorSpec> specs;
  std::string input = "-";
  bool have_input = false;
  CivilDate today = utc_today();
  Confidence min = Confidence::kVeryUnlikely;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* opt) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "datacustoms scan: %s needs a value\n", opt);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--list") {
      for (auto n : builtin_detector_names()) {
        auto d = describe_builtin(n);
        std::printf("%-18s %.*s\n", std::string(n).c_str(), static_cast<int>(d->title.size()),
                    d->title.data());
      }
      return 0;
    } else if (a == "--detector") {
      const std::string* v = value("--detector");
      if (!v) return 2;
      if (!describe_builtin(*v)) {
        std::fprintf(stderr, "datacustoms scan: unknown detector \"%s\" (see --list)\n",
                     v->c_str());
        return 2;
      }
      DetectorSpec s;
      s.name = *v;
      specs.push_back(std::move(s));
    } else if (a == "--today") {
      const std::string* v = value("--today");
      if (!v) return 2;
      if (!parse_civil_date(*v, &today)) {
        std::fprintf(stderr, "datacustoms scan: --today wants a real date YYYY-MM-DD, got \"%s\"\n",
                     v->c_str());
        return 2;
      }
    } else if (a == "--min-confidence") {
      const std::string* v = value("--min-confidence");
      if (!v) return 2;
      if (!parse_confidence(*v, &min)) {
        std::fprintf(stderr, "datacustoms scan: unknown confidence \"%s\"\n", v->c_str());
        return 2;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "datacustoms scan: unknown option \"%s\"\n", a.c_str());
      usage(stderr);
      return 2;
    } else {
      if (have_input) {
        std::fprintf(stderr, "datacustoms scan: only one INPUT\n");
        return 2;
      }
      input = a;
      have_input = true;
    }
  }
  if (specs.empty()) {
    for (auto n : builtin_detector_names()) {
      DetectorSpec s;
      s.name = std::string(n);
      specs.push_back(std::move(s));
    }
  }

  std::vector<PatternError> errors;
  auto db = DetectorDb::compile(specs, &errors);
  if (!db) {
    std::fprintf(stderr, "datacustoms scan: %s\n", db.error().message.c_str());
    return 2;
  }
  auto scratch = Scratch::create(db.value());
  auto pool = StreamPool::create(db.value(), 1);
  if (!scratch || !pool) {
    std::fprintf(stderr, "datacustoms scan: %s\n",
                 (!scratch ? scratch.error() : pool.error()).message.c_str());
    return 2;
  }
  scratch->set_today(today);

  FILE* in = stdin;
  if (input != "-") {
    in = std::fopen(input.c_str(), "rb");
    if (!in) {
      std::fprintf(stderr, "datacustoms scan: %s: %s\n", input.c_str(), std::strerror(errno));
      return 2;
    }
  }
  PrintSink sink;
  sink.db = db.value().get();
  sink.min = min;
  Stream* s = (*pool)->acquire();
  std::vector<uint8_t> buf(64 * 1024);
  int rc = 0;
  for (;;) {
    size_t n = std::fread(buf.data(), 1, buf.size(), in);
    if (n > 0 &&
        scan(*s, *scratch, std::span<const uint8_t>(buf.data(), n), sink) != ScanStatus::kOk) {
      std::fprintf(stderr, "datacustoms scan: scanner error\n");
      rc = 2;
      break;
    }
    if (n < buf.size()) {
      if (std::ferror(in)) {
        std::fprintf(stderr, "datacustoms scan: %s: read error\n", input.c_str());
        rc = 2;
      }
      break;
    }
  }
  if (close(*s, *scratch, sink) != ScanStatus::kOk && rc == 0) rc = 2;
  (*pool)->release(s);
  if (in != stdin) std::fclose(in);
  if (std::fflush(stdout) != 0 || sink.write_error) {
    std::fprintf(stderr, "datacustoms scan: write error\n");
    rc = 2;
  }
  return rc;
}

const dc::appliance::CommandRegistrar reg{
    "scan", "scan a file or stdin with the built-in detectors (JSON lines)", &run_scan};

}  // namespace
