#!/usr/bin/python3
"""CheXGenBench's training loop (Downstream/Classification/downstream_classification.py) restated with Debian's torch
1.13 and torchvision, for the training-throughput benchmark of `chexgen utility train` (docs/benchmarks.md): the same
images, network, batch size and threads, CheXGenBench's transforms (Resize((S, S)), RandomHorizontalFlip,
RandomRotation(10), ToTensor, Normalize), BCEWithLogitsLoss, Adam(lr=1e-4, weight_decay=1e-5), a DataLoader with
`threads` worker processes; each epoch trains, then runs the validation images, as chexgen does.

    /usr/bin/python3 bench/train_reference.py METADATA.jsonl LABEL [--arch resnet50] [--size 224] [--batch 16]
        [--epochs 1] [--threads 2] [--validation 0.05]

Prints one JSON line per epoch: seconds (training and validation), images/s (training images over those seconds),
data_wait_seconds (time the training loop waited for the DataLoader).
"""
import argparse
import json
import os
import time

import torch
import torchvision
from PIL import Image
from sklearn.model_selection import train_test_split
from torchvision import transforms


class Images(torch.utils.data.Dataset):
    def __init__(self, rows, transform):
        self.rows, self.transform = rows, transform

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        path, label = self.rows[i]
        return self.transform(Image.open(path).convert("RGB")), torch.tensor([label], dtype=torch.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("metadata")
    ap.add_argument("label")
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--validation", type=float, default=0.05)
    a = ap.parse_args()
    torch.manual_seed(42)
    torch.set_num_threads(a.threads)
    folder = os.path.dirname(os.path.abspath(a.metadata))
    rows = []
    with open(a.metadata) as f:
        for line in f:
            r = json.loads(line)
            rows.append((os.path.join(folder, r["file_name"]), float(r["labels_dict"][a.label] == 1)))
    train, validation = train_test_split(rows, test_size=a.validation, random_state=42)
    norm = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    train_t = transforms.Compose([transforms.Resize((a.size, a.size)), transforms.RandomHorizontalFlip(),
                                  transforms.RandomRotation(10), transforms.ToTensor(), norm])
    val_t = transforms.Compose([transforms.Resize((a.size, a.size)), transforms.ToTensor(), norm])
    train_loader = torch.utils.data.DataLoader(Images(train, train_t), batch_size=a.batch, shuffle=True,
                                               num_workers=a.threads)
    val_loader = torch.utils.data.DataLoader(Images(validation, val_t), batch_size=a.batch, num_workers=a.threads)
    model = getattr(torchvision.models, a.arch)(weights=None, num_classes=1)
    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)
    for epoch in range(a.epochs):
        start = time.perf_counter()
        wait = 0.0
        model.train()
        it = iter(train_loader)
        while True:
            t0 = time.perf_counter()
            try:
                x, y = next(it)
            except StopIteration:
                break
            wait += time.perf_counter() - t0
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for x, y in val_loader:
                criterion(model(x), y)
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch + 1, "seconds": seconds, "images_per_second": len(train) / seconds,
                          "data_wait_seconds": wait}), flush=True)


if __name__ == "__main__":
    main()
