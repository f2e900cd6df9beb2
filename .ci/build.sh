#!/bin/sh
# Configures and builds datacustoms into build/ (g++, the shipping compiler).
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C build -j2
