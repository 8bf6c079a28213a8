#!/usr/bin/env bash
# Answer -> updated board and board reads over HTTP, on sled and on PostgreSQL
# (one server, then two servers on one database): BENCHMARKS.md, "Backends".
#   PG=postgres://mmsm@127.0.0.1:5432/bench BIN=target/release/mmsm kernel/server/benches/backends.sh
# PG names an empty database of a running (durable) PostgreSQL; wrk and curl on the PATH.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-target/release/mmsm}
PG=${PG:?set PG to an empty PostgreSQL database URL}
WORK=$(mktemp -d)
ISMS=clinica-dental-sonrisa
PASSWORD='bench password 2026'
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

prepare() { # $@: store flags
  "$BIN" --data "$WORK/sled" "$@" demo --out "$WORK/out" >/dev/null 2>&1
  echo "$PASSWORD" | "$BIN" --data "$WORK/sled" "$@" user add bench --role CoS --admin --permanent --password-stdin >/dev/null
}
serve() { # port, store flags
  local port=$1; shift
  "$BIN" --data "$WORK/sled" "$@" serve --addr 127.0.0.1:$port > "$WORK/serve-$port.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -s -o /dev/null 127.0.0.1:$port/ && return; sleep 0.1; done
  echo "server on $port did not start"; cat "$WORK/serve-$port.log"; exit 1
}
token() {
  curl -s -X POST 127.0.0.1:$1/api/v1/login -H 'content-type: application/json' \
    -d "{\"user\":\"bench\",\"password\":\"$PASSWORD\"}" | jq -r .token
}
answers() { # port token: median and p90 of 300 sequential answers (PUT -> 200 with the new board)
  local i values=(yes no partial)
  for i in $(seq 300); do
    curl -s -o /dev/null -w '%{time_total}\n' -X PUT "127.0.0.1:$1/api/v1/isms/$ISMS/answers/5.1.1" \
      -H "authorization: Bearer $2" -H 'content-type: application/json' \
      -d "{\"answer\":\"${values[$((i % 3))]}\"}"
  done | sort -n | awk '{a[NR]=$1} END {printf "answer -> board: median %.2f ms, p90 %.2f ms (%d answers)\n", a[int(NR/2)]*1000, a[int(NR*0.9)]*1000, NR}'
}
reads() { # port token connections
  TOKEN=$2 wrk -t1 -c$3 -d10s --latency -s kernel/server/benches/board.lua \
    "http://127.0.0.1:$1/api/v1/isms/$ISMS/board" | grep -E "Requests/sec|Latency|  50%|  99%"
}

echo "== sled (one server)"
prepare
serve 18191
T=$(token 18191)
answers 18191 "$T"
reads 18191 "$T" 32
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

echo "== PostgreSQL (one server)"
prepare --store "$PG"
serve 18192 --store "$PG"
T=$(token 18192)
answers 18192 "$T"
reads 18192 "$T" 32
echo "== PostgreSQL (two servers on one database, 16 connections each, at once)"
serve 18193 --store "$PG"
reads 18192 "$T" 16 > "$WORK/a" &
FIRST=$!
reads 18193 "$T" 16 > "$WORK/b"
wait "$FIRST"
echo "server 1:"; cat "$WORK/a"; echo "server 2:"; cat "$WORK/b"
