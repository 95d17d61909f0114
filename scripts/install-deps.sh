#!/usr/bin/env bash
# Installs the Debian 12 packages chexgen needs, and only those that are missing.
# Usage: scripts/install-deps.sh [--reference]
#   --reference  also the Python packages used to regenerate golden test files
#                (/usr/bin/python3 with Debian's numpy, scipy, scikit-learn, Pillow, pywt, torch 1.13, torchvision).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  libpng-dev libjpeg62-turbo-dev libdcmtk-dev
  libcsv-dev libcli11-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libopenblas-dev libeigen3-dev libboost-dev libutf8proc-dev
  libcurl4-openssl-dev libcpp-httplib-dev
  libtorch-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
)
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-numpy python3-scipy python3-sklearn python3-pandas python3-pil python3-pywt python3-torch
             python3-torchvision)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
