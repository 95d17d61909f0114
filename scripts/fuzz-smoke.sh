#!/usr/bin/env bash
# Runs every libFuzzer target for a short fixed time, seeded with the committed test fixtures.
# Usage: scripts/fuzz-smoke.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
build=${1:?usage: fuzz-smoke.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)

declare -A seeds=(
  [decode_fuzz]="$root/tests/data/images"
  [manifest_fuzz]="$root/tests/fixtures/manifests"
  [json_fuzz]="$root/tests/fixtures/json-seeds"
  [reports_fuzz]="$root/tests/fixtures/rrg-seeds"
)
status=0
for target in "$build"/fuzz/*_fuzz; do
  [[ -x "$target" ]] || continue
  name=$(basename "$target")
  work=$(mktemp -d)
  corpus=()
  [[ -n "${seeds[$name]:-}" && -d "${seeds[$name]}" ]] && corpus=("${seeds[$name]}")
  echo "fuzz: $name for ${seconds}s (seeds: ${corpus[*]:-none})"
  # Fixed seed; malloc limit above the 2-4 GB reservations DCMTK makes before it rejects a bad length (docs/images.md).
  if ! "$target" -seed=1 -max_total_time="$seconds" -malloc_limit_mb=8192 -rss_limit_mb=4096 -print_final_stats=0 -artifact_prefix="$work/" "$work" "${corpus[@]}" \
      >"$work/log" 2>&1; then
    echo "fuzz: $name FAILED; log and crashing input in $work" >&2
    tail -40 "$work/log" >&2
    status=1
  else
    echo "fuzz: $name ok ($(grep -c '^#' "$work/log" || true) status lines)"
    rm -rf "$work"
  fi
done
exit $status
