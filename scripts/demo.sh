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
echo "== chexgen baselines: the sample split by patient into a reference half and 'generators' made from the other"
echo "   half: held-out real images, copies of the reference, and blurred / noisy / down-up-sampled images"
"$chexgen" -q baselines data/sample/labels.csv --format onehot --label-set nih --out out/demo/baselines

echo
echo "== chexgen fidelity: every generator against the reference, on radiomic features (no network weights are"
echo "   bundled: FRD, and FID/KID/PRDC on standardised radiomic features, labelled '(Radiomics)')"
echo "   features are kept in out/demo/store, so a rerun is instant"
generators=(held-out copies blur-1 blur-2 blur-4 noise-8 noise-16 noise-32 downup-2 downup-4 downup-8)
for g in "${generators[@]}"; do
  "$chexgen" -q fidelity --real out/demo/baselines/reference/metadata.jsonl \
    --synthetic "out/demo/baselines/$g/metadata.jsonl" --real-label-set nih --synthetic-label-set nih \
    --conditional --size 256 \
    --store out/demo/store --out "out/demo/fidelity/$g" > "out/demo/fidelity_$g.txt"
  echo "   $g: $(grep -E '^  FRD ' "out/demo/fidelity_$g.txt" | tr -s ' ')"
done

echo
echo "== chexgen privacy: every generator against the reference as its training set, the copy search calibrated on"
echo "   the held-out half (pixel thumbnails and standardised radiomics, reused from the store; with no re-id or"
echo "   RadDino weights bundled, no re-id score or latent distance). Only 'copies' was made from training rows, so only it gets CheXGenBench's per-prompt table."
echo "   The other generators are made from the held-out half, which is also the membership test's non-member set:"
echo "   their Membership AUC is 0 (they resemble the non-members), a property of this demo's split only"
for g in "${generators[@]}"; do
  link=(--no-link)
  [ "$g" = copies ] && link=()
  "$chexgen" -q privacy --train out/demo/baselines/reference/metadata.jsonl --train-id-column source_id \
    --train-label-set nih --generations "out/demo/baselines/$g/metadata.jsonl" --generations-label-set nih \
    --holdout out/demo/baselines/held-out/metadata.jsonl --holdout-label-set nih "${link[@]}" \
    --radiomics --size 256 --store out/demo/store --out "out/demo/privacy/$g" > "out/demo/privacy_$g.txt"
  echo "   $g: $(grep -E '^  Copy rate' "out/demo/privacy_$g.txt" | tr -s ' ' | cut -d';' -f1 | paste -sd ';' -)"
done

echo
echo "== chexgen utility probe: train on each generator's images, test on the real reference half: a logistic"
echo "   regression per label (here Pneumonia, which half the sample carries) on radiomic features from the store."
echo "   'copies' are the reference images themselves, the test set: its score is what a leak looks like"
for g in "${generators[@]}"; do
  "$chexgen" -q utility probe --train-synthetic "out/demo/baselines/$g/metadata.jsonl" --synthetic-label-set nih \
    --test out/demo/baselines/reference/metadata.jsonl --test-label-set nih --labels Pneumonia --C 0.1 \
    --radiomics --size 256 --store out/demo/store --out "out/demo/utility/$g" > "out/demo/utility_$g.txt"
  echo "   $g: $(grep -E '^  Utility AUROC' "out/demo/utility_$g.txt" | tr -s ' ')"
done

echo
echo "== chexgen leaderboard: fidelity, privacy and utility, one row per generator"
"$chexgen" leaderboard "${generators[@]/#/out/demo/fidelity/}" "${generators[@]/#/out/demo/privacy/}" \
  "${generators[@]/#/out/demo/utility/}" --csv out/demo/leaderboard.csv

echo
echo "demo: results in out/demo/ (inspect.json, 00000061_012_299.png, baselines/, fidelity/<generator>/results.json"
echo "and CheXGenBench's CSV tables, privacy/<generator>/results.json, flagged_pairs.csv and contact_sheet.png,"
echo "utility/<generator>/results.json and metrics.csv, leaderboard.csv)"
