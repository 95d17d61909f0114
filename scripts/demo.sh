#!/usr/bin/env bash
# The main job on the bundled sample (data/sample): what `make demo` runs.
# Usage: scripts/demo.sh PATH/TO/chexgen     (results go to out/demo/)
set -euo pipefail
chexgen=${1:?usage: demo.sh PATH/TO/chexgen}
cd "$(dirname "$0")/.."
mkdir -p out/demo

echo "== chexgen inspect: the bundled NIH sample (160 images, NIH label set)"
"$chexgen" inspect data/sample/labels.csv --format onehot --label-set nih --json out/demo/inspect.json

echo
echo "== chexgen resize: one radiograph to 299x299 the way CheXGenBench feeds Inception (Pillow bilinear)"
"$chexgen" resize data/sample/images/00000061_012.png out/demo/00000061_012_299.png --size 299 --filter bilinear

echo
echo "demo: results in out/demo/ (inspect.json, 00000061_012_299.png)"
