// Masking of sensitive values for flow records (the raw value is never written).
#include "audit/mask.hpp"

#include <vector>

namespace dc::audit {
namespace {
constexpr std::size_t kKeepHead = 6;
constexpr std::size_t kKeepTail = 4;
constexpr std::size_t kMinLengthForHead = 16;  // at least 6 masked characters remain

// Byte offsets of each UTF-8 code point; a stray continuation byte counts as its own character.
std::vector<std::size_t> code_point_starts(std::string_view s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 || starts.empty() || i == 0)
      starts.push_back(i);
    else if (i - starts.back() >= 4)
      starts.push_back(i);
  }
  return starts;
}
}  // namespace

std::string mask_value(std::string_view value) {
  auto starts = code_point_starts(value);
  const std::size_t n = starts.size();
  std::size_t head = 0, tail = 0;
  if (n >= kMinLengthForHead) {
    head = kKeepHead;
    tail = kKeepTail;
  } else {
    tail = std::min(kKeepTail, n / 4);
  }
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t begin = starts[i];
    std::size_t end = i + 1 < n ? starts[i + 1] : value.size();
    if (i < head || i >= n - tail)
      out.append(value.substr(begin, end - begin));
    else
      out.push_back('*');
  }
  return out;
}

}  // namespace dc::audit
