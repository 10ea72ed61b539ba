#!/usr/bin/env bash
# bench/inspect-vs-step.sh [RUNS]: whole-process latency of verifying one
# offline RS256 token against a JWKS file, ssoctl vs smallstep's step (and
# jwt-cli when installed), timed side by side in one run, alternating.
# Needs step: go install github.com/smallstep/cli/cmd/step@v0.26.1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$here/..
runs=${1:-200}
step=${STEP:-$(command -v step || echo "$HOME/go/bin/step")}
jwtcli=${JWTCLI:-$(command -v jwt || echo "$HOME/.cargo/bin/jwt")}
bin=${SSOCTL:-$top/bin/ssoctl}
(cd "$top" && make -s build)
[ -x "$step" ] || { echo "step not found; install it with: go install github.com/smallstep/cli/cmd/step@v0.26.1" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An RSA key, its JWKS, and a token valid for a day.
"$step" crypto jwk create "$work/pub.json" "$work/priv.json" --kty RSA --size 2048 --use sig --alg RS256 --no-password --insecure >/dev/null 2>&1
"$step" crypto jwk keyset add "$work/jwks.json" < "$work/pub.json"
"$step" crypto jwt sign --key "$work/priv.json" --iss https://issuer.example --aud vault --sub alice \
	--nbf "$(date +%s)" --exp "$(( $(date +%s) + 86400 ))" > "$work/token" 2>/dev/null

# The three commands must agree that the token is valid before timing them.
"$bin" inspect token "$work/token" --jwks "$work/jwks.json" --audience vault >/dev/null
"$step" crypto jwt verify --jwks "$work/jwks.json" --iss https://issuer.example --aud vault < "$work/token" >/dev/null
have_jwtcli=0
if [ -x "$jwtcli" ] && "$jwtcli" decode --secret "@$work/jwks.json" --alg RS256 "$(cat "$work/token")" >/dev/null 2>&1; then
	have_jwtcli=1
fi

ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
: > "$work/ssoctl.t"; : > "$work/step.t"; : > "$work/jwtcli.t"
for _ in $(seq 1 "$runs"); do
	t0=$(ns); "$bin" inspect token "$work/token" --jwks "$work/jwks.json" --audience vault >/dev/null; t1=$(ns)
	"$step" crypto jwt verify --jwks "$work/jwks.json" --iss https://issuer.example --aud vault < "$work/token" >/dev/null; t2=$(ns)
	echo $(( t1 - t0 )) >> "$work/ssoctl.t"; echo $(( t2 - t1 )) >> "$work/step.t"
	if [ $have_jwtcli = 1 ]; then
		t3=$(ns); "$jwtcli" decode --secret "@$work/jwks.json" --alg RS256 "$(cat "$work/token")" >/dev/null; t4=$(ns)
		echo $(( t4 - t3 )) >> "$work/jwtcli.t"
	fi
done
s=$(median < "$work/ssoctl.t"); p=$(median < "$work/step.t")
printf 'runs:               %d, alternating\n' "$runs"
printf 'ssoctl inspect:     median %.2f ms\n' "$(awk -v n="$s" 'BEGIN { print n / 1e6 }')"
printf 'step jwt verify:    median %.2f ms\n' "$(awk -v n="$p" 'BEGIN { print n / 1e6 }')"
printf 'ratio ssoctl/step:  %.3f (target <= 0.3)\n' "$(awk -v a="$s" -v b="$p" 'BEGIN { print a / b }')"
if [ $have_jwtcli = 1 ]; then
	j=$(median < "$work/jwtcli.t")
	printf 'jwt-cli decode:     median %.2f ms (ratio ssoctl/jwt-cli %.3f)\n' "$(awk -v n="$j" 'BEGIN { print n / 1e6 }')" "$(awk -v a="$s" -v b="$j" 'BEGIN { print a / b }')"
fi
