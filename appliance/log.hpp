#pragma once
// The appliance's logger (control plane only; never called per packet): levels, timestamps, one
// line per message to stderr, or to the systemd journal with structured fields (policy hash,
// port, worker) when stderr is connected to journald ($JOURNAL_STREAM, systemd.exec(5)).
// Any thread; messages are serialised by a lock.
#include <cstdarg>
#include <string>
#include <string_view>

namespace dc::appliance::log {

enum class Level : int { kDebug = 0, kInfo = 1, kNotice = 2, kWarning = 3, kError = 4 };

// "debug", "info", "notice", "warning" (or "warn"), "error"; false for anything else.
bool parse_level(std::string_view s, Level& out) noexcept;
const char* level_name(Level l) noexcept;
void set_level(Level l) noexcept;  // messages below it are dropped (default: info)
Level level() noexcept;

// Where messages go: stderr, or the journal. kAuto picks the journal when stderr is the
// journal's stream (what systemd sets up for a service with the default StandardError=).
enum class Target : int { kAuto, kStderr, kJournal };
void set_target(Target t) noexcept;
bool to_journal() noexcept;

// The live policy's SHA-256, attached to every later message (journal field DC_POLICY_SHA256).
void set_policy_hash(const std::string& sha256_hex);

// Optional structured fields of one message: port name (DC_PORT) and worker index (DC_WORKER).
struct Fields {
  const char* port = nullptr;
  int worker = -1;
};

void write(Level l, const Fields& f, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void vwrite(Level l, const Fields& f, const char* fmt, va_list ap);

// A compiler-style diagnostic ("file:line:col: error: message") as is: on stderr without
// timestamp or level, so that editors and scripts read it like `policy check`'s output; in the
// journal with its priority.
void diagnostic(Level l, const std::string& text);

void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace dc::appliance::log
