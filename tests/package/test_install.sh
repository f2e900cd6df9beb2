#!/bin/sh
# `cmake --install` puts a working binary, the docs, the example configuration and a systemd
# unit whose paths are the configured ones. usage: test_install.sh BUILD_DIR VERSION BINDIR DOCDIR
set -eu
build=$1 version=$2 bindir=$3 docdir=$4
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
cmake --install "$build" --prefix "$dest/usr" >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }
got=$("$dest/usr/bin/datacustoms" --version)
[ "$got" = "datacustoms $version" ] || fail "--version says '$got', want 'datacustoms $version'"
unit="$dest/usr/lib/systemd/system/datacustoms.service"
[ -f "$unit" ] || fail "no systemd unit at lib/systemd/system/datacustoms.service"
grep -qx "ExecStart=$bindir/datacustoms run --config /etc/datacustoms/appliance.toml" "$unit" ||
  fail "the unit's ExecStart does not name $bindir/datacustoms"
grep -q "^Documentation=file://$docdir/operations.md" "$unit" || fail "Documentation= path"
grep -qx "StateDirectory=datacustoms" "$unit" || fail "no StateDirectory= (audit dir on a fresh system)"
if grep -q "@" "$unit"; then fail "unexpanded @VARIABLE@ in the unit"; fi
for f in operations.md architecture.md audit-format.md security.md policy-reference.md \
         examples/appliance.toml examples/policy/ftz-demo.toml; do
  [ -f "$dest/usr/share/doc/datacustoms/$f" ] || fail "missing share/doc/datacustoms/$f"
done
echo "install ok: $dest/usr"
