#!/bin/sh
# The Debian package in a genuinely fresh Debian 12: a `debootstrap --variant=minbase bookworm`
# root from this machine's configured apt mirror (cached as a tarball under the build directory,
# so reruns skip the bootstrap), then in a chroot: `apt-get install ./datacustoms_*.deb` (a
# missing Depends fails here), `datacustoms --version`, `datacustoms config check` on the
# installed example /etc/datacustoms tree as the service user, and `systemd-analyze verify` on the
# installed unit (systemd and man-db installed after the checks above, so they cannot hide a
# missing Depends).
# Downloaded .debs are kept under the build directory too. Prints each phase's duration.
# Needs root (debootstrap, mounts; exit 77 = skip otherwise) and the mirror: an unreachable
# mirror is a failure that says so, never a pass.
# usage: test_fresh_root.sh BUILD_DIR
set -eu
build=$1
t0=$(date +%s)
fail() { echo "FAIL: $*" >&2; exit 1; }
phase() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (debootstrap, chroot mounts)"; exit 77; }
command -v debootstrap >/dev/null ||
  fail "debootstrap is not installed (apt-get install debootstrap; .ci/install-deps.sh installs it)"

# ---- the mirror: the first Debian bookworm (not -security/-updates) source of this machine ----
lists=""
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && lists="$lists $f"
done
[ -n "$lists" ] || fail "no apt sources in /etc/apt/sources.list*"
mirror=$(awk '
  /^[ \t]*#/ { next }
  /^deb / { sub(/ \[[^]]*\]/, "") } /^deb / && $3 == "bookworm" && !m { m = $2 }
  /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" && u != "" && !m) m = u }
  /^$/ { u = "" }
  END { print m }' $lists)
[ -n "$mirror" ] || fail "no Debian bookworm mirror in /etc/apt/sources.list*"
security=$(grep -ho 'https\?://[^ ]*debian-security[^ ]*' $lists | head -1 || true)
curl -fsS --max-time 30 -o /dev/null "$mirror/dists/bookworm/Release" ||
  fail "the apt mirror $mirror is unreachable (fetching dists/bookworm/Release failed): this test needs it"
phase "mirror $mirror"

cache=$build/fresh-root
mkdir -p "$cache/archives/partial"
tarball=$cache/bookworm-minbase.tar.gz
work=$(mktemp -d /tmp/dc-fresh-root.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$tarball" ] || [ "$(cat "$cache/mirror" 2>/dev/null)" != "$mirror" ]; then
  debootstrap --variant=minbase bookworm "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap from $mirror"; }
  tar -C "$work/boot" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  echo "$mirror" >"$cache/mirror"
  rm -rf "$work/boot"
  phase "debootstrap --variant=minbase bookworm (cached in $tarball)"
fi
mkdir "$work/root"
tar -C "$work/root" -xzf "$tarball"
phase "fresh root unpacked"

# ---- the .deb ----
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
mkdir -p "$work/root/mnt/pkg"
cp "$work"/out/datacustoms_*.deb "$work/root/mnt/pkg/"
cp /etc/resolv.conf "$work/root/etc/resolv.conf"
# The suites this machine uses (a package built here may need a library from a point release).
{
  echo "deb $mirror bookworm main"
  echo "deb $mirror bookworm-updates main"
  [ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$work/root/etc/apt/sources.list"
phase "package built: $(basename "$work"/out/datacustoms_*.deb)"

cat >"$work/root/mnt/pkg/inside.sh" <<'INSIDE'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
t0=$(date +%s)
phase() { echo "[in the fresh root, $(( $(date +%s) - t0 )) s] $*"; }
fail() { echo "FAIL (in the fresh root): $*" >&2; exit 1; }
apt-get update -qq >/mnt/pkg/update.log 2>&1 || { cat /mnt/pkg/update.log >&2; fail "apt-get update"; }
apt-get install -y -q --no-install-recommends /mnt/pkg/datacustoms_*.deb >/mnt/pkg/install.log 2>&1 ||
  { tail -30 /mnt/pkg/install.log >&2; fail "apt-get install ./datacustoms_*.deb"; }
phase "apt-get install ./datacustoms_*.deb: $(grep -c '^Setting up' /mnt/pkg/install.log) package(s) set up"
datacustoms --version || fail "datacustoms --version"
runuser -u datacustoms -- datacustoms config check /etc/datacustoms/appliance.toml >/mnt/pkg/check.out 2>&1 ||
  { cat /mnt/pkg/check.out >&2; fail "config check on the installed example"; }
cat /mnt/pkg/check.out
grep -q "appliance.toml: ok" /mnt/pkg/check.out || fail "config check said: $(cat /mnt/pkg/check.out)"
# man-db too: verify runs `man` for the unit's Documentation=man:datacustoms(8) (minbase has none).
apt-get install -y -q --no-install-recommends systemd man-db >/mnt/pkg/systemd.log 2>&1 ||
  { tail -30 /mnt/pkg/systemd.log >&2; fail "apt-get install systemd man-db"; }
systemd-analyze verify /lib/systemd/system/datacustoms.service >/mnt/pkg/verify.out 2>&1 ||
  { cat /mnt/pkg/verify.out >&2; fail "systemd-analyze verify"; }
[ -s /mnt/pkg/verify.out ] && { cat /mnt/pkg/verify.out >&2; fail "systemd-analyze verify warned"; }
phase "systemd-analyze verify datacustoms.service: clean"
INSIDE
unshare -m sh -c '
  set -e
  r=$1/root
  mount -t proc proc $r/proc
  mount --rbind /sys $r/sys
  mount --rbind /dev $r/dev
  mount -t tmpfs tmpfs $r/tmp
  mount -t tmpfs tmpfs $r/run
  mount --bind $2/archives $r/var/cache/apt/archives
  chroot $r sh /mnt/pkg/inside.sh
' sh "$work" "$cache" || fail "the fresh-root install (above)"
phase "fresh-root install ok"
