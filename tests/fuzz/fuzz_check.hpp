#pragma once
// The fuzzers' invariant check: a broken invariant prints where and aborts, so libFuzzer keeps the
// input as a crash (assert() would vanish under NDEBUG).
#include <cstdio>
#include <cstdlib>

#define CHECK(c)                                                                   \
  do {                                                                             \
    if (!(c)) {                                                                    \
      __builtin_fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)
