# autoregressive family (sourced by benchmarks/gpu/run.sh, inside benchmarks/): bigger models
# than the CPU runs, each trained for $minutes on the fixed binarized MNIST, best validation
# epoch scored on the full test split -> results/<model>-binarized_mnist-gpu.json
ar() { scored "ar-$1" python3 autoregressive_binarized_mnist.py "$@" --device cuda \
  --minutes "$minutes" --tag gpu; }
ar pixelcnn --batch-size 64 --set hidden_channels=64 num_blocks=12
ar gated_pixelcnn --batch-size 64 --set hidden_channels=64 num_layers=10
ar nade --batch-size 100
ar pixelrnn --batch-size 64 --set hidden_channels=64 num_layers=4
ar transformer --batch-size 64 --set embed_dim=128 num_layers=4 num_heads=4
