#!/bin/sh
# Installs every Debian package datacustoms needs to build, test and run (Debian 12, as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
arch=$(dpkg --print-architecture)
# libdpdk-dev also brings what a static DPDK link needs (DC_DPDK_STATIC, the default:
# libibverbs-dev, libnuma-dev, libpcap-dev, libbsd-dev, libelf-dev, libbpf-dev, libxdp-dev, libfdt-dev,
# libjansson-dev, libisal-dev, libipsec-mb-dev are among its Depends), so none is listed here.
# Hyperscan is x86-64 only; Vectorscan is its API-compatible fork for other CPUs.
if [ "$arch" = amd64 ]; then hs=libhyperscan-dev; else hs=libvectorscan-dev; fi
pkgs="build-essential cmake ninja-build pkg-config python3 \
  libdpdk-dev dpdk $hs libssl-dev libpcap-dev zlib1g-dev libbrotli-dev libtomlplusplus-dev nlohmann-json3-dev libcivetweb-dev \
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev clang-format-14 \
  libhiredis-dev liblmdb-dev lmdb-utils redis-server iproute2 ethtool procps curl \
  libnghttp2-dev nghttp2-server nghttp2-client openssl chromium libsystemd-dev dpdk-dev \
  libcrypt-dev debootstrap help2man"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
