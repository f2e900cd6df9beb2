// The appliance's logger: stderr lines with timestamp and level, or journald records with
// structured fields (appliance/log.hpp).
#include "appliance/log.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace dc::appliance::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_target{static_cast<int>(Target::kAuto)};
std::mutex g_mu;
std::string g_policy_hash;  // under g_mu

constexpr const char* kNames[] = {"debug", "info", "notice", "warning", "error"};
constexpr int kPriorities[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR};

// systemd sets JOURNAL_STREAM=<dev>:<inode> for a service whose stderr is the journal;
// comparing it with stderr's own device and inode tells that apart from an inherited variable.
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (js == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

std::string format(const char* fmt, va_list ap) {
  char small[1024];
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(small, sizeof small, fmt, copy);
  va_end(copy);
  if (n < 0) return fmt;
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  big.resize(static_cast<size_t>(n));
  return big;
}

void send_journal(Level l, const Fields& f, const std::string& msg) {
  std::string worker = f.worker >= 0 ? std::to_string(f.worker) : "";
  // Empty fields are left out: sd_journal_send takes a NULL-terminated list of "FIELD=value".
  const std::string policy = g_policy_hash.empty() ? "" : "DC_POLICY_SHA256=" + g_policy_hash;
  const std::string port = f.port != nullptr ? std::string("DC_PORT=") + f.port : "";
  const std::string wk = worker.empty() ? "" : "DC_WORKER=" + worker;
  const char* extra[3];
  int n = 0;
  for (const std::string* s : {&policy, &port, &wk})
    if (!s->empty()) extra[n++] = s->c_str();
  sd_journal_send("MESSAGE=%s", msg.c_str(), "PRIORITY=%d", kPriorities[static_cast<int>(l)],
                  "SYSLOG_IDENTIFIER=datacustoms", "DC_LEVEL=%s", kNames[static_cast<int>(l)],
                  n > 0 ? "%s" : nullptr, n > 0 ? extra[0] : nullptr, n > 1 ? "%s" : nullptr,
                  n > 1 ? extra[1] : nullptr, n > 2 ? "%s" : nullptr, n > 2 ? extra[2] : nullptr,
                  nullptr);
}

void emit(Level l, const Fields& f, const char* fmt, va_list ap) {
  if (static_cast<int>(l) < g_level.load(std::memory_order_relaxed)) return;
  std::string msg = format(fmt, ap);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  std::lock_guard<std::mutex> lock(g_mu);
  if (to_journal()) return send_journal(l, f, msg);
  std::string ctx;
  if (f.port != nullptr) ctx += std::string(" port=") + f.port;
  if (f.worker >= 0) ctx += " worker=" + std::to_string(f.worker);
  std::fprintf(stderr, "%s %s datacustoms: %s%s\n", timestamp().c_str(),
               kNames[static_cast<int>(l)], msg.c_str(), ctx.c_str());
}

}  // namespace

bool parse_level(std::string_view s, Level& out) noexcept {
  for (int i = 0; i < 5; ++i)
    if (s == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  if (s == "warn") {
    out = Level::kWarning;
    return true;
  }
  return false;
}

const char* level_name(Level l) noexcept { return kNames[static_cast<int>(l)]; }
void set_level(Level l) noexcept { g_level.store(static_cast<int>(l)); }
Level level() noexcept { return static_cast<Level>(g_level.load()); }
void set_target(Target t) noexcept { g_target.store(static_cast<int>(t)); }

bool to_journal() noexcept {
  static const bool journal_stream = stderr_is_journal();
  auto t = static_cast<Target>(g_target.load(std::memory_order_relaxed));
  return t == Target::kJournal || (t == Target::kAuto && journal_stream);
}

void set_policy_hash(const std::string& sha256_hex) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_policy_hash = sha256_hex;
}

void diagnostic(Level l, const std::string& text) {
  if (static_cast<int>(l) < g_level.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (to_journal()) return send_journal(l, Fields{}, text);
  std::fprintf(stderr, "%s\n", text.c_str());
}

void vwrite(Level l, const Fields& f, const char* fmt, va_list ap) { emit(l, f, fmt, ap); }

void write(Level l, const Fields& f, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(l, f, fmt, ap);
  va_end(ap);
}

#define DC_LOG_LEVEL_FN(name, lvl)       \
  void name(const char* fmt, ...) {      \
    va_list ap;                          \
    va_start(ap, fmt);                   \
    emit(Level::lvl, Fields{}, fmt, ap); \
    va_end(ap);                          \
  }
DC_LOG_LEVEL_FN(debug, kDebug)
DC_LOG_LEVEL_FN(info, kInfo)
DC_LOG_LEVEL_FN(notice, kNotice)
DC_LOG_LEVEL_FN(warning, kWarning)
DC_LOG_LEVEL_FN(error, kError)
#undef DC_LOG_LEVEL_FN

}  // namespace dc::appliance::log
