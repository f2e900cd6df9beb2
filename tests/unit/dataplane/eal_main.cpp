// main() for dataplane unit tests: initialises EAL without hugepages, devices or shared files,
// so rte_hash / rte_malloc / mbuf pools work in a plain test process.
#include <gtest/gtest.h>

#include <cstdio>

#include "dataplane/runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto r = dc::dataplane::eal_init({"--no-huge", "--no-pci", "-m", "512", "--no-shconf",
                                    "--log-level=lib.eal:error", "-l", "0"});
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  dc::dataplane::eal_cleanup();
  return rc;
}
