# MADE (sourced by benchmarks/gpu/run.sh, inside benchmarks/): one mask and 32 masks at the
# authors' 8000 units, each trained for $minutes -> results/made-binarized_mnist-*-gpu.json.
# A GPU step is ~ms (masks switch on the device), so a few minutes give the 32-mask models
# hundreds of epochs; patience 15 evaluations = 30 epochs, the authors' look-ahead. Run together
# (session 4) they sized their epochs before the others were busy and got half of them done in
# the limit; 32masks-orders then finished alone in 150 s (`made.py ... --epochs 108` resumes it).
scored made-1mask python3 made.py binarized_mnist 1mask --device cuda --minutes "$minutes" --tag gpu
scored made-32masks python3 made.py binarized_mnist 32masks --device cuda --minutes "$minutes" \
  --patience 15 --tag gpu
scored made-32masks-orders python3 made.py binarized_mnist 32masks-orders --device cuda \
  --minutes "$minutes" --patience 15 --tag gpu
# the authors' command for their best 32-mask figure (86.64): two layers of 8000 units, orderings
# and connectivities
scored made-32masks-orders-2x8000 python3 made.py binarized_mnist 32masks-orders \
  --hidden 8000 8000 --device cuda --minutes "$minutes" --patience 15 --tag gpu
