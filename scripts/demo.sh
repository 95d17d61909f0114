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
echo "== chexgen frd: radiomics of the 80 'No Finding' radiographs against the 80 'Pneumonia' ones"
echo "   (CheXGenBench's FRD-v1 configuration; features are kept in out/demo/store, so a rerun is instant)"
# Two manifests cut from the sample's labels.csv by its last column ("No Finding"), header kept.
awk -F, 'NR == 1 || $NF == 1' data/sample/labels.csv > out/demo/no_finding.csv
awk -F, 'NR == 1 || $NF == 0' data/sample/labels.csv > out/demo/pneumonia.csv
"$chexgen" frd --real out/demo/no_finding.csv --synthetic out/demo/pneumonia.csv \
  --real-format onehot --real-label-set nih --real-image-root data/sample \
  --synthetic-format onehot --synthetic-label-set nih --synthetic-image-root data/sample \
  --size 256 --paper-log --store out/demo/store --json out/demo/frd.json

echo
echo "demo: results in out/demo/ (inspect.json, 00000061_012_299.png, frd.json)"
