#!/usr/bin/env bash
# Usage: BIN=target/release/mmsm N=300 kernel/server/benches/growth.sh (BENCHMARKS.md, "Store growth").
# Store growth per answer, and what compaction leaves.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
BIN=$(realpath "${BIN:-target/release/mmsm}")
D=$(mktemp -d)/data
$BIN --data $D demo --out $(dirname $D)/out >/dev/null 2>&1
size() { du -sb $D | cut -f1; }
s0=$(size)
cp -r $D $D.base && $BIN --data $D.base --json store compact --keep-all >/dev/null && b0=$(du -sb $D.base | cut -f1)
N=${N:-300}
subs=(5.1.1 5.1.2 5.2.1 5.3.1 5.4.1 5.5.1)
for i in $(seq 1 $N); do
  a=$([ $(((i/6)%2)) = 0 ] && echo yes || echo no)
  $BIN --data $D isms answer clinica-dental-sonrisa ${subs[$((i%6))]} $a >/dev/null
done
s1=$(size)
hist=$($BIN --data $D --json isms history clinica-dental-sonrisa | python3 -c "import json,sys; h=json.load(sys.stdin); print(len(h), sum(len(e['deltas']) for e in h[-$N:])/$N)")
$BIN --data $D --json store compact --keep-all > /tmp/c1.json
s2=$(size)
sleep 1.1
$BIN --data $D --json store compact --keep-days 0 > /tmp/c2.json
s3=$(size)
python3 - "$N" "$s0" "$s1" "$s2" "$s3" "$b0" "$hist" <<'PY'
import sys
n,s0,s1,s2,s3,b0=map(int,sys.argv[1:7]); hist=sys.argv[7]
print(f"demo store rewritten: {b0/1e6:.2f} MB; live bytes per answer {(s2-b0)/n/1024:.2f} KB, after thinning {(s3-b0)/n/1024:.2f} KB")
print(f"answers {n}; events, mean deltas per answer: {hist}")
print(f"after demo {s0/1e6:.1f} MB; after answers {s1/1e6:.1f} MB: {(s1-s0)/n/1024:.1f} KB per answer")
print(f"rewritten (--keep-all): {s2/1e6:.1f} MB; rewritten and thinned (--keep-days 0): {s3/1e6:.1f} MB")
PY
cat /tmp/c1.json; cat /tmp/c2.json
