#!/usr/bin/python3
"""Reference values for chexgen's Gaussian blur baseline (tests/fidelity/baselines_test.cpp).

scipy.ndimage.gaussian_filter with mode='reflect' and truncate=4.0 on a small float64 test image whose sides are
shorter than the widest kernel, so that the borders reflect more than once. Run with Debian's Python:

    /usr/bin/python3 tests/golden/fidelity/make_blur_golden.py tests/golden/fidelity/blur_golden.json
"""
import json
import sys

import numpy as np
import scipy
from scipy import ndimage


def test_image(width, height):
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 37 + y * 91 + ((x * y) % 7) * 13) % 256).astype(np.float64)


def main():
    out_path = sys.argv[1]
    width, height = 16, 12
    image = test_image(width, height)
    results = []
    for sigma in (0.5, 1.0, 2.0, 4.0):
        blurred = ndimage.gaussian_filter(image, sigma, mode="reflect", truncate=4.0)
        rounded = np.clip(np.floor(blurred + 0.5), 0, 255)
        results.append({
            "sigma": sigma,
            "blurred": [float(v) for v in blurred.ravel()],
            "rounded": [int(v) for v in rounded.ravel()],
        })
    doc = {
        "made_by": "tests/golden/fidelity/make_blur_golden.py, scipy " + scipy.__version__,
        "width": width,
        "height": height,
        "truncate": 4.0,
        "input": [int(v) for v in image.ravel()],
        "results": results,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
