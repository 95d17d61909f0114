#!/bin/bash
# Runs the PRDC benchmarks of docs/benchmarks.md and prints everything needed to report them.
#   bench/run_prdc_bench.sh BUILD_DIR OUT_DIR [N_LARGE]
# BUILD_DIR: a Release build with -DCHEXGEN_BENCH=ON (holds bench/bench_prdc).
# OUT_DIR:   scratch space for the feature files (10k: 2 x 29 MiB; N_LARGE: 2 x N_LARGE x 3 KiB).
# N_LARGE:   rows per side of the large run (default 100000; 0 skips it).
# REPEAT (environment, default 3): how many times each 10k run is repeated, alternating chexgen and
# the reference so that both see the same background load.
# OPENBLAS_CORETYPE is taken from the environment (see docs/prdc.md, "Threading") and recorded.
set -euo pipefail
build=$1
out=$2
large=${3:-100000}
here=$(cd "$(dirname "$0")" && pwd)
bench=$build/bench/bench_prdc
mkdir -p "$out"

echo "== machine"; date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|L2|L3|Flags' | sed 's/Flags:.*avx512f.*/Flags: ... avx2 avx512f .../'
free -g; echo "OPENBLAS env: $(env | grep OPENBLAS || echo none)"; uptime

repeat=${REPEAT:-3}
"$bench" --real-rows 10000 --fake-rows 10000 --dim 768 --write-features "$out/10k" --skip-prdc > /dev/null
for rep in $(seq 1 "$repeat"); do
  echo "== 10k x 10k x 768, repetition $rep: chexgen (float input)"
  /usr/bin/time -v "$bench" --real-rows 10000 --fake-rows 10000 --dim 768 2> "$out/10k_chexgen_$rep.time" | tee "$out/10k_chexgen_$rep.json"
  grep -E 'Maximum resident|Elapsed' "$out/10k_chexgen_$rep.time"; uptime

  echo "== 10k x 10k x 768, repetition $rep: prdc package algorithm (numpy + sklearn, float32 as the package receives it)"
  /usr/bin/time -v /usr/bin/python3 "$here/prdc_reference.py" "$out/10k" 2> "$out/10k_reference_$rep.time" | tee "$out/10k_reference_$rep.json"
  grep -E 'Maximum resident|Elapsed' "$out/10k_reference_$rep.time"; uptime
done

echo "== 10k x 10k x 768: chexgen (double input, dgemm)"
"$bench" --real-rows 10000 --fake-rows 10000 --dim 768 --precision double 2>/dev/null | tee "$out/10k_chexgen_double.json"; uptime

echo "== summary (10k)"
/usr/bin/python3 - "$out" "$repeat" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
ours = [json.load(open(f"{out}/10k_chexgen_{i}.json")) for i in range(1, n + 1)]
ref = [json.load(open(f"{out}/10k_reference_{i}.json")) for i in range(1, n + 1)]
same = all(o["counts"] == r["counts"] for o in ours for r in ref)
to = [o["prdc_s"] for o in ours]
tr = [r["prdc_s"] for r in ref]
print("chexgen s:", ["%.2f" % t for t in to], "median %.2f" % statistics.median(to))
print("reference s:", ["%.2f" % t for t in tr], "median %.2f" % statistics.median(tr))
print("speed-up (median / median): %.1fx; identical counts: %s" % (statistics.median(tr) / statistics.median(to), same))
PY

if [ "$large" != 0 ]; then
  echo "== ${large} x ${large} x 768: chexgen (float input), peak RSS by /usr/bin/time -v"
  /usr/bin/time -v "$bench" --real-rows "$large" --fake-rows "$large" --dim 768 2> "$out/large_chexgen.time" | tee "$out/large_chexgen.json"
  grep -E 'Maximum resident|Elapsed' "$out/large_chexgen.time"; uptime
fi
date -u
