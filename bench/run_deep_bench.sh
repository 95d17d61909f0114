#!/bin/bash
# Deep feature extraction throughput: `chexgen extract` against the Python pipeline a user would write (Pillow +
# torchvision transforms + a torch DataLoader + torch 1.13), same TorchScript ResNet-50, same images, same threads,
# same machine and session (docs/benchmarks.md#deep-features). The Python pipeline also runs once more per round with
# torch.jit.optimize_for_inference, to show how much of the difference that step explains.
#   bench/run_deep_bench.sh CHEXGEN OUT_DIR [IMAGES...]
# CHEXGEN: a Release build of the program (build/release/chexgen).
# OUT_DIR: scratch space (the 100 MB model, feature stores, outputs).
# IMAGES:  default: the first 128 NIH radiographs of ../shared/data/nih-cxr/images (512x512), else
#          data/sample/images (256x256).
# THREADS (default: 2) and REPEAT (default: 3) set the threads of both and how often the programs alternate.
set -euo pipefail
chexgen=$(realpath "$1")
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
threads=${THREADS:-2}
repeat=${REPEAT:-3}
if [ $# -gt 0 ]; then
  images=("$@")
elif [ -d "$root/../shared/data/nih-cxr/images" ]; then
  mapfile -t images < <(ls -d "$root"/../shared/data/nih-cxr/images/*.png | head -128)
else
  images=("$root"/data/sample/images/*.png)
fi
mkdir -p "$out/images"
rm -f "$out"/images/* "$out/list.txt"
for im in "${images[@]}"; do
  ln -s "$(realpath "$im")" "$out/images/$(basename "$im")"
done
ls -d "$out"/images/* > "$out/list.txt"  # the same files in the same (sorted) order as chexgen's folder manifest
[ -f "$out/resnet50.pt" ] || /usr/bin/python3 "$here/make_bench_model.py" "$out"

echo "== machine"; date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)'; uptime
echo "== ${#images[@]} images, $threads threads, batches of 32"
for rep in $(seq 1 "$repeat"); do
  for mode in optimized plain; do
    flag=(); [ $mode = plain ] && flag=(--no-optimize)
    rm -rf "$out/store_$mode"
    "$chexgen" -q --threads "$threads" extract "$out/images" --model "$out/resnet50.pt" --batch-size 32 "${flag[@]}" \
      --store "$out/store_$mode" --out "$out/chexgen_$mode" > /dev/null
    echo "chexgen $mode $rep: $(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['images_per_second'])" "$out/chexgen_$mode/extraction.json") images/s"
    cp "$out/chexgen_$mode/extraction.json" "$out/chexgen_${mode}_$rep.json"
  done
  /usr/bin/python3 "$here/deep_reference.py" --model "$out/resnet50.pt" --images "$out/list.txt" --threads "$threads" \
    --batch-size 32 --out "$out/python.npy" | tee "$out/python_$rep.txt" | sed "s/^/python $rep: /"
  /usr/bin/python3 "$here/deep_reference.py" --model "$out/resnet50.pt" --images "$out/list.txt" --threads "$threads" \
    --batch-size 32 --optimize | tee "$out/python_optimized_$rep.txt" | sed "s/^/python --optimize $rep: /"
  uptime
done

echo "== summary (medians)"
/usr/bin/python3 - "$out" "$repeat" <<'PY'
import json, re, statistics, sys
import numpy as np
out, n = sys.argv[1], int(sys.argv[2])
def python_rate(name):
    return statistics.median(float(re.search(r"images_per_s ([0-9.]+)", open(f"{out}/{name}_{i}.txt").read()).group(1))
                             for i in range(1, n + 1))
py = python_rate("python")
py_opt = python_rate("python_optimized")
ref = np.load(f"{out}/python.npy")
for mode in ("optimized", "plain"):
    ours = statistics.median(json.load(open(f"{out}/chexgen_{mode}_{i}.json"))["images_per_second"] for i in range(1, n + 1))
    feats = np.load(f"{out}/chexgen_{mode}/logits.npy")
    rel = float(np.abs(feats - ref).max() / np.abs(ref).max())
    print(f"chexgen {mode}: {ours:.2f} images/s; Python {py:.2f} images/s; ratio {ours / py:.2f}x; "
          f"max |difference| / max |feature| = {rel:.2g}")
    runs = [json.load(open(f"{out}/chexgen_{mode}_{i}.json")) for i in range(1, n + 1)]
    parts = {k: statistics.median(r["time_summed_over_threads"][k] for r in runs)
             for k in ("reading", "preparing", "computing", "waiting_for_inputs")}
    wall = statistics.median(r["seconds"] for r in runs)
    print(f"chexgen {mode}, where the time went (medians, seconds summed over threads; wall {wall:.2f} s): "
          + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
print(f"Python with torch.jit.optimize_for_inference: {py_opt:.2f} images/s")
PY
