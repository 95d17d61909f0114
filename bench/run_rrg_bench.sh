#!/bin/bash
# Report scoring: `chexgen reports score --metrics bleu1,bleu4,rougeL` against rrg_eval's Python (sacrebleu and
# rouge-score, bench/rrg_reference.py) on the same 2,461 synthetic report pairs (LLaVA-Rad's test split size), the
# same machine and session, alternating (docs/benchmarks.md#report-scoring). Both print their values; the script
# checks they are equal before timing.
#   PYTHONPATH=<sacrebleu and rouge-score> bench/run_rrg_bench.sh CHEXGEN OUT_DIR
# CHEXGEN: a Release build of the program (build/release/chexgen). REPEAT (default 5): rounds; N (default 2461).
set -euo pipefail
chexgen=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
repeat=${REPEAT:-5}
n=${N:-2461}
mkdir -p "$out"
/usr/bin/python3 "$here/make_report_corpus.py" "$n" "$out/reports.jsonl"

echo "== machine"; date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)'; uptime
echo "== values (must be equal)"
/usr/bin/python3 "$here/rrg_reference.py" "$out/reports.jsonl" > "$out/python.json"
rm -rf "$out/chexgen"
"$chexgen" -q reports score "$out/reports.jsonl" --metrics bleu1,bleu4,rougeL --out "$out/chexgen"
/usr/bin/python3 - "$out/python.json" "$out/chexgen/results.json" <<'PY'
import json, sys
py = json.load(open(sys.argv[1]))
res = json.load(open(sys.argv[2]))
ok = True
for r in res["overall"]["records"]:
    ours = [r["value"]] + r["interval"]
    print(f"{r['metric']:8s} chexgen {ours}\n{'':8s} python  {py[r['metric']]}")
    ok &= ours == py[r["metric"]]
print("equal" if ok else "DIFFERENT")
sys.exit(0 if ok else 1)
PY
echo "== seconds (wall, user), $repeat alternating rounds"
for rep in $(seq 1 "$repeat"); do
  rm -rf "$out/chexgen"
  /usr/bin/time -f "chexgen %e %U %MkB" "$chexgen" -q reports score "$out/reports.jsonl" --metrics bleu1,bleu4,rougeL \
    --out "$out/chexgen"
  /usr/bin/time -f "python  %e %U %MkB" /usr/bin/python3 "$here/rrg_reference.py" "$out/reports.jsonl" > /dev/null
done
