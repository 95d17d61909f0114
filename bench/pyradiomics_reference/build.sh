#!/usr/bin/env bash
# Builds PyRadiomics (commit 8ed5793, the one CheXGenBench's frd-score pins) for /usr/bin/python3 without pip or
# network: exports its `radiomics/` package and compiles the C extensions _cmatrices and _cshape with gcc.
# Usage: bench/pyradiomics_reference/build.sh [SOURCE] [BUILD_DIR]
#   SOURCE     a git repository (bare or not) holding commit 8ed5793, or a directory that already contains the
#              PyRadiomics source tree (radiomics/ at its top); default: /work/.mirror/AIM-Harvard+pyradiomics/repo
#   BUILD_DIR  where the importable package goes (BUILD_DIR/radiomics); default: build/pyradiomics in the repository
#              root (git-ignored). Its previous content is replaced.
set -euo pipefail

commit=8ed579383b44806651c463d5e691f3b2b57522ab
version=3.1.1.dev111+g8ed5793   # what setuptools_scm writes for this commit (v3.1.0 + 111 commits)
repo_root=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:-/work/.mirror/AIM-Harvard+pyradiomics/repo}
out=${2:-$repo_root/build/pyradiomics}
python=/usr/bin/python3

rm -rf "$out"
mkdir -p "$out"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  # Only radiomics/ and the licence: some large test-data blobs are absent from partial mirrors.
  git -C "$src" archive "$commit" radiomics LICENSE.txt | tar -x -C "$out"
elif [[ -d "$src/radiomics/src" ]]; then
  cp -r "$src/radiomics" "$out/"
  [[ -f "$src/LICENSE.txt" ]] && cp "$src/LICENSE.txt" "$out/"
else
  echo "build.sh: '$src' is neither a git repository nor a PyRadiomics source directory" >&2
  exit 2
fi
# setuptools_scm normally generates this file at install time.
printf 'version = "%s"\n__version__ = version\n' "$version" > "$out/radiomics/_version.py"

py_inc=$($python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$($python -c 'import numpy; print(numpy.get_include())')
suffix=$($python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
cflags=(-O2 -fPIC -fwrapv -DNDEBUG -shared -I"$py_inc" -I"$np_inc")
s="$out/radiomics/src"
gcc "${cflags[@]}" "$s/_cmatrices.c" "$s/cmatrices.c" -o "$out/radiomics/_cmatrices$suffix" -lm
gcc "${cflags[@]}" "$s/_cshape.c" "$s/cshape.c" -o "$out/radiomics/_cshape$suffix" -lm

# Load check of the two extensions alone (importing the package itself needs the SimpleITK stand-in).
$python - "$out/radiomics" "$suffix" <<'PY'
import importlib.util, sys
for name in ("_cmatrices", "_cshape"):
    spec = importlib.util.spec_from_file_location(name, f"{sys.argv[1]}/{name}{sys.argv[2]}")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
PY
echo "PyRadiomics $version built in $out"
