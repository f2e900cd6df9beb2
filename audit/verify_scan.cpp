// Line reader and range set for the streaming verifier (see verify_scan.hpp).
#include "audit/verify_scan.hpp"

#include <algorithm>
#include <cstring>

namespace dc::audit {

bool LineReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
  }
  auto n = file_.read(buf_.data() + len_, buf_.size() - len_);
  if (!n) {
    error_ = n.error();
    eof_ = true;
    return false;
  }
  if (*n == 0) eof_ = true;
  len_ += *n;
  return *n > 0;
}

Result<std::optional<LineReader::Line>> LineReader::next() {
  Line line;
  for (;;) {
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', len_ - pos_);
    std::size_t take = nl ? static_cast<const char*>(nl) - start : len_ - pos_;
    std::size_t room = kMaxLine - std::min(kMaxLine, line.text.size());
    line.text.append(start, std::min(take, room));
    line.too_long = line.too_long || take > room;
    line.bytes += take;
    pos_ += take;
    if (nl) {
      ++pos_;  // the '\n'
      return std::optional<Line>(std::move(line));
    }
    if (!fill()) {
      if (error_) return *error_;
      if (line.bytes == 0) return std::optional<Line>();
      line.complete = false;
      return std::optional<Line>(std::move(line));
    }
  }
}

bool SeqSet::insert(std::uint64_t s) {
  auto next = ranges_.upper_bound(s);  // first range starting after s
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (s <= prev->second) return false;
    if (prev->second + 1 == s) {
      prev->second = s;
      if (next != ranges_.end() && next->first == s + 1) {
        prev->second = next->second;
        ranges_.erase(next);
      }
      return true;
    }
  }
  if (next != ranges_.end() && next->first == s + 1) {
    std::uint64_t last = next->second;
    ranges_.erase(next);
    ranges_.emplace(s, last);
    return true;
  }
  ranges_.emplace(s, s);
  return true;
}

bool SeqSet::contains(std::uint64_t s) const {
  auto next = ranges_.upper_bound(s);
  return next != ranges_.begin() && s <= std::prev(next)->second;
}

std::optional<std::uint64_t> SeqSet::first_at_or_after(std::uint64_t s) const {
  if (contains(s)) return s;
  auto next = ranges_.upper_bound(s);
  if (next == ranges_.end()) return std::nullopt;
  return next->first;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> SeqSet::missing(std::uint64_t a,
                                                                     std::uint64_t b) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  std::uint64_t cur = a;
  auto it = ranges_.upper_bound(a);
  if (it != ranges_.begin() && std::prev(it)->second >= a) it = std::prev(it);
  for (; it != ranges_.end() && it->first <= b && cur <= b; ++it) {
    if (it->first > cur) out.emplace_back(cur, it->first - 1);
    if (it->second >= b) return out;
    cur = std::max(cur, it->second + 1);
  }
  if (cur <= b) out.emplace_back(cur, b);
  return out;
}

}  // namespace dc::audit
