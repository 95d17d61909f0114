"""A minimal numpy/scipy stand-in for the SimpleITK module, written for chexgen (not SimpleITK, not ITK code).

It exists so that PyRadiomics itself (commit 8ed5793) can run on machines where SimpleITK cannot be installed, as
the reference for chexgen's radiomics engine. It implements only the calls that PyRadiomics' featureextractor,
imageoperations, generalinfo, base and feature classes make, and that CheXGenBench's compute_slice_radiomics makes,
for single-slice images (2-D, or 3-D with one slice as JoinSeries makes them):

- Image: pixel data as a numpy array in (z, y, x) order, with spacing, origin and direction in (x, y, z) order.
- GetImageFromArray, GetArrayFromImage, GetArrayViewFromImage, JoinSeries, Cast, Normalize, Hash, `image * c`,
  `image *= c`, `image == c`. Normalize rounds as the golden tables' stand-in did by default, or as ITK
  does (see `normalize_arithmetic`).
- ResampleImageFilter with sitkNearestNeighbor (round half up, as ITK) or sitkBSpline (cubic B-spline with mirror
  boundary: scipy.ndimage.spline_filter + map_coordinates, order 3, mode 'mirror'), identity direction only; axes
  of size 1 are taken as they are and must be sampled at index 0.
- LabelStatisticsImageFilter, LabelShapeStatisticsImageFilter (labels, counts, bounding boxes only),
  ConnectedComponentImageFilter, CropImageFilter.

Limits: scalar images only (no vector images), no file reading, no filters beyond those above (the LoG, gradient
and padding filters raise NotImplementedError; PyRadiomics skips LoG by itself on a single-slice volume).
Results agree with ITK 5.2 to about 1e-8 relative after B-spline resampling (ITK computes its spline coefficients
with a truncated boundary sum) and to rounding elsewhere.
"""

import hashlib
import sys

import numpy as np
from scipy import ndimage

# Pixel type identifiers (SimpleITK's numbering) and their numpy types and names.
sitkInt8, sitkUInt8, sitkInt16, sitkUInt16, sitkInt32, sitkUInt32, sitkInt64, sitkUInt64 = range(8)
sitkFloat32, sitkFloat64 = 8, 9
sitkUnknown = -1
_PIXEL_TYPES = {
    sitkInt8: (np.int8, "8-bit signed integer"),
    sitkUInt8: (np.uint8, "8-bit unsigned integer"),
    sitkInt16: (np.int16, "16-bit signed integer"),
    sitkUInt16: (np.uint16, "16-bit unsigned integer"),
    sitkInt32: (np.int32, "32-bit signed integer"),
    sitkUInt32: (np.uint32, "32-bit unsigned integer"),
    sitkInt64: (np.int64, "64-bit signed integer"),
    sitkUInt64: (np.uint64, "64-bit unsigned integer"),
    sitkFloat32: (np.float32, "32-bit float"),
    sitkFloat64: (np.float64, "64-bit float"),
}
_PIXEL_ID_OF_DTYPE = {np.dtype(t): pid for pid, (t, _) in _PIXEL_TYPES.items()}

# Interpolator identifiers (SimpleITK's numbering).
sitkNearestNeighbor, sitkLinear, sitkBSpline = 1, 2, 3

_COORDINATE_TOLERANCE = 1e-6  # ITK's default, relative to the first spacing
_DIRECTION_TOLERANCE = 1e-6


class Version:
    @staticmethod
    def VersionString():
        return "chexgen numpy/scipy stand-in"


class ProcessObject:
    @staticmethod
    def SetGlobalDefaultCoordinateTolerance(tolerance):
        global _COORDINATE_TOLERANCE
        _COORDINATE_TOLERANCE = float(tolerance)

    @staticmethod
    def SetGlobalDefaultDirectionTolerance(tolerance):
        global _DIRECTION_TOLERANCE
        _DIRECTION_TOLERANCE = float(tolerance)


def _pixel_id(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        dtype = np.dtype(np.uint8)
    if dtype not in _PIXEL_ID_OF_DTYPE:
        raise NotImplementedError(f"SimpleITK stand-in: no pixel type for numpy dtype {dtype}")
    return _PIXEL_ID_OF_DTYPE[dtype]


class Image:
    """Scalar image: `_array` in (z, y, x) order; spacing, origin, direction in (x, y, z) order."""

    def __init__(self, *args):
        if args:
            raise NotImplementedError("SimpleITK stand-in: build images with GetImageFromArray")
        self._array = np.zeros((0, 0))
        self._spacing = (1.0, 1.0)
        self._origin = (0.0, 0.0)
        self._direction = (1.0, 0.0, 0.0, 1.0)

    @classmethod
    def _from_array(cls, array, spacing, origin, direction):
        image = cls()
        image._array = array
        image._spacing = tuple(float(v) for v in spacing)
        image._origin = tuple(float(v) for v in origin)
        image._direction = tuple(float(v) for v in direction)
        return image

    def _with_array(self, array):
        return Image._from_array(array, self._spacing, self._origin, self._direction)

    # Geometry
    def GetDimension(self):
        return self._array.ndim

    def GetSize(self):
        return tuple(int(n) for n in self._array.shape[::-1])

    def GetNumberOfPixels(self):
        return int(self._array.size)

    def GetSpacing(self):
        return self._spacing

    def SetSpacing(self, spacing):
        self._spacing = self._checked_vector(spacing, "spacing")

    def GetOrigin(self):
        return self._origin

    def SetOrigin(self, origin):
        self._origin = self._checked_vector(origin, "origin")

    def GetDirection(self):
        return self._direction

    def SetDirection(self, direction):
        direction = tuple(float(v) for v in direction)
        if len(direction) != self.GetDimension() ** 2:
            raise ValueError(f"direction needs {self.GetDimension() ** 2} values, got {len(direction)}")
        self._direction = direction

    def _checked_vector(self, values, what):
        values = tuple(float(v) for v in values)
        if len(values) != self.GetDimension():
            raise ValueError(f"{what} needs {self.GetDimension()} values, got {len(values)}")
        return values

    def CopyInformation(self, other):
        if self.GetSize() != other.GetSize():
            raise RuntimeError(
                f"CopyInformation: image sizes differ ({self.GetSize()} vs {other.GetSize()})")
        self._spacing, self._origin, self._direction = other._spacing, other._origin, other._direction

    def _index_to_physical_matrix(self):
        nd = self.GetDimension()
        return np.array(self._direction).reshape(nd, nd) @ np.diag(self._spacing)

    def TransformContinuousIndexToPhysicalPoint(self, index):
        index = np.asarray(index, dtype=float)
        return tuple(float(v) for v in np.array(self._origin) + self._index_to_physical_matrix() @ index)

    def TransformIndexToPhysicalPoint(self, index):
        return self.TransformContinuousIndexToPhysicalPoint([int(i) for i in index])

    def TransformPhysicalPointToContinuousIndex(self, point):
        offset = np.asarray(point, dtype=float) - np.array(self._origin)
        return tuple(float(v) for v in np.linalg.solve(self._index_to_physical_matrix(), offset))

    # Pixel type
    def GetPixelID(self):
        return _pixel_id(self._array.dtype)

    def GetPixelIDValue(self):
        return self.GetPixelID()

    def GetPixelIDTypeAsString(self):
        return _PIXEL_TYPES[self.GetPixelID()][1]

    def GetNumberOfComponentsPerPixel(self):
        return 1

    # Arithmetic used by PyRadiomics and CheXGenBench
    def __mul__(self, constant):
        if not np.isscalar(constant):
            raise NotImplementedError("SimpleITK stand-in: only image * constant")
        if self._array.dtype.kind != "f":
            raise NotImplementedError("SimpleITK stand-in: image * constant needs a floating-point image")
        return self._with_array((self._array * self._array.dtype.type(constant)).astype(self._array.dtype))

    __rmul__ = __mul__

    def __imul__(self, constant):
        return self * constant

    def __eq__(self, constant):
        if not np.isscalar(constant):
            raise NotImplementedError("SimpleITK stand-in: only image == constant")
        return self._with_array((self._array == constant).astype(np.uint8))

    __hash__ = None


def GetImageFromArray(array, isVector=False):
    if isVector:
        raise NotImplementedError("SimpleITK stand-in: vector images are not supported")
    array = np.array(array, copy=True)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    _pixel_id(array.dtype)
    if array.ndim not in (2, 3):
        raise NotImplementedError(f"SimpleITK stand-in: {array.ndim}-D arrays are not supported")
    nd = array.ndim
    return Image._from_array(np.ascontiguousarray(array), (1.0,) * nd, (0.0,) * nd, np.eye(nd).ravel())


def GetArrayFromImage(image):
    return image._array.copy()


def GetArrayViewFromImage(image):
    view = image._array.view()
    view.flags.writeable = False
    return view


def JoinSeries(*images):
    if len(images) == 1 and isinstance(images[0], (list, tuple)):
        images = tuple(images[0])
    if not images or any(im.GetDimension() != 2 for im in images):
        raise NotImplementedError("SimpleITK stand-in: JoinSeries of 2-D images only")
    first = images[0]
    if any(im.GetSize() != first.GetSize() or im._array.dtype != first._array.dtype for im in images):
        raise RuntimeError("JoinSeries: inputs differ in size or pixel type")
    d = np.array(first._direction).reshape(2, 2)
    direction = np.eye(3)
    direction[:2, :2] = d
    return Image._from_array(np.stack([im._array for im in images]), first._spacing + (1.0,),
                             first._origin + (0.0,), direction.ravel())


def Cast(image, pixelID):
    if pixelID not in _PIXEL_TYPES:
        raise NotImplementedError(f"SimpleITK stand-in: pixel type {pixelID}")
    return image._with_array(image._array.astype(_PIXEL_TYPES[pixelID][0]))


# How Normalize rounds. "divide" (default): (x - mean) / sd with numpy's two-pass sd (np.std, ddof=1), the
# arithmetic of the stand-in that made the golden tables in tests/golden/radiomics (this reproduces them bit for
# bit). "itk": ITK's NormalizeImageFilter arithmetic, sd from one-pass sums, sqrt((sum x^2 - (sum x)^2/N) / (N-1))
# (StatisticsImageFilter), then (x + (-mean)) * (1 / sd) (ShiftScaleImageFilter). The two differ by an ulp here
# and there, which moves a few pixels of the wavelet bands across a bin edge: texture features of those bands then
# differ by up to ~1e-3 relative, more for values that are zero up to rounding.
normalize_arithmetic = "divide"


def Normalize(image):
    """(x - mean) / sd over the whole image, sd with N - 1, float64 (rounding: see normalize_arithmetic)."""
    values = image._array.astype(np.float64)
    if normalize_arithmetic == "divide":
        return image._with_array((values - values.mean()) / values.std(ddof=1))
    if normalize_arithmetic == "itk":
        n = values.size
        total = float(np.sum(values))
        sum_of_squares = float(np.sum(values * values))
        mean = total / n
        sd = np.sqrt((sum_of_squares - total * total / n) / (n - 1))
        return image._with_array((values + (-mean)) * (1.0 / sd))
    raise ValueError(f"normalize_arithmetic must be 'divide' or 'itk', not {normalize_arithmetic!r}")


def Hash(image):
    """SHA1 of the pixel buffer (a provenance string; not byte-identical to SimpleITK's)."""
    return hashlib.sha1(np.ascontiguousarray(image._array).tobytes()).hexdigest()


def _same_physical_space(a, b):
    tolerance = _COORDINATE_TOLERANCE * abs(a._spacing[0])
    return (np.allclose(a._origin, b._origin, rtol=0, atol=tolerance)
            and np.allclose(a._spacing, b._spacing, rtol=0, atol=tolerance)
            and np.allclose(a._direction, b._direction, rtol=0, atol=_DIRECTION_TOLERANCE))


class LabelStatisticsImageFilter:
    """Per-label voxel count and bounding box (min, max per axis) of a label image over an intensity image."""

    def __init__(self):
        self._labels = {}

    def Execute(self, image, labelImage):
        if image.GetDimension() != labelImage.GetDimension() or image.GetSize() != labelImage.GetSize():
            raise RuntimeError(
                "Both images for LabelStatisticsImageFilter don't match type or dimension!")
        if not _same_physical_space(image, labelImage):
            raise RuntimeError("Inputs do not occupy the same physical space!")
        labels = labelImage._array
        self._labels = {}
        for label in np.unique(labels):
            where = np.nonzero(labels == label)[::-1]  # x, y, z
            box = []
            for coordinates in where:
                box += [int(coordinates.min()), int(coordinates.max())]
            self._labels[int(label)] = (int(where[0].size), tuple(box))

    def GetLabels(self):
        return list(self._labels)

    def HasLabel(self, label):
        return int(label) in self._labels

    def GetCount(self, label):
        return self._labels[int(label)][0]

    def GetBoundingBox(self, label):
        return self._labels[int(label)][1]


class LabelShapeStatisticsImageFilter:
    """Per-label pixel count and bounding box (start index per axis, then size per axis); label 0 is background."""

    def __init__(self):
        self._labels = {}

    def Execute(self, labelImage):
        labels = labelImage._array
        if labels.dtype.kind not in "iu":
            raise RuntimeError("LabelShapeStatisticsImageFilter needs an integer label image")
        self._labels = {}
        for label in np.unique(labels):
            if label == 0:
                continue
            where = np.nonzero(labels == label)[::-1]  # x, y, z
            start = [int(c.min()) for c in where]
            size = [int(c.max()) - int(c.min()) + 1 for c in where]
            self._labels[int(label)] = (int(where[0].size), tuple(start + size))

    def GetLabels(self):
        return list(self._labels)

    def GetNumberOfLabels(self):
        return len(self._labels)

    def HasLabel(self, label):
        return int(label) in self._labels

    def GetNumberOfPixels(self, label):
        return self._labels[int(label)][0]

    def GetBoundingBox(self, label):
        return self._labels[int(label)][1]


class ConnectedComponentImageFilter:
    """Labels the connected pieces of the non-zero pixels (face neighbours, or all neighbours when fully connected)."""

    def __init__(self):
        self._fully_connected = False
        self._count = 0

    def FullyConnectedOn(self):
        self._fully_connected = True

    def FullyConnectedOff(self):
        self._fully_connected = False

    def SetFullyConnected(self, value):
        self._fully_connected = bool(value)

    def GetFullyConnected(self):
        return self._fully_connected

    def Execute(self, image):
        nd = image.GetDimension()
        structure = ndimage.generate_binary_structure(nd, nd if self._fully_connected else 1)
        labelled, self._count = ndimage.label(image._array != 0, structure=structure)
        return image._with_array(labelled.astype(np.uint32))

    def GetObjectCount(self):
        return int(self._count)


class CropImageFilter:
    def __init__(self):
        self._lower = None
        self._upper = None

    def SetLowerBoundaryCropSize(self, size):
        self._lower = [int(v) for v in size]

    def SetUpperBoundaryCropSize(self, size):
        self._upper = [int(v) for v in size]

    def Execute(self, image):
        nd = image.GetDimension()
        lower = self._lower if self._lower is not None else [0] * nd
        upper = self._upper if self._upper is not None else [0] * nd
        size = image.GetSize()
        if len(lower) != nd or len(upper) != nd:
            raise ValueError(f"crop sizes need {nd} values")
        if any(lo < 0 or up < 0 or lo + up > n for lo, up, n in zip(lower, upper, size)):
            raise RuntimeError(f"CropImageFilter: crop sizes {lower}, {upper} do not fit size {size}")
        slices = tuple(slice(lo, n - up) for lo, up, n in zip(lower, upper, size))[::-1]  # to z, y, x
        origin = image.TransformIndexToPhysicalPoint(lower)
        return Image._from_array(image._array[slices].copy(), image._spacing, origin, image._direction)


class ResampleImageFilter:
    """Samples an image on a new grid (identity directions only). Points outside the input get the default value."""

    def __init__(self):
        self._size = None
        self._spacing = None
        self._origin = None
        self._direction = None
        self._interpolator = sitkLinear
        self._pixel_id = sitkUnknown
        self._default = 0.0

    def SetReferenceImage(self, image):
        self._size = image.GetSize()
        self._spacing = image.GetSpacing()
        self._origin = image.GetOrigin()
        self._direction = image.GetDirection()

    def SetSize(self, size):
        self._size = tuple(int(v) for v in size)

    def SetOutputSpacing(self, spacing):
        self._spacing = tuple(float(v) for v in spacing)

    def SetOutputOrigin(self, origin):
        self._origin = tuple(float(v) for v in origin)

    def SetOutputDirection(self, direction):
        self._direction = tuple(float(v) for v in direction)

    def SetInterpolator(self, interpolator):
        self._interpolator = interpolator

    def SetOutputPixelType(self, pixelID):
        self._pixel_id = pixelID

    def SetDefaultPixelValue(self, value):
        self._default = float(value)

    def Execute(self, image):
        nd = image.GetDimension()
        if self._size is None or self._spacing is None or self._origin is None:
            raise RuntimeError("ResampleImageFilter: output size, spacing and origin must be set")
        direction = self._direction if self._direction is not None else tuple(np.eye(nd).ravel())
        identity = np.eye(nd).ravel()
        if not (np.allclose(direction, identity) and np.allclose(image.GetDirection(), identity)):
            raise NotImplementedError("SimpleITK stand-in: resampling with non-identity directions")
        pixel_id = image.GetPixelID() if self._pixel_id == sitkUnknown else self._pixel_id
        out_dtype = _PIXEL_TYPES[pixel_id][0]

        in_size = image.GetSize()
        # Continuous input index of every output grid line, per axis (x, y, z).
        coordinates = [
            (self._origin[a] + self._spacing[a] * np.arange(self._size[a]) - image.GetOrigin()[a])
            / image.GetSpacing()[a]
            for a in range(nd)
        ]
        inside = [(c >= -0.5) & (c < in_size[a] - 0.5) for a, c in enumerate(coordinates)]

        if self._interpolator == sitkNearestNeighbor:
            values = self._nearest(image._array, coordinates, inside)
        elif self._interpolator == sitkBSpline:
            if np.dtype(out_dtype).kind != "f":
                raise NotImplementedError("SimpleITK stand-in: B-spline resampling to an integer pixel type")
            values = self._cubic_bspline(image._array, coordinates, inside)
        else:
            raise NotImplementedError(f"SimpleITK stand-in: interpolator {self._interpolator}")

        inside_grid = np.ones(values.shape, dtype=bool)
        for a in range(nd):
            shape = [1] * nd
            shape[nd - 1 - a] = -1
            inside_grid &= inside[a].reshape(shape)
        values = np.where(inside_grid, values, self._default).astype(out_dtype)
        return Image._from_array(values, self._spacing, self._origin, direction)

    @staticmethod
    def _nearest(array, coordinates, inside):
        nd = array.ndim
        indices = []
        for a in range(nd):
            index = np.floor(coordinates[a] + 0.5).astype(np.int64)  # ITK rounds half up
            indices.append(np.where(inside[a], index, 0))
        return array[np.ix_(*indices[::-1])]

    @staticmethod
    def _cubic_bspline(array, coordinates, inside):
        nd = array.ndim
        data = array.astype(np.float64)
        kept_axes = []  # numpy axes (z, y, x order) that are interpolated
        kept_coordinates = []
        for a in range(nd):
            numpy_axis = nd - 1 - a
            if array.shape[numpy_axis] == 1:
                if not np.all(coordinates[a][inside[a]] == 0.0):
                    raise NotImplementedError(
                        "SimpleITK stand-in: an axis of size 1 can only be sampled at index 0")
                continue
            kept_axes.append(numpy_axis)
            kept_coordinates.append(np.where(inside[a], coordinates[a], 0.0))
        order = sorted(range(len(kept_axes)), key=lambda i: kept_axes[i])
        kept_axes = [kept_axes[i] for i in order]
        kept_coordinates = [kept_coordinates[i] for i in order]
        squeezed = data.reshape([data.shape[ax] for ax in kept_axes])
        coefficients = ndimage.spline_filter(squeezed, order=3, mode="mirror", output=np.float64)
        grid = np.meshgrid(*kept_coordinates, indexing="ij")
        sampled = ndimage.map_coordinates(coefficients, grid, order=3, mode="mirror", prefilter=False,
                                          output=np.float64)
        out_shape = [len(coordinates[nd - 1 - ax]) for ax in range(nd)]
        with_singletons = [out_shape[ax] if ax in kept_axes else 1 for ax in range(nd)]
        return np.broadcast_to(sampled.reshape(with_singletons), out_shape).copy()


def _not_implemented(name):
    def fail(*_args, **_kwargs):
        raise NotImplementedError(f"SimpleITK stand-in: {name} is not implemented")
    fail.__name__ = name
    return fail


# Referenced by PyRadiomics on paths a single-slice FRD extraction does not take.
ReadImage = _not_implemented("ReadImage")
ImageSeriesReader = _not_implemented("ImageSeriesReader")
VectorIndexSelectionCastImageFilter = _not_implemented("VectorIndexSelectionCastImageFilter")
LaplacianRecursiveGaussianImageFilter = _not_implemented("LaplacianRecursiveGaussianImageFilter")
GradientMagnitudeImageFilter = _not_implemented("GradientMagnitudeImageFilter")
ConstantPadImageFilter = _not_implemented("ConstantPadImageFilter")

# PyRadiomics tests `isinstance(x, sitk.SimpleITK.Image)`.
SimpleITK = sys.modules[__name__]
