# diffusion family (sourced by benchmarks/gpu/run.sh, inside benchmarks/): the DDPM CIFAR-10
# recipe at 28x28 on MNIST, steps sized to $minutes -> results/ddpm-mnist-gpu.json and
# results/ddpm-mnist-steps-gpu.json (FD, precision/recall, bound in bits/dim, FD vs steps).
job diffusion-ddpm python3 diffusion_ddpm_mnist.py --scale gpu --device cuda --minutes "$minutes"
