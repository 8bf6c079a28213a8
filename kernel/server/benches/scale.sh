#!/usr/bin/env bash
# A consultancy's scale (issue 12): makes N profiles (default 10,000) from the
# demo clinic, generates them into a fresh store, and measures the listing,
# the server's start, its memory and `rebase --all`. Prints one line a figure;
# BENCHMARKS.md ("Scale") records a run.
#
#   kernel/server/benches/scale.sh            # N=10000, in a temporary folder
#   N=1000 WORK=/tmp/scale kernel/server/benches/scale.sh
#
# Needs curl and python3 (the JSON login and the timings); loopback only.
set -euo pipefail
N=${N:-10000}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=${WORK:-$(mktemp -d)}
PORT=${PORT:-18282}
BIN="$ROOT/target/release/mmsm"
DATA="$WORK/store"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
# shellcheck source=profiles.sh
. "$ROOT/kernel/server/benches/profiles.sh"

cargo build --release -q --manifest-path "$ROOT/Cargo.toml"
rm -rf "$DATA" "$WORK/profiles"
clinic_profiles "$N" "$WORK/profiles"

t0=$(now); "$BIN" --data "$DATA" --json isms generate "$WORK/profiles" > /dev/null; t1=$(now)
echo "generate $N ISMSs: $(ms "$t0" "$t1") ms; store $(du -sh "$DATA" | cut -f1)"

# Three runs each; the best and the worst.
list_runs=()
for _ in 1 2 3; do
  t0=$(now); "$BIN" --data "$DATA" --json isms list > "$WORK/list.json"; t1=$(now)
  list_runs+=("$(ms "$t0" "$t1")")
done
echo "isms list --json ($(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$WORK/list.json") items), whole process: ${list_runs[*]} ms"
t0=$(now); "$BIN" --data "$DATA" --json isms list --limit 50 > /dev/null; t1=$(now)
echo "isms list --limit 50 --json, whole process: $(ms "$t0" "$t1") ms"

printf 'scale-bench-password\n' | "$BIN" --data "$DATA" user add bench --admin --password-stdin > /dev/null
t0=$(now)
"$BIN" --data "$DATA" serve --addr "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/api/v1/openapi.json" > /dev/null; do sleep 0.005; done
t1=$(now)
echo "serve: start to first answered request: $(ms "$t0" "$t1") ms; resident $(( $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status) / 1024 )) MB"
TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/api/v1/login" -H 'content-type: application/json' \
  -d '{"user":"bench","password":"scale-bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
AUTH="Authorization: Bearer $TOKEN"
FIRST=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[0]['id'])" "$WORK/list.json")
t0=$(now)
for _ in $(seq 1000); do
  curl -s -o /dev/null -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/isms/$FIRST/board"
done
t1=$(now)
echo "1,000 board reads one after another (curl per request): $(ms "$t0" "$t1") ms in all"
next="/api/v1/isms?limit=100"
pages=()
for _ in $(seq 20); do
  t0=$(now)
  next=$(curl -s -D - -o /dev/null -H "$AUTH" "http://127.0.0.1:$PORT$next" \
    | awk 'tolower($1) == "link:" { sub(/^<|>;.*$/, "", $2); print $2 }' | tr -d '\r')
  t1=$(now)
  pages+=("$(ms "$t0" "$t1")")
done
echo "20 API listing pages of 100 (curl each): ${pages[*]} ms"
html=()
for _ in 1 2 3; do
  t0=$(now)
  curl -s -o /dev/null -b "mmsm_session=$TOKEN" "http://127.0.0.1:$PORT/isms?q=clinica%200999"
  curl -s -o /dev/null -b "mmsm_session=$TOKEN" "http://127.0.0.1:$PORT/isms?after=clinica-05000"
  t1=$(now)
  html+=("$(( $(ms "$t0" "$t1") / 2 ))")
done
echo "/isms page (search, then a page after a cursor), mean of two: ${html[*]} ms"
echo "serve: resident after the reads: $(( $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status) / 1024 )) MB"
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT

# rebase --all: a version 2 of the base schema (one description changed).
"$BIN" --data "$DATA" schema export base "$WORK/base-v2" > /dev/null
first_yaml=$(ls "$WORK/base-v2"/*.yaml | head -1)
printf '\n' >> "$first_yaml"
python3 - "$WORK/base-v2" <<'PY'
import pathlib, sys, re
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.yaml")):
    t = f.read_text()
    n = re.sub(r"(description: [\"']?)", r"\1(v2) ", t, count=1)
    if n != t:
        f.write_text(n); break
PY
"$BIN" --data "$DATA" schema import "$WORK/base-v2" > /dev/null
t0=$(now); "$BIN" --data "$DATA" --json isms rebase --all --schema base > "$WORK/rebase.json"; t1=$(now)
echo "isms rebase --all --schema base ($N ISMSs): $(ms "$t0" "$t1") ms"
echo "store and logs in $WORK"
