# flows family (sourced by benchmarks/gpu/run.sh, inside benchmarks/): GPU-scale RealNVP and
# Glow on dequantized MNIST, each trained for $minutes, -> results/{glow,realnvp}-mnist-gpu.json
job flows-glow python3 flows_mnist.py --model glow --scale gpu --device cuda --minutes "$minutes"
job flows-realnvp python3 flows_mnist.py --model realnvp --scale gpu --device cuda --minutes "$minutes"
