#!/bin/sh
# Enforces the module rules of docs/architecture.md:
#  - base/, inspect/, policy/, audit/ never include DPDK (rte_*) headers;
#  - base/ includes no other module of ours (it is the floor every module stands on);
#  - toml++ appears only in the policy loader and the appliance config loader.
set -u
root="$1"
fail=0
for d in base inspect policy audit; do
  if grep -rnE '#include *[<"](rte_|dpdk/)' "$root/$d" --include='*.hpp' --include='*.cpp'; then
    echo "error: $d/ must not include DPDK headers" >&2; fail=1
  fi
done
if grep -rnE '#include *"(inspect|policy|audit|dataplane|appliance)/' "$root/base"; then
  echo "error: base/ must not include other modules" >&2; fail=1
fi
bad=$(grep -rlE '#include *[<"]toml\+\+' "$root/base" "$root/inspect" "$root/policy" "$root/audit" "$root/dataplane" "$root/appliance" \
      --include='*.hpp' --include='*.cpp' | grep -vE '/(policy/loader[^/]*\.(cpp|hpp)|appliance/config[^/]*\.cpp)$' || true)
if [ -n "$bad" ]; then echo "error: toml++ outside the loaders: $bad" >&2; fail=1; fi
[ $fail -eq 0 ] && echo "module include rules hold"
exit $fail
