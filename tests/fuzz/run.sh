#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with `cargo +nightly fuzz`,
# from the seeds of seeds.txt. Without a nightly toolchain it says so and exits
# 0: tests/fuzz_replay.rs replays the seeds and regressions on stable.
# Longer runs: tests/fuzz/run.sh 3600 [TARGET...]. A crash is saved under
# tests/fuzz/artifacts/TARGET/; fix it and move the file to regressions/TARGET/.
set -euo pipefail
seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain here; the seeds and regressions run as plain tests (tests/fuzz_replay.rs)"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(schema_document profile import_csv import_json api_body)
fi
cargo +nightly fuzz build --fuzz-dir tests/fuzz -O -s none
for target in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$target"
  mkdir -p "$corpus"
  # seeds.txt: `TARGET PATTERN`, `*` within one path segment (bash globbing).
  while read -r name pattern; do
    case "$name" in ''|'#'*) continue ;; esac
    [ "$name" = "$target" ] || continue
    for file in $pattern; do
      [ -f "$file" ] && cp "$file" "$corpus/seed-$(basename "$file")"
    done
  done < tests/fuzz/seeds.txt
  if [ -d "tests/fuzz/regressions/$target" ]; then
    cp tests/fuzz/regressions/"$target"/* "$corpus"/ 2>/dev/null || true
  fi
  echo "fuzz: $target for ${seconds}s from $(ls "$corpus" | wc -l) inputs"
  cargo +nightly fuzz run --fuzz-dir tests/fuzz -O -s none "$target" "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=1048576 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::|INFO: .*corpus|==[0-9]+==|SUMMARY|#[0-9]+.*DONE)|panicked|Crash|crash-" || true
  if compgen -G "tests/fuzz/artifacts/$target/crash-*" > /dev/null \
    || compgen -G "tests/fuzz/artifacts/$target/timeout-*" > /dev/null \
    || compgen -G "tests/fuzz/artifacts/$target/oom-*" > /dev/null; then
    echo "fuzz: $target found a failure: tests/fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
