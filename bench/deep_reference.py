#!/usr/bin/python3
"""The Python pipeline a user would write to extract features, for timing against `chexgen extract`.

    /usr/bin/python3 bench/deep_reference.py --model DIR/resnet50.pt --images LIST.txt \\
        [--threads T] [--batch-size B] [--out FEATURES.npy]

LIST.txt holds one image path per line (relative paths are taken from the current directory). Images
are read by a torch DataLoader over a Dataset that opens each file with Pillow (convert("RGB")) and
applies torchvision Resize(256), CenterCrop(224), ToTensor(), Normalize(ImageNet mean, std), the
preprocessing of bench/make_bench_model.py's sidecar. With T > 1 the loader decodes in T worker
processes (num_workers = T; 0, that is in the main process, for T = 1) and torch.set_num_threads(T)
sets the threads for the model. The model is loaded with torch.jit.load and run in eval mode under
torch.no_grad(); --optimize also runs torch.jit.optimize_for_inference on it (what chexgen does by default).

Prints one line: "images N seconds S images_per_s R", where S runs from the start of loading (the loader
and its workers included) through the last batch's forward; loading the model is not counted.
--out saves the outputs, float32 [N, D] in list order.
"""
import argparse
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

TRANSFORM = T.Compose([
    T.Resize(256),
    T.CenterCrop(224),
    T.ToTensor(),
    T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


class ImageFiles(Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            return TRANSFORM(im.convert("RGB"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--out")
    ap.add_argument("--optimize", action="store_true",
                    help="torch.jit.optimize_for_inference (freezes the module), as chexgen does by default")
    args = ap.parse_args()
    if args.threads < 1 or args.batch_size < 1:
        ap.error("--threads and --batch-size must be at least 1")

    with open(args.images) as f:
        paths = [line.strip() for line in f if line.strip()]
    torch.set_num_threads(args.threads)
    model = torch.jit.load(args.model, map_location="cpu").eval()
    if args.optimize:
        model = torch.jit.optimize_for_inference(model)

    start = time.perf_counter()
    loader = DataLoader(ImageFiles(paths), batch_size=args.batch_size, shuffle=False,
                        num_workers=args.threads if args.threads > 1 else 0)
    outputs = []
    with torch.no_grad():
        for batch in loader:
            result = model(batch)
            result = result[0] if isinstance(result, tuple) else result
            outputs.append(result.reshape(result.shape[0], -1))
    seconds = time.perf_counter() - start

    print(f"images {len(paths)} seconds {seconds:.3f} images_per_s {len(paths) / seconds:.2f}")
    if args.out:
        np.save(args.out, torch.cat(outputs).numpy().astype(np.float32))


if __name__ == "__main__":
    main()
