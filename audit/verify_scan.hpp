#pragma once
// Building blocks of the streaming verifier (audit/verify.cpp): a line reader over one log file
// with a line-length cap, and a set of record numbers kept as ranges, so that memory follows the
// number of anomalies in a log, not its size. Internal to audit/; any thread.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/file.hpp"
#include "base/result.hpp"

namespace dc::audit {

// Reads one log file line by line in 64 KiB chunks.
class LineReader {
 public:
  static constexpr std::size_t kMaxLine = 1u << 20;  // a record is a few hundred bytes
  explicit LineReader(base::RegularFile file) : file_(std::move(file)) {}

  struct Line {
    std::string text;         // without the '\n'; cut at kMaxLine when too_long
    bool complete = true;     // ended with '\n'
    bool too_long = false;    // longer than kMaxLine (the rest was skipped)
    std::uint64_t bytes = 0;  // bytes of the line as stored, '\n' excluded
  };
  // The next line; std::nullopt at end of file. An I/O error is an Error.
  Result<std::optional<Line>> next();

 private:
  bool fill();
  base::RegularFile file_;
  std::vector<char> buf_ = std::vector<char>(1 << 16);
  std::size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
  std::optional<Error> error_;
};

// A set of record numbers as disjoint ranges [first, last]. A log without anomalies is one range
// per file at most (they merge), so lookups and memory stay small whatever the log's size.
class SeqSet {
 public:
  // Adds `s`; false if it was already present.
  bool insert(std::uint64_t s);
  bool contains(std::uint64_t s) const;
  // The smallest member >= s, if any.
  std::optional<std::uint64_t> first_at_or_after(std::uint64_t s) const;
  // The ranges of [a, b] that are NOT members, in order (O(ranges in [a, b])).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> missing(std::uint64_t a,
                                                               std::uint64_t b) const;

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // first -> last
};

}  // namespace dc::audit
