#!/bin/sh
# Quick start, step 2: install, build and run the whole test suite (unit, dataplane, fuzz, ...).
# Ends with ctest's summary; exits non-zero if any test fails.
set -eu
cd "$(dirname "$0")/.."
sh .ci/install-deps.sh
# The fuzz targets need clang (libFuzzer + ASan/UBSan); they get their own build tree, and the main
# tree's ctest runs their short fuzz sessions, so one ctest summary covers everything.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DDC_FUZZ=ON -DDC_BENCH=OFF \
  -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build-fuzz -j2 dc_fuzzers
sh .ci/build.sh -DDC_FUZZ_BUILD_DIR="$(pwd)/build-fuzz"
cd build
ctest -j2 --output-on-failure --timeout 600
