// The two-zone border the accounting and declaration tests share (a domestic 10.1.0.0/16 zone,
// a foreign 203.0.113.0/24 zone, one link between them), as a TOML string literal.
#pragma once

// A macro rather than a constant so that it joins the tests' own raw string literals at compile
// time: R"(... [policy] ...)" DC_TEST_DOM_EXT_BORDER R"(... [[categories]] ...)".
#define DC_TEST_DOM_EXT_BORDER                                                     \
  "[[zones]]\nid = \"dom\"\nkind = \"domestic\"\nprefixes = [\"10.1.0.0/16\"]\n"   \
  "[[zones]]\nid = \"ext\"\nkind = \"foreign\"\nprefixes = [\"203.0.113.0/24\"]\n" \
  "[[links]]\nfrom = \"dom\"\nto = \"ext\"\n"
