#!/usr/bin/python3
"""Builds the bundled sample (data/sample/) from the NIH ChestX-ray14 subset in ../shared/data/nih-cxr.

Run from the repository root:  /usr/bin/python3 data/sample/make_sample.py [../shared/data/nih-cxr]

Selection (deterministic): every image of the first patients (by id) that have more than one image,
up to 60 images, then a seeded random draw that brings 'No Finding' and 'Pneumonia' to 80 images each.
Images are resized 512x512 -> 256x256 with Pillow's LANCZOS filter and saved as 8-bit grayscale PNG.
labels.csv keeps the source columns unchanged (file_name relative to this folder).
"""
import collections
import csv
import os
import random
import sys

from PIL import Image

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nih-cxr"
DEST = os.path.dirname(os.path.abspath(__file__))
PER_CLASS = 80
MULTI_IMAGE_BUDGET = 60
SEED = 2026
SIZE = 256


def main():
    with open(os.path.join(SOURCE, "labels.csv"), newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)

    by_patient = collections.defaultdict(list)
    for r in rows:
        by_patient[int(r["patient_id"])].append(r)

    chosen = []
    for pid in sorted(by_patient):
        group = by_patient[pid]
        if len(group) > 1 and len(chosen) + len(group) <= MULTI_IMAGE_BUDGET:
            chosen.extend(group)

    def klass(r):
        return "No Finding" if r["No Finding"] == "1" else "Pneumonia"

    counts = collections.Counter(klass(r) for r in chosen)
    taken = {r["file_name"] for r in chosen}
    rng = random.Random(SEED)
    for name in ("No Finding", "Pneumonia"):
        pool = sorted((r for r in rows if klass(r) == name and r["file_name"] not in taken), key=lambda r: r["file_name"])
        need = PER_CLASS - counts[name]
        chosen.extend(rng.sample(pool, need))

    chosen.sort(key=lambda r: r["file_name"])
    os.makedirs(os.path.join(DEST, "images"), exist_ok=True)
    for r in chosen:
        img = Image.open(os.path.join(SOURCE, r["file_name"])).convert("L")
        img.resize((SIZE, SIZE), Image.LANCZOS).save(os.path.join(DEST, r["file_name"]), optimize=True)

    with open(os.path.join(DEST, "labels.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(chosen)
    print(f"{len(chosen)} images, {collections.Counter(klass(r) for r in chosen)}, "
          f"{len({r['patient_id'] for r in chosen})} patients")


if __name__ == "__main__":
    main()
