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

# ---- the installed service under a real systemd ----
# systemd runs as PID 1 of new PID/mount/UTS/IPC namespaces on the fresh root (what
# systemd-nspawn does; $container tells systemd it is in one), in a cgroup of its own. Then, through
# nsenter: `systemctl start` (Type=notify: READY=1 only once the workers run, under the unit's
# whole sandbox, as the datacustoms user, with nothing but the package's Depends installed),
# `datacustoms ctl status`, `systemctl reload` of a good and of a broken policy (ExecReload= is
# `ctl reload`: it must fail and the service stay up), the journal's structured fields, and a
# clean `systemctl stop`.
root=$work/root
for u in getty.target console-getty.service systemd-logind.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
cgroups=""
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cgroups=/sys/fs/cgroup/dc-fresh-$$            # cgroup v2 only
else
  for h in systemd unified; do [ -d /sys/fs/cgroup/$h ] && cgroups="$cgroups /sys/fs/cgroup/$h/dc-fresh-$$"; done
fi
[ -n "$cgroups" ] || fail "no cgroup hierarchy for systemd under /sys/fs/cgroup"
boot_pid=""
rm_cgroups() {  # depth first: systemd leaves its slices behind
  for c in $cgroups; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
  return 0
}
shutdown_systemd() {
  if [ -n "$boot_pid" ]; then
    kill -KILL "$boot_pid" 2>/dev/null || true   # systemd, PID 1 of the namespace: the rest dies with it
    while kill -0 "$boot_pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm_cgroups
}
trap 'shutdown_systemd; rm -rf "$work"' EXIT
(
  for c in $cgroups; do mkdir -p "$c" && echo 0 >"$c/cgroup.procs"; done 2>/dev/null ||
    { echo "cannot make a cgroup for systemd" >&2; exit 1; }
  exec unshare --pid --fork --kill-child --mount --uts --ipc sh -c '
    set -e
    r=$1
    mount --make-rprivate /
    mount --bind $r $r
    mount -t proc proc $r/proc
    mount --rbind /sys $r/sys
    mount -t tmpfs -o mode=755 tmpfs $r/dev
    for d in null zero full random urandom tty; do touch $r/dev/$d; mount --bind /dev/$d $r/dev/$d; done
    mkdir -p $r/dev/pts $r/dev/shm
    mount -t devpts -o newinstance,ptmxmode=666 devpts $r/dev/pts
    ln -sf pts/ptmx $r/dev/ptmx
    mount -t tmpfs tmpfs $r/dev/shm
    mount -t tmpfs tmpfs $r/run
    mount -t tmpfs tmpfs $r/tmp
    cd $r && mkdir -p oldroot && pivot_root . oldroot && umount -l /oldroot
    exec env container=datacustoms-test /lib/systemd/systemd --system
  ' sh "$root"
) >"$work/systemd.out" 2>&1 &
unshare_pid=$!
for _ in $(seq 100); do
  boot_pid=$(pgrep -P "$unshare_pid" -x systemd || true)
  [ -n "$boot_pid" ] && break
  kill -0 "$unshare_pid" 2>/dev/null || { cat "$work/systemd.out" >&2; fail "systemd did not start"; }
  sleep 0.2
done
[ -n "$boot_pid" ] || fail "systemd did not start"
S="nsenter -t $boot_pid -m -p -u -i -r -w"
state=""
for _ in $(seq 150); do
  state=$($S systemctl is-system-running 2>/dev/null || true)
  case "$state" in running | degraded) break ;; esac
  sleep 0.2
done
case "$state" in running | degraded) ;; *) fail "systemd in the fresh root is '$state'" ;; esac
phase "systemd booted in the fresh root ($state)"

journal() { $S journalctl -u datacustoms --no-pager "$@"; }
$S systemctl start datacustoms || { journal -n 40 >&2; fail "systemctl start datacustoms"; }
[ "$($S systemctl is-active datacustoms)" = active ] || { journal -n 40 >&2; fail "not active after start"; }
$S systemctl show -p StatusText datacustoms | grep -q "running with 1 worker" ||
  fail "no READY status text: $($S systemctl show -p StatusText datacustoms)"
phase "systemctl start datacustoms: active, $($S systemctl show -p StatusText --value datacustoms)"
$S datacustoms ctl status >"$work/status.out" 2>&1 || { cat "$work/status.out" >&2; fail "ctl status"; }
grep -q "driver=net_null" "$work/status.out" || fail "ctl status said: $(cat "$work/status.out")"
$S systemctl reload datacustoms || { journal -n 20 >&2; fail "systemctl reload of the unchanged policy"; }
journal | grep -q "policy reloaded: .*(generation 2)" || { journal -n 20 >&2; fail "no reload in the journal"; }
cp "$root/etc/datacustoms/policy.toml" "$work/policy.good"
echo 'broken = [' >>"$root/etc/datacustoms/policy.toml"
if $S systemctl reload datacustoms 2>/dev/null; then fail "systemctl reload of a broken policy succeeded"; fi
cp "$work/policy.good" "$root/etc/datacustoms/policy.toml"
[ "$($S systemctl is-active datacustoms)" = active ] || fail "a rejected reload stopped the service"
journal | grep -q "policy reload rejected" || { journal -n 20 >&2; fail "the rejected reload is not in the journal"; }
phase "systemctl reload: good policy published, broken policy rejected with the service up"
journal -o verbose >"$work/journal.out"
for f in "DC_PORT=inside" "DC_POLICY_SHA256=" "DC_LEVEL=info" "_SYSTEMD_UNIT=datacustoms.service"; do
  grep -q "$f" "$work/journal.out" || fail "journal field $f missing"
done
$S systemd-analyze security datacustoms --no-pager 2>/dev/null | tail -1
$S systemctl stop datacustoms || fail "systemctl stop"
[ "$($S systemctl show -p Result --value datacustoms)" = success ] ||
  { journal -n 20 >&2; fail "stop result: $($S systemctl show -p Result --value datacustoms)"; }
journal | grep -q "== audit ==" || fail "no shutdown summary in the journal"
phase "systemctl stop datacustoms: clean"
