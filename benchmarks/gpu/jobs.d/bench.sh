# every recipe of the gpu suite (src/perceptzoo/bench/recipes/*.py with suites=("gpu",)), each
# in its own process with a training budget of $minutes (sourced by benchmarks/gpu/run.sh,
# inside benchmarks/) -> results/<recipe>.json: the bigger autoregressive models, MADE at the
# authors' 8000 units with 1 and 32 masks, GPU-scale RealNVP and Glow on MNIST.
job bench-gpu bash -c "cd .. && python3 -m perceptzoo.cli bench --suite gpu --device cuda \
  --minutes $minutes --force"
