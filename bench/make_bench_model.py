#!/usr/bin/python3
"""A ResNet-50 TorchScript model and its sidecar for timing chexgen extract against bench/deep_reference.py.

    /usr/bin/python3 bench/make_bench_model.py OUT_DIR

Writes OUT_DIR/resnet50.pt (torchvision resnet50, random weights from seed 0, eval mode, traced with a
float [1, 3, 224, 224] input; about 100 MB) and OUT_DIR/resnet50.json, whose generic preprocessing is the
usual ImageNet evaluation transform: Resize(256), CenterCrop(224), ToTensor(), Normalize(ImageNet).
The weights are random: the timing is what matters, and nothing can be downloaded here.
"""
import json
import os
import sys

import torch
import torchvision

SIDECAR = {
    "format": "chexgen-model/1",
    "name": "resnet50",
    "preprocess": {
        "color": "rgb",
        "steps": [
            {"op": "resize", "shortest_edge": 256, "filter": "bilinear"},
            {"op": "center_crop", "size": [224, 224], "offset": "round"},
            {"op": "to_float", "divide": 255},
            {"op": "normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        ],
        "channels": 3,
        "input": {"dtype": "float32", "height": 224, "width": 224},
    },
    "outputs": [{"name": "logits", "index": 0, "dim": 1000}],
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.rand(1, 3, 224, 224))
    traced.save(os.path.join(out, "resnet50.pt"))
    with open(os.path.join(out, "resnet50.json"), "w") as f:
        json.dump(SIDECAR, f, indent=2)
        f.write("\n")
    print(f"wrote {out}/resnet50.pt and {out}/resnet50.json")


if __name__ == "__main__":
    main()
