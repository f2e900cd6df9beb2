// Drop reason names: "kTruncatedEthernet" -> "truncated_ethernet", computed at compile time from
// dataplane/drop_reasons.def so that counter names cannot drift from the enum.
#include "dataplane/drop_reason.hpp"

#include <string_view>

namespace dc::dataplane {
namespace {

constexpr std::size_t kMaxNameLen = 40;  // longest generated name + NUL; overflow fails to compile

struct NameTable {
  char names[kDropReasonCount][kMaxNameLen]{};
  const char* descriptions[kDropReasonCount]{};
};

constexpr NameTable make_name_table() {
  NameTable t{};
  constexpr const char* kRaw[] = {
#define DC_DROP_REASON(name, desc) #name,
#include "dataplane/drop_reasons.def"
  };
  constexpr const char* kDesc[] = {
#define DC_DROP_REASON(name, desc) desc,
#include "dataplane/drop_reasons.def"
  };
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    const char* s = kRaw[i] + 1;  // skip the 'k' prefix
    std::size_t j = 0;
    for (std::size_t k = 0; s[k] != '\0'; ++k) {
      const char c = s[k];
      if (c >= 'A' && c <= 'Z') {
        if (j != 0) t.names[i][j++] = '_';
        t.names[i][j++] = static_cast<char>(c - 'A' + 'a');
      } else {
        t.names[i][j++] = c;
      }
    }
    t.names[i][j] = '\0';
    t.descriptions[i] = kDesc[i];
  }
  return t;
}

constexpr NameTable kNames = make_name_table();
static_assert(std::string_view(kNames.names[1]) == "truncated_ethernet");
static_assert(std::string_view(kNames.names[static_cast<std::size_t>(DropReason::kBadIpv4Ihl)]) ==
              "bad_ipv4_ihl");

}  // namespace

const char* drop_reason_name(DropReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kDropReasonCount ? kNames.names[i] : "unknown";
}

const char* drop_reason_description(DropReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < kDropReasonCount ? kNames.descriptions[i] : "unknown drop reason";
}

}  // namespace dc::dataplane
