# MADE (sourced by benchmarks/gpu/run.sh, inside benchmarks/): one mask and 32 masks at the
# authors' 8000 units, each trained for $minutes -> results/made-binarized_mnist-*-gpu.json
scored made-1mask python3 made.py binarized_mnist 1mask --device cuda --minutes "$minutes" --tag gpu
scored made-32masks python3 made.py binarized_mnist 32masks --device cuda --minutes "$minutes" \
  --patience 15 --tag gpu
# the authors' command for their best 32-mask figure (86.64): two layers of 8000 units, orderings
# and connectivities; run it alone, it needs far more epochs than a few minutes give
# scored made-32masks-orders-2x8000 python3 made.py binarized_mnist 32masks-orders \
#   --hidden 8000 8000 --device cuda --minutes "$minutes" --patience 15 --tag gpu
