#!/usr/bin/env bash
# Copy the benchmark data the GPU jobs need into .gpu_data/ (git-ignored) so it travels.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu_data
for f in binarized_mnist.npz mnist.npz fsdd.npz; do cp -f "${PERCEPTZOO_DATA:-../shared/data}/$f" .gpu_data/; done
grep -qx '/.gpu_data/' .git/info/exclude || echo '/.gpu_data/' >> .git/info/exclude
# pure-Python dependencies the GPU image lacks travel too
py=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
sp=$("$py" -c "import gymnasium, os; print(os.path.dirname(os.path.dirname(gymnasium.__file__)))")
mkdir -p .gpu_data/pylib
for p in gymnasium farama_notifications trimesh cloudpickle; do cp -r "$sp/$p" .gpu_data/pylib/; done
# compiled dependencies the GPU image lacks (its Python is 3.12): binary wheels, unpacked
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu_data/wheels rtree
for w in .gpu_data/wheels/*.whl; do "$py" -m zipfile -e "$w" .gpu_data/pylib/; done
du -sh .gpu_data
