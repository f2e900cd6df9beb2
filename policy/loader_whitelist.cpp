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
    ef.keys({"prefixes", "ports", "sni", "protocols"});
    ef.list("prefixes", e.prefixes);
    ef.list("sni", e.sni);
    ef.list("protocols", e.protocols);
    read_ports(r, *et, e);
  }
}

}  // namespace

void read_bases(Reader& r, const toml::table& root, PolicyDoc& doc) {
  each_table(r, root, "legal_bases", [&](Fields& f, Pos pos) {
    BasisDoc& b = doc.bases.emplace_back();
    b.pos = pos;
    f.keys({"id", "mechanism", "exemption", "reference", "processor", "issued", "expires",
            "categories", "max_persons", "max_sensitive_persons", "status", "description"});
    f.req("id", b.id);
    f.req("mechanism", b.mechanism);
    f.opt("exemption", b.exemption);
    f.opt("reference", b.reference);
    f.opt("processor", b.processor);
    f.opt("status", b.status);
    f.opt("description", b.description);
    f.req_time("issued", b.issued, false);
    f.req_time("expires", b.expires, true);
    f.list("categories", b.categories);
    f.opt("max_persons", b.max_persons);
    f.opt("max_sensitive_persons", b.max_sensitive_persons);
  });
}

void read_counterparties(Reader& r, const toml::table& root, PolicyDoc& doc) {
  each_table(r, root, "counterparties", [&](Fields& f, Pos pos) {
    CounterpartyDoc& c = doc.counterparties.emplace_back();
    c.pos = pos;
    f.keys({"id", "name", "country", "endpoints", "legal_bases", "allowed_categories",
            "denied_categories", "status", "valid_from", "valid_until", "description"});
    f.req("id", c.id);
    f.req("name", c.name);
    f.req("country", c.country);
    f.opt("status", c.status);
    f.opt("description", c.description);
    f.time("valid_from", c.valid_from, false);
    f.time("valid_until", c.valid_until, true);
    f.list("legal_bases", c.legal_bases);
    c.has_allowed = f.list("allowed_categories", c.allowed_categories);
    f.list("denied_categories", c.denied_categories);
    read_endpoints(f, c);
  });
}

}  // namespace dc::policy::loader_detail
