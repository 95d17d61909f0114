#!/bin/bash
# Radiomics extraction: chexgen against PyRadiomics on the same images, machine and session (docs/benchmarks.md).
#   bench/run_radiomics_bench.sh BUILD_DIR OUT_DIR [IMAGES...]
# BUILD_DIR: a Release build with -DCHEXGEN_BENCH=ON (holds bench/bench_radiomics).
# OUT_DIR:   scratch space for the JSON and the reference's tables.
# IMAGES:    default tests/golden/radiomics/nih24/*.png (24 NIH radiographs, 512x512).
# PyRadiomics (commit 8ed5793, with its C extensions) comes from your own environment: PYTHON (default /usr/bin/python3)
# must import it, or PYRADIOMICS_SRC names a folder holding a built radiomics/ package; this repository neither fetches
# nor builds it. REPEAT (default 2) alternates the two programs so that both see the same background load.
set -euo pipefail
build=$1
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [ $# -gt 0 ]; then images=("$@"); else images=("$root"/tests/golden/radiomics/nih24/*.png); fi
python=${PYTHON:-/usr/bin/python3}
pyrad_args=()
if [ -n "${PYRADIOMICS_SRC:-}" ]; then pyrad_args=(--pyradiomics-src "$PYRADIOMICS_SRC"); fi
repeat=${REPEAT:-2}
mkdir -p "$out"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

echo "== machine"; date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)'; uptime
for mode in resample noresample; do
  if [ $mode = resample ]; then ours=(); theirs=(); else ours=(--resample-spacing 0); theirs=(--no-resample); fi
  for rep in $(seq 1 "$repeat"); do
    echo "== $mode, repetition $rep: chexgen (one thread, then all threads)"
    "$build/bench/bench_radiomics" --repeat 1 "${ours[@]}" "${images[@]}" | tee "$out/chexgen_${mode}_$rep.json"
    uptime
    echo "== $mode, repetition $rep: PyRadiomics 8ed5793 (one thread)"
    "$python" "$here/pyradiomics_reference/run_pyradiomics.py" "${pyrad_args[@]}" "${theirs[@]}" \
      --images "${images[@]}" --out "$out/pyradiomics_${mode}_$rep.csv" --time | tail -1 | tee "$out/pyradiomics_${mode}_$rep.txt"
    uptime
  done
done

echo "== summary (medians of per-image seconds, one thread)"
/usr/bin/python3 - "$out" "$repeat" <<'PY'
import json, re, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
for mode in ("resample", "noresample"):
    ours = [json.load(open(f"{out}/chexgen_{mode}_{i}.json")) for i in range(1, n + 1)]
    ref = [float(re.search(r"median ([0-9.]+) s", open(f"{out}/pyradiomics_{mode}_{i}.txt").read()).group(1))
           for i in range(1, n + 1)]
    o = statistics.median(x["single_thread_ms_median"] for x in ours) / 1e3
    r = statistics.median(ref)
    per_core = statistics.median(x["all_threads_ms_per_image_per_core"] for x in ours) / 1e3
    print(f"{mode}: chexgen {o * 1e3:.1f} ms/image (1 thread), {per_core * 1e3:.1f} ms/image/core (all threads); "
          f"PyRadiomics {r:.3f} s/image; ratio {r / o:.0f}x")
PY
