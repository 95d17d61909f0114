#!/bin/bash
# VLM grading throughput: `chexgen filter` against the authors' loop shape (bench/filter_reference.py: one image at
# a time, same API, same images), both talking to the same stand-in server (bench/vlm_stub_server.py) that takes
# LATENCY seconds per image, as a served VLM does (docs/benchmarks.md#vlm-grading). What is measured is the
# client: how much of the server's capacity each keeps busy, and its own overhead (LATENCY=0).
#   bench/run_filter_bench.sh CHEXGEN OUT_DIR
# CHEXGEN: a Release build of the program (build/release/chexgen). N (default 64) images of data/sample;
# LATENCY (default 0.2) seconds per request; CONCURRENCY (default 8); REPEAT (default 3).
set -euo pipefail
chexgen=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
n=${N:-64}
latency=${LATENCY:-0.2}
concurrency=${CONCURRENCY:-8}
repeat=${REPEAT:-3}
port=${PORT:-18931}
mkdir -p "$out"
out=$(realpath "$out")
{
  echo "img_savename,prompt"
  i=0
  for im in $(ls "$root"/data/sample/images/*.png | head -"$n"); do
    echo "$im,\"Synthetic chest radiograph number $i with a small right pleural effusion\""
    i=$((i + 1))
  done
} > "$out/prompts.csv"

/usr/bin/python3 "$here/vlm_stub_server.py" "$port" "$latency" &
server=$!
trap 'kill $server' EXIT
sleep 1
url=http://127.0.0.1:$port

echo "== machine"; date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)'; uptime
echo "== $n images of data/sample, server latency $latency s per request"
now() { date +%s.%N; }
for rep in $(seq 1 "$repeat"); do
  t0=$(now); /usr/bin/python3 "$here/filter_reference.py" "$out/prompts.csv" "$url" "$out/reference.csv"; t1=$(now)
  rm -rf "$out/c1"; "$chexgen" filter "$out/prompts.csv" --base-url "$url" --model stub --out "$out/c1" \
    --concurrency 1 -q > /dev/null; t2=$(now)
  rm -rf "$out/cn"; "$chexgen" filter "$out/prompts.csv" --base-url "$url" --model stub --out "$out/cn" \
    --concurrency "$concurrency" -q > /dev/null; t3=$(now)
  awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v k="$concurrency" 'BEGIN {
    printf "round: reference %.2f s (%.1f img/s) | chexgen --concurrency 1 %.2f s (%.1f img/s) | chexgen --concurrency %d %.2f s (%.1f img/s)\n",
      b - a, n / (b - a), c - b, n / (c - b), k, d - c, n / (d - c) }'
done
# Same grades from both.
diff <(tail -n +2 "$out/reference.csv" | cut -d, -f3 | sort | uniq -c) \
     <(tail -n +2 "$out/cn/kept.csv" | awk -F, '{print $NF}' | sort | uniq -c) && echo "== same grades"
