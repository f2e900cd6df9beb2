// Policy compiler, topology: the zones (prefixes -> zone table) and the links between them,
// with the border rules a link must follow (docs/policy-reference.md §2).
#include "policy/compile_internal.hpp"

namespace dc::policy {

void SnapshotBuilder::zones() {
  if (doc_.zones.empty()) d_.error(Pos{}, "the policy declares no [[zones]]");
  std::vector<RangeTable::Entry> entries;
  std::map<std::pair<U128, uint8_t>, std::pair<std::string, Pos>> seen;
  for (const auto& z : doc_.zones) {
    ZoneInfo info;
    info.id = z.id.value;
    info.kind = ZoneKind::kDomestic;
    bool ok = new_id(z.id, "zone", zone_ids_);
    one_of(z.kind, kZoneKindSpellings, info.kind, "zone kind");
    ZoneId id = static_cast<ZoneId>(s_->zones_.size());
    for (const auto& p : z.prefixes) {
      Prefix pf;
      if (auto err = parse_prefix(p.value, pf)) {
        d_.error(p.pos, "bad prefix: " + *err);
        continue;
      }
      auto key = std::make_pair(pf.first(), pf.len);
      if (auto it = seen.find(key); it != seen.end()) {
        d_.error(p.pos,
                 "prefix " + pf.to_string() + " is already in zone '" + it->second.first + "'");
        d_.note(it->second.second, "first listed here");
        continue;
      }
      seen[key] = {z.id.value, p.pos};
      info.prefixes.push_back(pf);
      entries.push_back({pf, id});
    }
    if (ok) zone_ids_[z.id.value] = id;
    s_->zones_.push_back(std::move(info));
  }
  if (s_->zones_.size() >= kNoZone) d_.error(Pos{}, "too many zones");
  s_->zone_table_ = RangeTable::longest_prefix(entries);
}

void SnapshotBuilder::links() {
  size_t nz = s_->zones_.size();
  s_->link_matrix_.assign(nz * nz, kNoLink);
  for (const auto& l : doc_.links) {
    LinkInfo info{};
    // Both ends are looked up (and reported) before giving up on the link.
    const ZoneId* from = find_ref(l.from, "zone", zone_ids_);
    const ZoneId* to = find_ref(l.to, "zone", zone_ids_);
    info.inspect = l.inspect.value;
    info.reply = Reply::kInspected;
    one_of(l.reply, kReplySpellings, info.reply, "reply");
    for (const auto& c : l.counterparties) {
      if (auto id = find_ref(c, "counterparty", counterparty_ids_))
        info.counterparty_list.push_back(*id);
    }
    info.restricts_counterparties = l.has_counterparties;
    if (!from || !to) continue;
    info.from = *from;
    info.to = *to;
    size_t cell = static_cast<size_t>(info.from) * nz + info.to;
    if (s_->link_matrix_[cell] != kNoLink) {
      d_.error(l.pos, "duplicate link from '" + l.from.value + "' to '" + l.to.value + "'");
      continue;
    }
    link_border_checks(l, info);
    s_->link_matrix_[cell] = static_cast<LinkId>(s_->links_.size());
    s_->links_.push_back(std::move(info));
  }
}

// A link that crosses the border inspects every byte towards the foreign zone.
void SnapshotBuilder::link_border_checks(const LinkDoc& l, const LinkInfo& info) {
  bool from_foreign = s_->zones_[info.from].kind == ZoneKind::kForeign;
  bool to_foreign = s_->zones_[info.to].kind == ZoneKind::kForeign;
  std::string name = "link '" + l.from.value + "' -> '" + l.to.value + "'";
  // Every byte that leaves for a foreign zone is inspected, whoever opened the connection.
  if (!from_foreign && to_foreign && !info.inspect) {
    d_.error(l.inspect.pos.line ? l.inspect.pos : l.pos,
             name +
                 " crosses the border: bytes towards the foreign zone must be inspected "
                 "(inspect = true)");
  }
  if (from_foreign && !to_foreign && info.reply == Reply::kUninspected) {
    d_.error(l.reply.pos.line ? l.reply.pos : l.pos,
             name +
                 " crosses the border: replies towards the foreign zone must be \"inspected\" "
                 "or \"none\"");
  }
  if (l.has_counterparties && from_foreign == to_foreign) {
    d_.warning(l.pos, name + " does not cross the border; its counterparties list has no effect");
  }
}

}  // namespace dc::policy
