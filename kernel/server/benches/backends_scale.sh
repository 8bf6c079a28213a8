#!/usr/bin/env bash
# Generating ISMSs and copying a whole store on sled and on PostgreSQL
# (issue 13; BENCHMARKS.md, "Backends"):
#   PGBASE=postgres://mmsm@127.0.0.1:5432 kernel/server/benches/backends_scale.sh
# PGBASE names a running PostgreSQL where the role may create databases
# (psql on the PATH); GEN (default 1,000) profiles are generated on each
# backend, then a store of COPY (default 10,000) ISMSs is copied both ways.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BIN:-$ROOT/target/release/mmsm}
PGBASE=${PGBASE:?set PGBASE to a PostgreSQL server URL without a database}
GEN=${GEN:-1000}
COPY=${COPY:-10000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
fresh_db() {
  local name="bench_$1_$$"
  psql "$PGBASE/postgres" -qc "CREATE DATABASE $name" >/dev/null
  echo "$PGBASE/$name"
}
# shellcheck source=profiles.sh
. "$ROOT/kernel/server/benches/profiles.sh"

clinic_profiles "$GEN" "$WORK/gen"
"$BIN" --data "$WORK/sled-gen" --json schema list >/dev/null   # the store and its shipped schemas
t0=$(now); "$BIN" --data "$WORK/sled-gen" --json isms generate "$WORK/gen" >/dev/null; t1=$(now)
echo "generate $GEN ISMSs on sled: $(ms "$t0" "$t1") ms"
PG=$(fresh_db gen)
"$BIN" --store "$PG" --json schema list >/dev/null
t0=$(now); "$BIN" --store "$PG" --json isms generate "$WORK/gen" >/dev/null; t1=$(now)
echo "generate $GEN ISMSs on PostgreSQL: $(ms "$t0" "$t1") ms"

clinic_profiles "$COPY" "$WORK/copy"
"$BIN" --data "$WORK/sled-copy" --json isms generate "$WORK/copy" >/dev/null
echo "a sled store of $COPY ISMSs: $(du -sh "$WORK/sled-copy" | cut -f1)"
PG=$(fresh_db copy)
t0=$(now); "$BIN" --json store copy --from "$WORK/sled-copy" --to "$PG" > "$WORK/to-pg.json"; t1=$(now)
echo "store copy sled -> PostgreSQL: $(ms "$t0" "$t1") ms; $(jq -c '{records, audit}' "$WORK/to-pg.json")"
t0=$(now); "$BIN" --json store copy --from "$PG" --to "$WORK/back" > "$WORK/to-sled.json"; t1=$(now)
echo "store copy PostgreSQL -> sled: $(ms "$t0" "$t1") ms; $(jq -c '{records, audit}' "$WORK/to-sled.json")"
