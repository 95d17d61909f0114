#!/usr/bin/python3
"""Planted copies on a real radiograph set (docs/privacy.md, "On the 578 NIH radiographs"): the labelled form of the
privacy tests, run on ../shared/data/nih-cxr (or any folder with NIH's labels.csv layout), outside CI.

    /usr/bin/python3 bench/privacy_planted_copies.py NIH_FOLDER CHEXGEN_BINARY WORK_DIR

The patients are split (numpy RandomState(0) permutation of the patient ids, filled in turn) into a training set
(about half the images), held-out images (a quarter) and the images of the remaining patients, which make a null
generator. Each other generator is the null's images with the first k replaced by copies of training images 0, 1,
2, ... (k = 1 %, 5 % and 20 % of the generator): exact copies (the training image's own file) and copies saved as
JPEG quality 75 with Pillow. Every generator goes through `chexgen privacy --no-link --radiomics` (pixel thumbnails
and radiomics, one shared feature store); the script prints one markdown table of the calibrated measures.
"""
import csv
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image


def main():
    nih, chexgen, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(nih, "labels.csv"), newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = list(reader)
    for r in rows:
        r["file_name"] = os.path.abspath(os.path.join(nih, r["file_name"]))
    patients = sorted({r["patient_id"] for r in rows})
    order = np.random.RandomState(0).permutation(len(patients))
    by_patient = {}
    for r in rows:
        by_patient.setdefault(r["patient_id"], []).append(r)
    parts = {"train": [], "holdout": [], "others": []}
    targets = {"train": len(rows) / 2, "holdout": len(rows) / 4}
    for k in order:
        group = by_patient[patients[k]]
        if len(parts["train"]) < targets["train"]:
            parts["train"] += group
        elif len(parts["holdout"]) < targets["holdout"]:
            parts["holdout"] += group
        else:
            parts["others"] += group

    def write(name, part):
        path = os.path.join(work, name + ".csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header)
            w.writeheader()
            w.writerows(part)
        return path

    train_csv, holdout_csv = write("train", parts["train"]), write("holdout", parts["holdout"])
    n = len(parts["others"])
    generators = [("null", 0, "exact")]
    for rate in (0.01, 0.05, 0.20):
        for how in ("exact", "jpeg75"):
            generators.append((f"{how}-{int(rate * 100)}pct", max(1, round(rate * n)), how))
    table = []
    for name, k, how in generators:
        gen = [dict(r) for r in parts["others"]]
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        for i in range(k):
            source = parts["train"][i]
            copy = dict(source)
            if how == "jpeg75":
                copy["file_name"] = os.path.join(folder, f"copy_{i}.jpg")
                Image.open(source["file_name"]).convert("L").save(copy["file_name"], quality=75)
            gen[i] = copy
        gen_csv = write(os.path.join(name, "generations"), gen)
        out = os.path.join(work, "out", name)
        common = ["--format", "onehot", "--label-set", "nih", "--image-column", "file_name",
                  "--patient-column", "patient_id"]
        args = [chexgen, "-q", "privacy", "--no-link", "--radiomics", "--store", os.path.join(work, "store"),
                "--out", out, "--train", train_csv, "--generations", gen_csv, "--holdout", holdout_csv]
        for role in ("train", "generations", "holdout"):
            for i in range(0, len(common), 2):
                args += [f"--{role}-{common[i][2:]}", common[i + 1]]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        recs = {(r["metric"], r["space"]): r for r in res["overall"]["records"]}
        row = {"generator": name, "planted": k, "n": n}
        for space in ("Pixels", "Radiomics"):
            c = recs[("copy_rate", space)]
            row[space] = c
            row[space + " ct"] = recs[("data_copying", space)].get("value")
            row[space + " auc"] = recs[("membership_auc", space)].get("value")
            row[space + " nndr"] = recs[("nndr_rate", space)].get("value")
        table.append(row)

    print(f"train {len(parts['train'])} images, held-out {len(parts['holdout'])}, generators {n} "
          f"(patients {len(patients)})")
    print()
    print("| generator | planted | space | copy rate [interval] | excess | held-out null | unseen image | "
          "NNDR rate | C_T | membership AUC |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in table:
        for space in ("Pixels", "Radiomics"):
            c = row[space]
            d = c["details"]
            print(f"| {row['generator']} | {row['planted']} of {row['n']} ({row['planted'] / row['n']:.3f}) | {space} "
                  f"| {c['value']:.3f} [{c['interval'][0]:.3f}, {c['interval'][1]:.3f}] "
                  f"| {d['excess']:+.3f} | {d['null']['rate']:.3f} "
                  f"| {d['exchangeable']['low']:.3f}–{d['exchangeable']['high']:.3f} "
                  f"| {row[space + ' nndr']:.3f} | {row[space + ' ct']:.2f} | {row[space + ' auc']:.3f} |")


if __name__ == "__main__":
    main()
