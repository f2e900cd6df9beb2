// Policy loader, the whitelist: [[legal_bases]] and [[counterparties]] with their endpoints.
#include "policy/loader_reader.hpp"

namespace dc::policy::loader_detail {

namespace {

void read_ports(Reader& r, const toml::table& t, EndpointDoc& e) {
  const toml::node* n = t.get("ports");
  if (!n) return;
  auto one = [&](const toml::node& x) {
    Pos p = pos_of(x.source());
    if (auto i = x.as_integer()) {
      e.ports.push_back({{i->get(), i->get()}, p});
    } else if (auto s = x.as_string()) {
      const std::string& v = s->get();
      auto dash = v.find('-');
      long long lo = -1, hi = -1;
      try {
        if (dash == std::string::npos) {
          lo = hi = std::stoll(v);
        } else {
          lo = std::stoll(v.substr(0, dash));
          hi = std::stoll(v.substr(dash + 1));
        }
      } catch (...) {
        lo = hi = -1;
      }
      if (lo < 0) {
        r.diags().error(p, "port range '" + v + "' must look like \"8000-8080\"");
        return;
      }
      e.ports.push_back({{lo, hi}, p});
    } else {
      r.wrong_type(x, "ports", "an integer or a \"low-high\" string");
    }
  };
  if (auto a = n->as_array()) {
    for (auto&& x : *a) one(x);
  } else {
    one(*n);
  }
}

void read_endpoints(Fields& f, CounterpartyDoc& c) {
  Reader& r = f.reader();
  const toml::node* eps = f.table().get("endpoints");
  if (!eps) {
    r.missing(f.table(), "endpoints", "[[counterparties]]");
    return;
  }
  auto arr = eps->as_array();
  if (!arr) {
    r.wrong_type(*eps, "endpoints", "an array of tables");
    return;
  }
  for (auto&& en : *arr) {
    auto et = en.as_table();
    if (!et) {
      r.wrong_type(en, "endpoints", "an array of tables");
      continue;
    }
    EndpointDoc& e = c.endpoints.emplace_back();
    e.pos = pos_of(en.source());
    Fields ef(r, *et, "endpoint");
    read_fields(ef, e, kEndpointFields);
    read_ports(r, *et, e);
  }
}

}  // namespace

void read_bases(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "legal_bases", doc.bases, kBasisFields);
}

void read_counterparties(Reader& r, const toml::table& root, PolicyDoc& doc) {
  read_tables(r, root, "counterparties", doc.counterparties, kCounterpartyFields, read_endpoints);
}

}  // namespace dc::policy::loader_detail
