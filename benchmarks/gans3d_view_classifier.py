"""Train the view classifier of the 3D-aware generators' FD of renders
(`perceptzoo.gans3d.classifier.ViewClassifier`): exact 16 x 16 silhouettes of the 256 voxels16
train shapes at 16 random poses each, scored on the 64 test shapes at 4 poses each; weights to
`src/perceptzoo/gans3d/weights/view_classifier16.safetensors`.

    python benchmarks/gans3d_view_classifier.py
"""

import time

import torch

from perceptzoo.gans3d import classifier

if __name__ == "__main__":
    torch.set_num_threads(1)
    t0 = time.time()
    x, y = classifier.view_sets("train", 16, seed=1)
    clf = classifier.train_views(x, y, steps=2000)
    xt, yt = classifier.view_sets("test", 4, seed=3)
    with torch.no_grad():
        acc = (clf(xt.float()).argmax(1) == yt).float().mean().item()
    classifier.save(clf, classifier.VIEW_WEIGHTS)
    print(f"view classifier: test accuracy {acc:.3f} on {len(xt)} silhouettes; "
          f"{time.time() - t0:.0f} s")
