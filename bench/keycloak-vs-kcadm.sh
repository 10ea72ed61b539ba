#!/usr/bin/env bash
# bench/keycloak-vs-kcadm.sh: the issue-3 benchmark on the running testbed.
# Applies 50 clients x 4 mappers + 2 roles and 20 groups with role bindings
# with ssoctl (first apply, then a no-op re-apply, counting requests from
# --debug), and the same objects with Keycloak's bin/kcadm.sh, side by side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$here/..
set -a; . "$top/testbed/.env"; set +a
bin=${SSOCTL:-$top/bin/ssoctl}
[ -x "$bin" ] || (cd "$top" && go build -o bin/ssoctl ./cmd/ssoctl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stamp=$(date +%s)
ns() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

"$here/gen-keycloak.sh" "bench-ssoctl-$stamp" "$work/ssoctl"
"$here/gen-keycloak.sh" "bench-kcadm-$stamp" "$work/kcadm"

t0=$(ns); "$bin" apply -f "$work/ssoctl/sso.yaml" --debug >"$work/first.out" 2>"$work/first.log"; t1=$(ns)
"$bin" apply -f "$work/ssoctl/sso.yaml" --debug >"$work/noop.out" 2>"$work/noop.log"; t2=$(ns)
first_ms=$(ms "$t0" "$t1"); noop_ms=$(ms "$t1" "$t2")
# count LOG METHOD: requests with METHOD, logins to the token endpoint excluded.
count() { grep -E "^\* $2 " "$1" | grep -vc "openid-connect/token" || true; }
objects=$(grep -oE '[0-9]+ unchanged' "$work/noop.out" | grep -oE '[0-9]+')

export KCADM_CONFIG=$work/kcadm.config JAVA_HOME=${KEYCLOAK_JAVA_HOME:-$JAVA_HOME}
t3=$(ns); bash "$work/kcadm/kcadm.sh" >"$work/kcadm.log" 2>&1 || { tail "$work/kcadm.log"; exit 1; }; t4=$(ns)
kcadm_ms=$(ms "$t3" "$t4")
calls=$(grep -cE '(^kc |\$\(kc )' "$work/kcadm/kcadm.sh")

cat <<R
objects managed:            $objects (realm, 50 clients, 100 client roles, 200 mappers, 20 groups, 20 bindings)
ssoctl first apply:         ${first_ms} ms  ($(count "$work/first.log" GET) GET, $(( $(count "$work/first.log" POST) + $(count "$work/first.log" PUT) + $(count "$work/first.log" DELETE) )) writes, plus logins)
ssoctl no-op re-apply:      ${noop_ms} ms  ($(count "$work/noop.log" GET) GET, $(( $(count "$work/noop.log" POST) + $(count "$work/noop.log" PUT) + $(count "$work/noop.log" DELETE) )) writes, plus $(grep -c 'openid-connect/token' "$work/noop.log") login)
kcadm.sh, same objects:     ${kcadm_ms} ms  ($calls kcadm.sh invocations)
ratio kcadm / ssoctl first: $(awk -v a="$kcadm_ms" -v b="$first_ms" 'BEGIN { printf "%.1fx", a / b }')
R
# Clean up both realms.
for r in "bench-ssoctl-$stamp" "bench-kcadm-$stamp"; do
	"$KEYCLOAK_HOME/bin/kcadm.sh" delete "realms/$r" --config "$KCADM_CONFIG" >/dev/null 2>&1 || true
done
