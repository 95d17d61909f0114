#!/usr/bin/python3
"""Runs PyRadiomics itself (your own installation; the comparisons used its commit 8ed5793) on chest X-ray
images the way CheXGenBench's compute_slice_radiomics does, and writes the feature table chexgen's radiomics engine is
checked and timed against.

SimpleITK is replaced by the numpy/scipy stand-in next to this file (SimpleITK.py). When pykwalify (PyRadiomics'
parameter-schema validator) is not installed, a stub that accepts the parameters unchanged takes its place (the
parameters below are fixed and valid); when ruamel.yaml (needed only by PyRadiomics' command-line package, which
PyRadiomics imports while listing its feature classes) is missing, a placeholder takes its place.

Table: first column `image` (file name), then every numeric value of PyRadiomics' output in its order (features
and numeric diagnostics such as diagnostics_Image-original_Mean). Non-numeric diagnostics (versions, settings,
hashes, sizes, spacings, bounding boxes, centres of mass) are dropped. Values are written with repr() (shortest
round-trip form of the float64).

PyRadiomics is not part of this repository, nor fetched or built by it: use a Python where it is installed (in your
own environment, at commit 8ed5793, the one CheXGenBench's frd-score pins, with its C extensions), or give
--pyradiomics-src, a folder holding such a built radiomics/ package.

Usage:
  python3 bench/pyradiomics_reference/run_pyradiomics.py [--pyradiomics-src DIR] \\
      --images tests/golden/radiomics/nih24/*.png [--no-resample] [--config frd-v1|full] --out table.csv [--time] \\
      [--itk-normalize]
"""

import os

# Single-threaded reference: set before numpy/scipy load their BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import logging  # noqa: E402
import numbers  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# CheXGenBench's FRD-v1 parameters (frd-score's frd_v1), as a PyRadiomics parameter dictionary.
FRD_V1_GLCM = [
    "Autocorrelation", "JointAverage", "ClusterProminence", "ClusterShade", "ClusterTendency", "Contrast",
    "Correlation", "DifferenceAverage", "DifferenceEntropy", "DifferenceVariance", "JointEnergy", "JointEntropy",
    "Imc1", "Imc2", "Idm", "Idmn", "Id", "Idn", "InverseVariance", "MaximumProbability", "SumEntropy", "SumSquares",
]


def parameters(config, resample):
    setting = {
        "normalize": True,
        "normalizeScale": 100,
        "interpolator": "sitkBSpline",
        "resampledPixelSpacing": [2, 2, 0],
        "padDistance": 10,
        "preCrop": True,
        "force2D": True,
        "force2Ddimension": 0,
        "binWidth": 5,
        "voxelArrayShift": 300,
        "label": 1,
    }
    if not resample:
        del setting["interpolator"], setting["resampledPixelSpacing"]
    if config == "frd-v1":
        feature_class = {"firstorder": [], "glcm": list(FRD_V1_GLCM), "glrlm": [], "glszm": [], "ngtdm": []}
    else:  # full: every non-deprecated feature of these classes ([] = all), GLDM added, PyRadiomics' class order
        feature_class = {"firstorder": [], "glcm": [], "gldm": [], "glrlm": [], "glszm": [], "ngtdm": []}
    return {
        "imageType": {"Original": {}, "LoG": {"sigma": [2.0, 3.0, 4.0, 5.0]}, "Wavelet": {}},
        "featureClass": feature_class,
        "setting": setting,
    }


def install_pykwalify_stub():
    """Stands in for pykwalify.core when it is missing: validate() returns the parameters as given."""
    try:
        import pykwalify.core  # noqa: F401
        return False
    except ImportError:
        pass

    class Core:
        def __init__(self, source_file=None, source_data=None, schema_files=None, extensions=None):
            if source_file is not None:
                raise NotImplementedError("pykwalify stub: pass the parameters as a dictionary")
            self._data = source_data

        def validate(self, raise_exception=True):
            return self._data

    package = types.ModuleType("pykwalify")
    core = types.ModuleType("pykwalify.core")
    core.Core = Core
    core.log = logging.getLogger("pykwalify.core")
    package.core = core
    sys.modules["pykwalify"] = package
    sys.modules["pykwalify.core"] = core
    return True


def install_ruamel_stub():
    """PyRadiomics imports its command-line package (radiomics.scripts, which needs ruamel.yaml) while it looks for
    feature classes; the runner never uses that package, so a placeholder suffices when ruamel.yaml is missing."""
    try:
        import ruamel.yaml  # noqa: F401
        return False
    except ImportError:
        pass

    class YAML:
        def __init__(self, *_args, **_kwargs):
            raise NotImplementedError("ruamel.yaml stub: PyRadiomics' command line is not available here")

    package = types.ModuleType("ruamel")
    yaml = types.ModuleType("ruamel.yaml")
    yaml.YAML = YAML
    package.yaml = yaml
    sys.modules["ruamel"] = package
    sys.modules["ruamel.yaml"] = yaml
    return True


def chexgenbench_inputs(sitk, path):
    """Image and mask as compute_slice_radiomics builds them: 8-bit gray, one slice, 1 mm, ROI = all but (0, 0)."""
    array = np.array(Image.open(path).convert("L"))
    mask = np.ones_like(array)
    mask[0][0] = 0
    image = sitk.JoinSeries(sitk.GetImageFromArray(array))
    image.SetSpacing((1.0, 1.0, 1.0))
    mask_image = sitk.JoinSeries(sitk.GetImageFromArray(mask))
    mask_image.SetSpacing((1.0, 1.0, 1.0))
    mask_image = sitk.Cast(mask_image, sitk.sitkInt32)
    return image, mask_image


def is_numeric(value):
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, (numbers.Real, np.number))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pyradiomics-src", help="folder holding a built radiomics/ package (default: the installed one)")
    parser.add_argument("--images", nargs="+", required=True)
    parser.add_argument("--no-resample", action="store_true", help="leave out interpolator/resampledPixelSpacing")
    parser.add_argument("--config", choices=("frd-v1", "full"), default="frd-v1")
    parser.add_argument("--out", required=True, help="CSV table to write")
    parser.add_argument("--time", action="store_true", help="print seconds per image (load + extraction)")
    parser.add_argument("--itk-normalize", action="store_true",
                        help="normalise with ITK's rounding (one-pass sd, (x - mean) * (1/sd)) instead of the golden "
                             "tables' ((x - mean) / np.std(ddof=1)); see SimpleITK.normalize_arithmetic")
    args = parser.parse_args()

    if args.pyradiomics_src:
        sys.path.insert(0, os.path.abspath(args.pyradiomics_src))
    sys.path.insert(0, HERE)  # the SimpleITK stand-in comes first
    stubbed = install_pykwalify_stub()
    install_ruamel_stub()
    import SimpleITK as sitk
    import radiomics
    from radiomics import featureextractor

    if not sitk.__file__.startswith(HERE):
        sys.exit(f"run_pyradiomics.py: imported {sitk.__file__}, not the stand-in")
    if radiomics.cMatrices is None:
        sys.exit("run_pyradiomics.py: PyRadiomics' C extensions (_cmatrices) did not load: install PyRadiomics with them")
    radiomics.setVerbosity(40)
    sitk.normalize_arithmetic = "itk" if args.itk_normalize else "divide"

    extractor = featureextractor.RadiomicsFeatureExtractor(parameters(args.config, not args.no_resample))
    columns = None
    rows = []
    seconds = []
    for path in args.images:
        start = time.perf_counter()
        image, mask = chexgenbench_inputs(sitk, path)
        result = extractor.execute(image, mask)
        seconds.append(time.perf_counter() - start)
        numeric = [(k, float(v)) for k, v in result.items() if is_numeric(v)]
        keys = [k for k, _ in numeric]
        if columns is None:
            columns = keys
        elif keys != columns:
            sys.exit(f"run_pyradiomics.py: {path}: output keys differ from the first image's")
        rows.append([os.path.basename(path)] + [repr(v) for _, v in numeric])
        if args.time:
            print(f"{os.path.basename(path)}\t{seconds[-1]:.3f} s", flush=True)

    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)  # csv default line ends (CRLF), as the golden tables
        writer.writerow(["image"] + columns)
        writer.writerows(rows)
    if args.time:
        print(f"images {len(seconds)}  median {statistics.median(seconds):.3f} s  "
              f"min {min(seconds):.3f} s  max {max(seconds):.3f} s  "
              f"({args.config}, {'no resampling' if args.no_resample else '2 mm B-spline resampling'}, "
              f"1 thread{', pykwalify stub' if stubbed else ''})")
    print(f"wrote {args.out}: {len(rows)} rows, {len(columns)} numeric columns", file=sys.stderr)


if __name__ == "__main__":
    main()
