#!/usr/bin/python3
"""The probe as a user writes it with scikit-learn: StandardScaler, then LogisticRegression(C, solver="lbfgs") per
label (its defaults otherwise) and predict_proba, on the files bench_probe --write-features makes. Prints the same
JSON fields as bench_probe --features DIR.

    /usr/bin/python3 bench/probe_reference.py DIR [C]
"""
import json
import resource
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def main():
    folder = sys.argv[1]
    C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    t0 = time.perf_counter()
    x = np.load(f"{folder}/x.npy")
    y = np.load(f"{folder}/y.npy")
    t1 = time.perf_counter()
    xs = StandardScaler().fit_transform(x)
    iterations, checksum = [], 0.0
    for l in range(y.shape[1]):
        m = LogisticRegression(C=C, solver="lbfgs").fit(xs, y[:, l])
        iterations.append(int(m.n_iter_[0]))
        checksum += float(m.predict_proba(xs)[:, 1].sum())
    t2 = time.perf_counter()
    print(json.dumps({"read_seconds": t1 - t0, "fit_seconds": t2 - t1, "iterations": iterations,
                      "probability_sum": checksum,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
