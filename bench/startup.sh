#!/usr/bin/env bash
# bench/startup.sh [RUNS]: where the whole-process time of
# `ssoctl inspect token --jwks FILE` goes, timed side by side in one run:
#   hello-world    a Go binary that prints one line (the Go floor)
#   verify-floor   the same RS256 check with Go's standard library alone
#                  (the Go floor of this work)
#   floor          ssoctl's command tree linked, nothing run (what the linked
#                  packages' init costs before main)
#   ssoctl         inspect token, static (as make build builds it)
#   ssoctl (cgo)   the same built with cgo (the dynamic loader's cost)
#   jwt-cli        jwt decode with the JWKS, when installed
#                  (cargo install jwt-cli --version 6.2.0)
# The token and JWKS are cmd/testdata/startup (RS256, valid until 2099).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$here/..
runs=${1:-300}
jwtcli=${JWTCLI:-$(command -v jwt || echo "$HOME/.cargo/bin/jwt")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags=(-trimpath -ldflags '-s -w')
mkdir -p "$work/hello"
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' > "$work/hello/main.go"
printf 'module hello\n\ngo 1.26\n' > "$work/hello/go.mod"
(cd "$work/hello" && CGO_ENABLED=0 go build "${flags[@]}" -o "$work/hello-world" .)
(cd "$top" && CGO_ENABLED=0 go build "${flags[@]}" -o "$work/floor" ./bench/floor)
(cd "$top" && CGO_ENABLED=0 go build "${flags[@]}" -o "$work/verify-floor" ./bench/verify-floor)
(cd "$top" && CGO_ENABLED=0 go build "${flags[@]}" -o "$work/ssoctl" ./cmd/ssoctl)
(cd "$top" && CGO_ENABLED=1 go build "${flags[@]}" -o "$work/ssoctl-cgo" ./cmd/ssoctl)
tok=$top/cmd/testdata/startup/token jwks=$top/cmd/testdata/startup/jwks.json
inspect="inspect token $tok --jwks $jwks --audience vault"
"$work/ssoctl" $inspect >/dev/null # both must verify before they are timed
"$work/verify-floor" "$tok" "$jwks" >/dev/null

cmds=("hello-world=$work/hello-world" "verify-floor=$work/verify-floor $tok $jwks" "floor=$work/floor" "ssoctl=$work/ssoctl $inspect" "ssoctl (cgo)=$work/ssoctl-cgo $inspect")
if [ -x "$jwtcli" ] && "$jwtcli" decode --secret "@$jwks" --alg RS256 "$(cat "$tok")" >/dev/null 2>&1; then
	cmds+=("jwt-cli=$jwtcli decode --secret @$jwks --alg RS256 $(cat "$tok")")
else
	echo "jwt-cli not found (cargo install jwt-cli --version 6.2.0): timing without it" >&2
fi
(cd "$top" && go run ./bench/startup "$runs" "${cmds[@]}")
