#!/usr/bin/python3
"""The brute-force copy search of Somepalli et al.'s code (diffusion_rep: normalised features, similarity matrix
chunk by chunk, the best training row of each generation), in numpy float64, on the files bench_privacy_search
writes. Prints the same JSON fields as bench_privacy_search --features DIR.

    /usr/bin/python3 bench/privacy_search_reference.py DIR [CHUNK] [float64|float32]
"""
import json
import resource
import sys
import time

import numpy as np


def main():
    folder = sys.argv[1]
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    dtype = sys.argv[3] if len(sys.argv) > 3 else "float64"
    t0 = time.perf_counter()
    t = np.load(f"{folder}/train.npy").astype(dtype)
    g = np.load(f"{folder}/generations.npy").astype(dtype)
    read_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    gn = g / np.linalg.norm(g, axis=1, keepdims=True)
    best = np.empty(g.shape[0], dtype=np.int64)
    for start in range(0, g.shape[0], chunk):
        sims = gn[start:start + chunk] @ tn.T
        best[start:start + chunk] = np.argmax(sims, axis=1)   # the first of equal maxima
    search_s = time.perf_counter() - t1
    planted = list(range(0, g.shape[0], 100))
    found = sum(int(best[i] == (7919 * i) % t.shape[0]) for i in planted)
    checksum = int(sum((i + 1) * int(b) for i, b in enumerate(best)))
    print(json.dumps({"implementation": f"numpy chunked brute force ({dtype}, chunk {chunk})",
                      "generations": g.shape[0], "train": t.shape[0], "dim": t.shape[1], "read_s": read_s,
                      "search_s": search_s, "planted": len(planted), "planted_found": found, "checksum": checksum,
                      "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}, indent=2))


if __name__ == "__main__":
    main()
