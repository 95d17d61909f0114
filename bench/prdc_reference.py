#!/usr/bin/python3
"""The prdc package's algorithm, for timing against chexgen on the same machine and data.

Reimplements clovaai/generative-evaluation-prdc prdc/prdc.py (compute_prdc) step by step: full
distance matrices from sklearn.metrics.pairwise_distances(metric='euclidean', n_jobs=8) (float32 in,
float32 out, computed by sklearn in float64 chunks), radii by np.argpartition (get_kth_value with
k = nearest_k + 1), then the four comparisons with a strict '<'.

    /usr/bin/python3 bench/prdc_reference.py DIR [--k 5] [--float64]

reads DIR/real.npy and DIR/fake.npy (written by `bench_prdc --write-features DIR`) and prints one JSON
object: the four numbers, the integer counts behind them, seconds, peak RSS. --float64 casts the
inputs to float64 first (distances then stay float64, which is what chexgen's decisions refer to).

One liberty: the package evaluates `distance_real_fake < radii` twice (precision and density); this
script reuses one comparison matrix, so it is, if anything, slightly faster than the package.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np
import sklearn
import sklearn.metrics


def pairwise(x, y):
    # prdc.py compute_pairwise_distance
    return sklearn.metrics.pairwise_distances(x, y, metric="euclidean", n_jobs=8)


def kth_value(unsorted, k):
    # prdc.py get_kth_value
    idx = np.argpartition(unsorted, k, axis=-1)[..., :k]
    return np.take_along_axis(unsorted, idx, axis=-1).max(axis=-1)


def radii(features, nearest_k):
    # prdc.py compute_nearest_neighbour_distances
    return kth_value(pairwise(features, features), nearest_k + 1)


def prdc(real, fake, nearest_k):
    real_r = radii(real, nearest_k)
    fake_r = radii(fake, nearest_k)
    d = pairwise(real, fake)
    in_real = d < np.expand_dims(real_r, axis=1)
    in_fake = d < np.expand_dims(fake_r, axis=0)
    covered = d.min(axis=1) < real_r
    counts = in_real.sum(axis=0)
    return {
        "precision_value": float(in_real.any(axis=0).mean()),
        "recall": float(in_fake.any(axis=1).mean()),
        "density": float((1.0 / float(nearest_k)) * counts.mean()),
        "coverage": float(covered.mean()),
        "counts": {
            "precision_fakes": int(in_real.any(axis=0).sum()),
            "recall_reals": int(in_fake.any(axis=1).sum()),
            "density_memberships": int(counts.sum()),
            "coverage_reals": int(covered.sum()),
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--float64", action="store_true")
    args = ap.parse_args()
    real = np.load(args.dir + "/real.npy")
    fake = np.load(args.dir + "/fake.npy")
    if args.float64:
        real = real.astype(np.float64)
        fake = fake.astype(np.float64)
    t0 = time.perf_counter()
    out = prdc(real, fake, args.k)
    out["prdc_s"] = time.perf_counter() - t0
    out.update({
        "real_rows": int(real.shape[0]), "fake_rows": int(fake.shape[0]), "dim": int(real.shape[1]),
        "k": args.k, "dtype": str(real.dtype),
        "numpy": np.__version__, "sklearn": sklearn.__version__,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    })
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
