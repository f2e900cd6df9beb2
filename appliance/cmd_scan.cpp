// `datacustoms scan`: run the built-in detectors (or, with --policy, the policy's compiled
// detector database) over a file or stdin, one JSON line per finding.
// The input goes through the same streaming scanner as live traffic, in 64 KiB chunks, so memory
// stays bounded whatever the input size. Only masked values are printed, never raw values.
// With --policy, each finding also names the negative-list categories its detector feeds
// (Snapshot::detector_categories), so an officer sees what the appliance would count it as.
// With --http, the input is one direction of an HTTP/1.x exchange: the raw bytes are scanned as
// before, and every stream the decoding layer (inspect/decode) takes out of it too; findings
// then carry their decoding "path", and framing anomalies and decoding conditions are printed.
// A raw file starting with "PK\3\4" (ZIP, XLSX, DOCX, PPTX) is walked as an archive instead
// (paths "file > zip:<name> > <member>").
// An input that starts with the HTTP/2 connection preface is decoded as an h2c client stream.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "appliance/command.hpp"
#include "appliance/log.hpp"
#include "base/file.hpp"
#include "base/time.hpp"
#include "inspect/decode/body.hpp"
#include "inspect/decode/h2_flow.hpp"
#include "inspect/decode/http_flow.hpp"
#include "inspect/detect/detectors.hpp"
#include "inspect/detect/scanner.hpp"
#include "policy/policy.hpp"

namespace {

using namespace dc::inspect;

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: datacustoms scan [--policy FILE] [--detector NAME]... [--today YYYY-MM-DD]\n"
      "                        [--min-confidence LEVEL] [--http] [--list] [INPUT|-]\n"
      "\n"
      "Scans INPUT (default: stdin) with the built-in detectors and prints one JSON line\n"
      "per finding: {\"detector\",\"category\",\"offset\",\"length\",\"confidence\",\"masked\"}.\n"
      "  --policy FILE          scan with the detectors FILE uses (built-in and custom) and\n"
      "                         name the categories each finding feeds: \"category\" is the\n"
      "                         first, \"categories\" all of them (without --policy: null, and\n"
      "                         no \"categories\" field). Policy errors: file:line:col, exit 2.\n"
      "  --detector NAME        only this detector (repeatable; default: all built-ins, or\n"
      "                         with --policy all of the policy's detectors)\n"
      "  --today YYYY-MM-DD     date for birth-date checks (default: today, UTC)\n"
      "  --min-confidence LEVEL very_unlikely|unlikely|possible|likely|very_likely\n"
      "                         (default: very_unlikely, i.e. every validated finding)\n"
      "  --http                 INPUT is HTTP/1.x requests (or responses, if it starts with\n"
      "                         \"HTTP/\"): also scan what the decoding layer takes out of\n"
      "                         it (dechunked, decompressed, form/JSON/multipart/base64);\n"
      "                         each finding gets \"path\" (\"raw\" or e.g. \"http.request.body\n"
      "                         > gzip > json\"; offsets are within that stream), and\n"
      "                         {\"http_anomaly\"} / {\"decode_condition\",\"path\"} lines;\n"
      "                         an INPUT starting with PK\\3\\4 (ZIP/XLSX/DOCX) is walked as\n"
      "                         an archive (path \"file > zip:NAME > MEMBER\")\n"
      "                         an input starting with the HTTP/2 preface is read as an\n"
      "                         h2c client stream (paths \"h2.stream[N].request.body ...\")\n"
      "  --list                 list the built-in detectors (with --policy: the policy's\n"
      "                         detectors and their categories) and exit\n"
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

// Category ids of every category a policy detector feeds, in category-index order.
std::vector<std::string> detector_category_ids(const dc::policy::Snapshot& snap, uint32_t d) {
  std::vector<std::string> ids;
  uint64_t mask = snap.detector_categories(d);
  while (mask) {
    unsigned c = static_cast<unsigned>(__builtin_ctzll(mask));
    mask &= mask - 1;
    if (c < snap.category_count()) ids.push_back(snap.category(static_cast<uint8_t>(c)).id);
  }
  return ids;
}

struct PrintSink : FindingSink {
  const DetectorDb* db = nullptr;
  Confidence min = Confidence::kVeryUnlikely;
  // Detectors to print (indexed by detector; empty = all).
  std::vector<bool> only;
  // With --policy: per detector, the ready-made JSON of its categories:
  // "\"category\":\"first\",\"categories\":[...]". Empty vector = no policy.
  std::vector<std::string> category_json;
  std::string line;
  const char* path = nullptr;  // --http: decoding path of the stream being scanned
  bool write_error = false;
  void print(const std::string& l) noexcept {
    if (std::fwrite(l.data(), 1, l.size(), stdout) != l.size()) write_error = true;
  }
  void on_finding(const Finding& f) noexcept override {
    if (f.confidence < min) return;
    if (!only.empty() && (f.detector >= only.size() || !only[f.detector])) return;
    line.clear();
    line += "{\"detector\":";
    json_string(line, db->detector(f.detector).name);
    line += ',';
    if (f.detector < category_json.size())
      line += category_json[f.detector];
    else
      line += "\"category\":null";
    line += ",\"offset\":" + std::to_string(f.offset) + ",\"length\":" + std::to_string(f.length) +
            ",\"confidence\":";
    json_string(line, to_string(f.confidence));
    line += ",\"masked\":";
    json_string(line, f.masked);
    if (path != nullptr) {
      line += ",\"path\":";
      json_string(line, path);
    }
    line += "}\n";
    print(line);
  }
};

// --http: scans each decoded stream with a scanner stream of its own, one per path depth (at
// most one decoded stream per depth is open at a time), closed when the stream ends.
class HttpScanSink : public dc::inspect::decoding::DecodeSink {
 public:
  HttpScanSink(StreamPool& pool, Scratch& scratch, PrintSink& out, bool response)
      : pool_(pool), scratch_(scratch), out_(out), response_(response) {}
  void set_response(bool r) noexcept { response_ = r; }
  void on_data(const dc::inspect::decoding::Path& where,
               std::span<const uint8_t> b) noexcept override {
    Slot& s = slots_[where.lane()][where.depth()];
    if (s.stream == nullptr) {
      s.stream = pool_.acquire();
      if (s.stream == nullptr) return;
      where.format(s.path, sizeof s.path);
    }
    out_.path = s.path;
    if (scan(*s.stream, scratch_, b, out_) != ScanStatus::kOk) error = true;
  }
  void on_end(const dc::inspect::decoding::Path& where) noexcept override {
    close_slot(slots_[where.lane()][where.depth()]);
  }
  void on_anomaly(dc::inspect::decoding::HttpAnomaly a) noexcept override {
    // A response file has no request before it: "assumed GET" is not worth a line.
    if (response_ && a == dc::inspect::decoding::HttpAnomaly::kResponseWithoutRequest) return;
    out_.print(std::string("{\"http_anomaly\":\"") + http_anomaly_name(a) + "\"}\n");
  }
  void on_condition(dc::inspect::decoding::DecodeCondition c,
                    const dc::inspect::decoding::Path& where) noexcept override {
    char p[256];
    where.format(p, sizeof p);
    std::string l =
        std::string("{\"decode_condition\":\"") + decode_condition_name(c) + "\",\"path\":";
    json_string(l, p);
    out_.print(l + "}\n");
  }
  void close_all() noexcept {
    for (auto& lane : slots_) {
      for (auto& s : lane) close_slot(s);
    }
  }
  bool error = false;

 private:
  struct Slot {
    Stream* stream = nullptr;
    char path[256] = {};
  };
  void close_slot(Slot& s) noexcept {
    if (s.stream == nullptr) return;
    out_.path = s.path;
    if (close(*s.stream, scratch_, out_) != ScanStatus::kOk) error = true;
    pool_.release(s.stream);
    s.stream = nullptr;
  }
  StreamPool& pool_;
  Scratch& scratch_;
  PrintSink& out_;
  bool response_;
  // One per lane and depth: HTTP/2 bodies of several streams are open at once (events.hpp).
  Slot slots_[dc::inspect::decoding::kMaxLanes][dc::inspect::decoding::Path::kMaxDepth + 1];
};

// The decoding side of --http: fed the same chunks as the raw scan.
struct HttpScan {
  std::unique_ptr<dc::inspect::decoding::DecodeWorker> worker;
  std::unique_ptr<dc::inspect::decoding::HttpFlowDecoder> flow;
  std::unique_ptr<dc::inspect::decoding::H2FlowDecoder> h2;  // the input is h2c
  std::unique_ptr<HttpScanSink> sink;
  dc::inspect::decoding::FlowSide side = dc::inspect::decoding::FlowSide::kClient;
  bool started = false;
  std::string name;                                          // of a raw archive file
  std::unique_ptr<dc::inspect::decoding::BodyDecoder> file;  // set when the input is an archive
  dc::inspect::decoding::DirOutput file_out;
  void feed(std::span<const uint8_t> b) {
    using dc::inspect::decoding::FlowSide;
    namespace dec = dc::inspect::decoding;
    if (!started && b.size() >= 4 && std::memcmp(b.data(), "PK\3\4", 4) == 0) {
      started = true;
      dec::BodySpec spec;
      spec.root = dec::LayerKind::kFile;
      spec.content = dec::ContentKind::kZip;
      file = std::make_unique<dec::BodyDecoder>();
      file->begin(spec, *worker, *sink, file_out, name);
    }
    if (file) return file->feed(b, *worker, *sink);
    if (!started && !b.empty()) {
      started = true;
      const bool response = b.size() >= 5 && std::memcmp(b.data(), "HTTP/", 5) == 0;
      side = response ? FlowSide::kServer : FlowSide::kClient;
      sink->set_response(response);
      if (dc::inspect::decoding::sniff_h2c(b) == dc::inspect::decoding::H2Sniff::kH2) {
        h2 = std::make_unique<dc::inspect::decoding::H2FlowDecoder>();
      }
    }
    if (h2) return h2->feed(side, b, *worker, *sink);
    flow->feed(side, b, *worker, *sink);
  }
  void finish() {
    if (file) {
      file->finish(*worker, *sink);
    } else if (h2) {
      h2->finish(side, *worker, *sink);
    } else {
      flow->finish(side, *worker, *sink);
    }
    sink->close_all();
  }
};

CivilDate utc_today() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return dc::base::civil_date_at(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count(),
                                 0);
}

// What the command line asks for.
struct ScanArgs {
  std::vector<std::string> only_names;  // --detector NAME (validated after --policy is known)
  std::string policy_path;
  bool list = false;
  bool http = false;
  std::string input = "-";
  bool have_input = false;
  CivilDate today = utc_today();
  Confidence min = Confidence::kVeryUnlikely;
};

// The value of an option that needs one (the argument after it); nullptr, reported, if missing.
const std::string* option_value(const std::vector<std::string>& args, size_t& i, const char* opt) {
  if (i + 1 >= args.size()) {
    std::fprintf(stderr, "datacustoms scan: %s needs a value\n", opt);
    return nullptr;
  }
  return &args[++i];
}

// Returns -1 when `out` is complete, else the exit code (--help, usage errors).
int parse_one(const std::vector<std::string>& args, size_t& i, ScanArgs& out) {
  const std::string& a = args[i];
  if (a == "--help" || a == "-h") {
    usage(stdout);
    return 0;
  }
  if (a == "--list") {
    out.list = true;
    return -1;
  }
  if (a == "--http") {
    out.http = true;
    return -1;
  }
  if (a == "--policy" || a == "--detector" || a == "--today" || a == "--min-confidence") {
    const std::string* v = option_value(args, i, a.c_str());
    if (!v) return 2;
    if (a == "--policy") {
      out.policy_path = *v;
    } else if (a == "--detector") {
      out.only_names.push_back(*v);
    } else if (a == "--today" && !parse_civil_date(*v, &out.today)) {
      std::fprintf(stderr, "datacustoms scan: --today wants a real date YYYY-MM-DD, got \"%s\"\n",
                   v->c_str());
      return 2;
    } else if (a == "--min-confidence" && !parse_confidence(*v, &out.min)) {
      std::fprintf(stderr, "datacustoms scan: unknown confidence \"%s\"\n", v->c_str());
      return 2;
    }
    return -1;
  }
  if (a.size() > 1 && a[0] == '-') {
    std::fprintf(stderr, "datacustoms scan: unknown option \"%s\"\n", a.c_str());
    usage(stderr);
    return 2;
  }
  if (out.have_input) {
    std::fprintf(stderr, "datacustoms scan: only one INPUT\n");
    return 2;
  }
  out.input = a;
  out.have_input = true;
  return -1;
}

// The detectors to scan with.
struct Detectors {
  std::shared_ptr<const DetectorDb> db;
  std::shared_ptr<const dc::policy::Snapshot> snap;  // with --policy
  std::vector<bool> only;                            // with --policy --detector
};

void list_policy_detectors(const dc::policy::Snapshot& snap) {
  const auto& names = snap.detector_names();
  for (uint32_t d = 0; d < names.size(); ++d) {
    std::string cats;
    for (const auto& id : detector_category_ids(snap, d)) cats += (cats.empty() ? "" : ",") + id;
    std::printf("%-24s %s\n", names[d].c_str(), cats.empty() ? "-" : cats.c_str());
  }
}

// policy_detectors() and builtin_detectors() return -1 when `out.db` is ready, else the exit code
// (--list done, usage or policy errors, nothing to scan).
int policy_detectors(const ScanArgs& a, Detectors& out) {
  // The same compilation as `policy check` and `run`, minus the wall-clock expiry warnings
  // (nothing here depends on "now" except --today).
  dc::policy::Diagnostics diags(a.policy_path);
  auto loaded = dc::policy::load_policy_file(a.policy_path, diags);
  if (!loaded) {
    dc::appliance::log::error("scan: %s\n", loaded.error().message.c_str());
    return 2;
  }
  std::fputs(diags.format().c_str(), stderr);
  if (diags.has_errors() || !loaded.value()) {
    dc::appliance::log::error("scan: policy %s has %zu error(s); nothing scanned\n",
                              a.policy_path.c_str(), diags.error_count());
    return 2;
  }
  out.snap = loaded.value();
  const auto& names = out.snap->detector_names();
  if (a.list) {
    list_policy_detectors(*out.snap);
    return 0;
  }
  for (const auto& n : a.only_names) {
    auto it = std::find(names.begin(), names.end(), n);
    if (it == names.end()) {
      std::fprintf(stderr,
                   "datacustoms scan: detector \"%s\" is not used by %s (see --policy %s "
                   "--list)\n",
                   n.c_str(), a.policy_path.c_str(), a.policy_path.c_str());
      return 2;
    }
    if (out.only.empty()) out.only.assign(names.size(), false);
    out.only[static_cast<size_t>(it - names.begin())] = true;
  }
  out.db = out.snap->detector_db();
  if (!out.db) {
    dc::appliance::log::warning("scan: policy %s uses no detectors; nothing to scan\n",
                                a.policy_path.c_str());
    return 0;
  }
  return -1;
}

int builtin_detectors(const ScanArgs& a, Detectors& out) {
  if (a.list) {
    for (auto n : builtin_detector_names()) {
      auto d = describe_builtin(n);
      std::printf("%-18s %.*s\n", std::string(n).c_str(), static_cast<int>(d->title.size()),
                  d->title.data());
    }
    return 0;
  }
  std::vector<DetectorSpec> specs;
  for (const auto& n : a.only_names) {
    if (!describe_builtin(n)) {
      std::fprintf(stderr, "datacustoms scan: unknown detector \"%s\" (see --list)\n", n.c_str());
      return 2;
    }
    DetectorSpec s;
    s.name = n;
    specs.push_back(std::move(s));
  }
  if (specs.empty()) {
    for (auto n : builtin_detector_names()) {
      DetectorSpec s;
      s.name = std::string(n);
      specs.push_back(std::move(s));
    }
  }
  std::vector<PatternError> errors;
  auto compiled = DetectorDb::compile(specs, &errors);
  if (!compiled) {
    dc::appliance::log::error("scan: %s\n", compiled.error().message.c_str());
    return 2;
  }
  out.db = std::move(compiled.value());
  return -1;
}

// Per policy detector, the JSON of the categories it feeds:
// "\"category\":\"first\",\"categories\":[...]".
std::vector<std::string> category_json(const dc::policy::Snapshot& snap, const DetectorDb& db) {
  std::vector<std::string> out;
  // Detector index i of the policy's database == index i of detector_names() (policy/compile).
  for (uint32_t d = 0; d < db.detector_count(); ++d) {
    auto ids = detector_category_ids(snap, d);
    std::string j = "\"category\":";
    if (ids.empty())
      j += "null";
    else
      json_string(j, ids.front());
    j += ",\"categories\":[";
    for (size_t k = 0; k < ids.size(); ++k) {
      if (k) j += ',';
      json_string(j, ids[k]);
    }
    j += ']';
    out.push_back(std::move(j));
  }
  return out;
}

// Streams `in` through the scanner in 64 KiB chunks; returns the exit code.
// At most base::kMaxSampleBytes are read: a sample is a file, not an endless device.
int scan_stream(FILE* in, const std::string& input, Stream& s, Scratch& scratch, PrintSink& sink,
                HttpScan* http) {
  std::vector<uint8_t> buf(64 * 1024);
  int rc = 0;
  for (std::size_t total = 0;;) {
    size_t n = std::fread(buf.data(), 1, buf.size(), in);
    total += n;
    if (total > dc::base::kMaxSampleBytes) {
      dc::appliance::log::error("scan: %s: larger than %zu bytes\n", input.c_str(),
                                dc::base::kMaxSampleBytes);
      rc = 2;
      break;
    }
    if (http != nullptr) sink.path = "raw";
    if (n > 0 &&
        scan(s, scratch, std::span<const uint8_t>(buf.data(), n), sink) != ScanStatus::kOk) {
      dc::appliance::log::error("scan: scanner error\n");
      rc = 2;
      break;
    }
    if (http != nullptr) http->feed({buf.data(), n});
    if (n < buf.size()) {
      if (std::ferror(in)) {
        dc::appliance::log::error("scan: %s: read error\n", input.c_str());
        rc = 2;
      }
      break;
    }
  }
  if (http != nullptr) sink.path = "raw";
  if (close(s, scratch, sink) != ScanStatus::kOk && rc == 0) rc = 2;
  if (http != nullptr) {
    http->finish();
    if (http->sink->error && rc == 0) rc = 2;
  }
  return rc;
}

int run_scan(const std::vector<std::string>& args) {
  ScanArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    if (int rc = parse_one(args, i, a); rc >= 0) return rc;
  }
  Detectors det;
  int rc = a.policy_path.empty() ? builtin_detectors(a, det) : policy_detectors(a, det);
  if (rc >= 0) return rc;

  auto scratch = Scratch::create(det.db);
  // --http: one stream for the raw bytes and one per decoding lane and path depth.
  constexpr std::size_t kDecoded =
      dc::inspect::decoding::kMaxLanes * (dc::inspect::decoding::Path::kMaxDepth + 1);
  auto pool = StreamPool::create(det.db, a.http ? kDecoded + 1 : 1);
  if (!scratch || !pool) {
    dc::appliance::log::error("scan: %s\n",
                              (!scratch ? scratch.error() : pool.error()).message.c_str());
    return 2;
  }
  scratch->set_today(a.today);

  FILE* in = stdin;
  if (a.input != "-") {
    // A regular file, or a pipe (`scan <(...)`); never a directory or a device.
    struct stat st {};
    if (::stat(a.input.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
      std::fprintf(stderr, "datacustoms scan: %s: not a regular file or pipe\n", a.input.c_str());
      return 2;
    }
    in = std::fopen(a.input.c_str(), "rb");
    if (!in) {
      dc::appliance::log::error("scan: %s: %s\n", a.input.c_str(), std::strerror(errno));
      return 2;
    }
  }
  PrintSink sink;
  sink.db = det.db.get();
  sink.min = a.min;
  sink.only = std::move(det.only);
  if (det.snap) sink.category_json = category_json(*det.snap, *det.db);
  std::unique_ptr<HttpScan> http;
  if (a.http) {
    auto w = dc::inspect::decoding::DecodeWorker::create({});
    if (!w) {
      dc::appliance::log::error("scan: %s\n", w.error().message.c_str());
      return 2;
    }
    http = std::make_unique<HttpScan>();
    http->worker = std::move(w.value());
    http->flow = std::make_unique<dc::inspect::decoding::HttpFlowDecoder>();
    http->sink = std::make_unique<HttpScanSink>(**pool, *scratch, sink, false);
    if (a.input != "-") http->name = a.input.substr(a.input.find_last_of('/') + 1);
  }
  Stream* s = (*pool)->acquire();
  rc = scan_stream(in, a.input, *s, *scratch, sink, http.get());
  (*pool)->release(s);
  if (in != stdin) std::fclose(in);
  if (std::fflush(stdout) != 0 || sink.write_error) {
    dc::appliance::log::error("scan: write error\n");
    rc = 2;
  }
  return rc;
}

const dc::appliance::CommandRegistrar reg{
    "scan", "scan a file or stdin with the built-in or a policy's detectors (JSON lines)",
    &run_scan};

}  // namespace
