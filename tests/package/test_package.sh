#!/bin/sh
# The Debian package: built with cpack from the build tree, its control data and contents read
# with dpkg-deb, then installed with dpkg -i into a scratch root (a copy-on-write overlay of this
# Debian system in a private mount namespace: nothing reaches the real /), where postinst makes
# the user and keys, `config check` passes on the installed example as the service user,
# `systemd-analyze verify` passes on the installed unit and `systemd-analyze security` rates it
# at most MAX_EXPOSURE. Purge keeps the audit log. Needs root (mounts); exit 77 (skip) otherwise.
# usage: test_package.sh BUILD_DIR VERSION MAX_EXPOSURE DPDK_STATIC(ON|OFF)
set -eu
build=$1 version=$2 max=$3 static=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for the scratch root's mounts"; exit 77; }
work=$(mktemp -d /tmp/dc-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
debver=$(echo "$version" | tr - .)

# ---- build the .deb ----
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/out/datacustoms_*.deb)
[ "$(basename "$deb")" = "datacustoms_${debver}_amd64.deb" ] || fail "package file name $deb"

# ---- control data ----
info=$(dpkg-deb -I "$deb")
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = datacustoms ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$debver" ] || fail "Version: $(field Version), want $debver"
deps=$(field Depends)
for d in adduser libc6 libhyperscan5 libssl3 libpcap0.8 libcivetweb; do
  echo "$deps" | grep -q "$d" || fail "Depends lacks $d: $deps"
done
# DPDK: linked in (packaging/dpdk.cmake: no librte package, the drivers' own libraries, e.g.
# libnuma1) or Debian's shared libraries and the plugins every start needs.
case "$static" in
  ON | on | 1 | TRUE | true)
    echo "$deps" | grep -q "librte-" && fail "a static DPDK build depends on librte packages: $deps"
    echo "$deps" | grep -q "libnuma1" || fail "Depends lacks libnuma1 (EAL's): $deps" ;;
  *)
    for d in librte-eal23 librte-ethdev23 librte-mempool-ring23 librte-bus-vdev23; do
      echo "$deps" | grep -q "$d" || fail "Depends lacks $d: $deps"
    done ;;
esac
for f in postinst prerm postrm conffiles; do
  echo "$info" | grep -q " $f\$\| $f " || fail "control archive lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/datacustoms/appliance.toml ||
  fail "appliance.toml is not a conffile"

# ---- contents ----
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/datacustoms ./usr/lib/systemd/system/datacustoms.service \
         ./etc/datacustoms/appliance.toml ./etc/datacustoms/policy.toml \
         ./usr/share/man/man8/datacustoms.8.gz ./usr/share/man/man8/datacustoms-config.8.gz \
         ./usr/share/man/man8/datacustoms-run.8.gz ./usr/share/doc/datacustoms/operations.md \
         ./usr/share/doc/datacustoms/examples/policy/ftz-demo.toml; do
  echo "$contents" | grep -qx "$f" || fail "package lacks $f"
done
if echo "$contents" | grep -q "^./usr/local\|^./tmp\|^./work"; then fail "stray paths in the package"; fi

# ---- install into a scratch root and check it there ----
mkdir -p "$work/upper" "$work/ovl" "$work/root" "$work/pkg"
cp "$deb" "$work/pkg/"
cat >"$work/pkg/inside.sh" <<'INSIDE'
set -eu
fail() { echo "FAIL (in the scratch root): $*" >&2; exit 1; }
dpkg -i /mnt/pkg/datacustoms_*.deb >/mnt/pkg/dpkg.log 2>&1 || { cat /mnt/pkg/dpkg.log >&2; fail "dpkg -i"; }
getent passwd datacustoms >/dev/null || fail "postinst made no datacustoms user"
[ "$(stat -c '%U %a' /etc/datacustoms/keys/audit.key)" = "datacustoms 600" ] || fail "audit.key owner/mode"
[ "$(stat -c '%U %a' /etc/datacustoms/keys/hmac.key)" = "datacustoms 600" ] || fail "hmac.key owner/mode"
runuser -u datacustoms -- datacustoms config check /etc/datacustoms/appliance.toml >/mnt/pkg/check.out 2>&1 ||
  { cat /mnt/pkg/check.out >&2; fail "config check on the installed example"; }
grep -q "appliance.toml: ok" /mnt/pkg/check.out || fail "config check said: $(cat /mnt/pkg/check.out)"
systemd-analyze verify /lib/systemd/system/datacustoms.service >/mnt/pkg/verify.out 2>&1 ||
  { cat /mnt/pkg/verify.out >&2; fail "systemd-analyze verify"; }
[ -s /mnt/pkg/verify.out ] && { cat /mnt/pkg/verify.out >&2; fail "systemd-analyze verify warned"; }
systemd-analyze security --offline=true /lib/systemd/system/datacustoms.service >/mnt/pkg/security.out 2>&1 || true
grep "Overall exposure level" /mnt/pkg/security.out >/mnt/pkg/exposure || { cat /mnt/pkg/security.out >&2; fail "no exposure level"; }
man -w datacustoms-config >/dev/null 2>&1 || fail "man datacustoms-config finds no page"
mkdir -p /var/lib/datacustoms/audit && echo record >/var/lib/datacustoms/audit/audit-1.jsonl
dpkg -P datacustoms >/mnt/pkg/purge.log 2>&1 || { cat /mnt/pkg/purge.log >&2; fail "dpkg -P"; }
[ -e /var/lib/datacustoms/audit/audit-1.jsonl ] || fail "purge removed the audit log"
[ ! -e /usr/bin/datacustoms ] && [ ! -e /etc/datacustoms/keys ] || fail "purge left the binary or the keys"
INSIDE
unshare -m sh -c '
  set -e
  w=$1
  mount -t overlay overlay -o lowerdir=/,upperdir=$w/upper,workdir=$w/ovl $w/root
  for d in proc sys dev; do mount --rbind /$d $w/root/$d; done
  mount -t tmpfs tmpfs $w/root/tmp
  mount -t tmpfs tmpfs $w/root/run
  mkdir -p $w/root/mnt/pkg && mount --bind $w/pkg $w/root/mnt/pkg
  chroot $w/root sh /mnt/pkg/inside.sh
' sh "$work" || fail "the scratch-root install (above)"
score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' "$work/pkg/exposure")
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' ||
  fail "systemd-analyze security exposure $score is above $max"
echo "package ok: $(basename "$deb"), installed and purged in a scratch root, exposure $score (max $max)"
