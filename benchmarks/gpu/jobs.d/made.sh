# MADE (sourced by benchmarks/gpu/run.sh, inside benchmarks/): one mask and 32 masks at the
# authors' 8000 units, each trained for $minutes -> results/made-binarized_mnist-*-gpu.json
scored made-1mask python3 made.py binarized_mnist 1mask --device cuda --minutes "$minutes" --tag gpu
scored made-32masks python3 made.py binarized_mnist 32masks --device cuda --minutes "$minutes" \
  --patience 15 --tag gpu
