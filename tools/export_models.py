#!/usr/bin/env python3
"""Export the published feature extractors to TorchScript + chexgen sidecars (docs/models.md).

Needs internet access (model hubs) and PyTorch with the packages of the model you export:
  inception      torch-fidelity (FID Inception-v3 weights, as torchmetrics uses them)
  raddino        transformers (microsoft/rad-dino)
  biovil-image   hi-ml-multimodal (BioViL-T image encoder)
  biovil-text    hi-ml-multimodal + transformers (BioViL-T text encoder, microsoft/BiomedVLP-BioViL-T)
  reid           torchvision + a re-identification checkpoint you supply (--reid-ckpt)
  classifiers    timm (CheXGenBench's resnet50) and torchvision (resnet18, resnet50, densenet121): ImageNet
                 weights for `chexgen utility train --weights`
  chexbert       transformers (bert-base-uncased's architecture and vocabulary) + the CheXbert checkpoint you
                 supply (--chexbert-ckpt chexbert.pth, StanfordAIMI/RRG_scorers), for `chexgen reports score --chexbert`

    python tools/export_models.py OUT_DIR [--models inception,raddino,...] [--reid-ckpt PATH]

This script cannot run on chexgen's build machine (no model hub there) and is not tested; the formats
it writes are those of docs/models.md, which chexgen's tests cover with small stand-in models
(tests/fixtures/make_deep_golden.py). Each traced model is checked against the eager one on a random
input before it is saved.

Notes per model:
- inception: torch-fidelity FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"]),
  traced with a uint8 [N, 3, 299, 299] input (it normalises inside); sidecar preset inception-fid.
- raddino: AutoModel pooler_output (CLS). The preprocessing constants are read from the model's
  AutoImageProcessor config and written as a generic object, after the 299x299 bilinear resize that
  CheXGenBench applies first.
- biovil-image: get_biovil_t_image_encoder(); the projected global embedding, L2-normalised as hi-ml's
  ImageInferenceEngine returns it; sidecar preset biovil-image.
- biovil-text: forward(input_ids, attention_mask) -> L2-normalised projected CLS embedding [N, 128]
  (CXRBertModel.get_projected_text_embeddings); vocab.txt is written beside it. hi-ml tokenizes with
  the BERT tokenizer after stripping trailing "!?." from each prompt, padding to the longest.
  Sidecar "kind": "text" with a "tokenizer" object (vocab.txt, lowercase from the tokenizer's
  do_lower_case, max_length 512 = the model's positions, strip_trailing "!?."; docs/models.md, "Text
  models"); chexgen extract refuses it, the image-text alignment reads it. The traced model is also
  checked on a batch of another size and length, since prompts are padded per batch.
- reid: the siamese ResNet-50 of CheXGenBench's privacy metrics (one branch: sigmoid(resnet50 with a
  2048 -> 128 fc)). The class below restates CheXGenBench's SiameseNetwork (attributes `model` and
  `fc_end`); it must match the checkpoint's class, or load_state_dict fails (it is strict): adapt it
  for another checkpoint. The pair head (score = sigmoid(fc_end(|a - b|))) goes to reid.head.json.
- classifiers: state dicts (torch.save(dict(model.state_dict()))), which `chexgen utility train --weights` reads
  without Python (torch::pickle_load); the classification head is left out there and a new one made for the labels.
  classifier-timm-resnet50.pt is what CheXGenBench trains from: timm.create_model("resnet50", pretrained=True),
  whose default weights are timm's "a1_in1k" recipe, not torchvision's; classifier-tv-resnet18.pt,
  classifier-tv-resnet50.pt (IMAGENET1K_V2) and classifier-tv-densenet121.pt (IMAGENET1K_V1) are torchvision's.
  timm's resnet50 and torchvision's share their parameter names, so either loads into --arch resnet50.
- chexbert: CheXbert's bert_labeler (bert-base-uncased, 13 four-way heads and a two-way No Finding head on the CLS
  state), its checkpoint's "module." prefixes removed as LLaVA-Rad's rrg_eval does. forward(input_ids,
  attention_mask) -> [N, 56]: the 14 heads' logits, 4 per head, No Finding's last two set to -inf, so each head's
  argmax is CheXbert's class (0 blank, 1 positive, 2 negative, 3 uncertain). Sidecar "kind": "text" with the
  tokenizer bert-base-uncased uses (lowercase, max_length 512, no stripping, "truncate": true: a longer report keeps
  its first 511 ids and [SEP], as CheXbert does); batch_size 128 as rrg_eval. Checked on a batch of another size.
"""
import argparse
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

PIL_FILTERS = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic"}  # PIL's resample integers


def check_and_save(out_dir, name, module, example, sidecar, probes=()):
    """probes: further inputs (tuples like example) on which the traced model must agree with the eager one."""
    module = module.eval()
    with torch.no_grad():
        traced = torch.jit.trace(module, example, strict=False)
        probe = tuple(torch.randint_like(e, 0, 256) if e.dtype == torch.uint8
                      else torch.rand_like(e) if e.is_floating_point() else e for e in example)
        for inputs in (probe, *probes):
            want, got = module(*inputs), traced(*inputs)
            want = want if isinstance(want, tuple) else (want,)
            got = got if isinstance(got, tuple) else (got,)
            for w, g in zip(want, got):
                if w.shape != g.shape or not torch.allclose(w, g, rtol=1e-4, atol=1e-5):
                    raise SystemExit(f"{name}: the traced model disagrees with the eager one")
    traced.save(os.path.join(out_dir, f"{name}.pt"))
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({"format": "chexgen-model/1", "name": name, **sidecar}, f, indent=2)
        f.write("\n")
    print(f"wrote {name}.pt and {name}.json")


def export_inception(out_dir, args):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"])
    example = (torch.randint(0, 256, (2, 3, 299, 299), dtype=torch.uint8),)
    check_and_save(out_dir, "inception-fid", net, example,
                   {"preprocess": "inception-fid", "source": "torch-fidelity inception-v3-compat"})


class PoolerOutput(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(pixel_values=x)[1]  # (last_hidden_state, pooler_output) with torchscript=True


def raddino_preprocess(proc):
    if not (proc.do_resize and proc.do_center_crop and proc.do_rescale and proc.do_normalize):
        raise SystemExit("raddino: the processor config skips a step this script expects; write the sidecar by hand")
    steps = [{"op": "resize", "size": [299, 299], "filter": "bilinear"}]  # CheXGenBench's Resize((299, 299))
    resample = int(proc.resample)
    if resample not in PIL_FILTERS:
        raise SystemExit(f"raddino: resample {resample} has no chexgen filter")
    if "shortest_edge" in proc.size:
        steps.append({"op": "resize", "shortest_edge": proc.size["shortest_edge"], "filter": PIL_FILTERS[resample]})
    else:
        steps.append({"op": "resize", "size": [proc.size["width"], proc.size["height"]],
                      "filter": PIL_FILTERS[resample]})
    crop = proc.crop_size
    steps.append({"op": "center_crop", "size": [crop["width"], crop["height"]], "offset": "floor"})
    steps.append({"op": "to_float", "scale": float(proc.rescale_factor)})
    steps.append({"op": "normalize", "mean": [float(v) for v in proc.image_mean],
                  "std": [float(v) for v in proc.image_std]})
    return {"color": "rgb", "steps": steps, "channels": 3,
            "input": {"dtype": "float32", "height": crop["height"], "width": crop["width"]}}


def export_raddino(out_dir, args):
    from transformers import AutoImageProcessor, AutoModel
    repo = "microsoft/rad-dino"
    model = AutoModel.from_pretrained(repo, torchscript=True)
    pre = raddino_preprocess(AutoImageProcessor.from_pretrained(repo))
    h, w = pre["input"]["height"], pre["input"]["width"]
    check_and_save(out_dir, "raddino", PoolerOutput(model), (torch.randn(2, 3, h, w),),
                   {"preprocess": pre, "outputs": [{"name": "cls", "index": 0, "dim": model.config.hidden_size}],
                    "source": repo})


class ProjectedImage(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return F.normalize(self.model(x).projected_global_embedding, dim=-1)


def export_biovil_image(out_dir, args):
    from health_multimodal.image.model.pretrained import get_biovil_t_image_encoder
    model = ProjectedImage(get_biovil_t_image_encoder())
    check_and_save(out_dir, "biovil-t-image", model, (torch.rand(2, 3, 448, 448),),
                   {"preprocess": "biovil-image", "source": "hi-ml-multimodal get_biovil_t_image_encoder"})


class ProjectedText(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model.get_projected_text_embeddings(input_ids=input_ids, attention_mask=attention_mask,
                                                        normalize_embeddings=True)


def export_biovil_text(out_dir, args):
    from health_multimodal.text.utils import BertEncoderType, get_bert_inference
    engine = get_bert_inference(BertEncoderType.BIOVIL_T_BERT)
    tokenizer = engine.tokenizer
    lowercase = bool(getattr(tokenizer, "do_lower_case", True))
    basic = getattr(tokenizer, "basic_tokenizer", None)  # the slow tokenizer's settings, where it has them
    if basic is not None and (not basic.tokenize_chinese_chars or basic.strip_accents not in (None, lowercase)):
        raise SystemExit("biovil-text: the tokenizer's CJK or accent settings differ from BERT's defaults, which "
                         "chexgen implements (docs/models.md, Text models)")
    max_length = int(min(tokenizer.model_max_length, engine.model.config.max_position_embeddings))

    def encode(prompts):
        t = tokenizer([p.rstrip("!?.") for p in prompts], add_special_tokens=True, padding="longest",
                      return_tensors="pt")
        return t.input_ids, t.attention_mask

    example = encode(["No acute cardiopulmonary process", "Small left pleural effusion"])
    probe = encode(["Pneumothorax.", "Heart size is normal and the lungs are clear, no effusion!",
                    "Bibasilar opacities"])
    model = ProjectedText(engine.model)
    with torch.no_grad():
        dim = model(*example).shape[1]
    check_and_save(out_dir, "biovil-t-text", model, example,
                   {"kind": "text",
                    "tokenizer": {"vocab": "vocab.txt", "lowercase": lowercase, "max_length": max_length,
                                  "strip_trailing": "!?."},
                    "outputs": [{"name": "projected", "index": 0, "dim": dim}],
                    "source": "microsoft/BiomedVLP-BioViL-T (hi-ml-multimodal CXRBertModel)"},
                   probes=[probe])
    written = tokenizer.save_vocabulary(out_dir)[0]
    if os.path.abspath(written) != os.path.abspath(os.path.join(out_dir, "vocab.txt")):
        os.replace(written, os.path.join(out_dir, "vocab.txt"))
    print("wrote vocab.txt")


class SiameseNetwork(nn.Module):
    """CheXGenBench's re-identification network (metrics/privacy_metrics.py), restated for loading its weights."""

    def __init__(self, n_features=128):
        super().__init__()
        import torchvision
        self.model = torchvision.models.resnet50()
        self.model.fc = nn.Linear(2048, n_features)
        self.fc_end = nn.Linear(n_features, 1)


class SiameseBranch(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.model = net.model

    def forward(self, x):
        return torch.sigmoid(self.model(x))


def export_reid(out_dir, args):
    if not args.reid_ckpt:
        raise SystemExit("reid: give --reid-ckpt PATH (CheXGenBench's REID_CKPT, a state_dict of SiameseNetwork)")
    net = SiameseNetwork(args.reid_features)
    net.load_state_dict(torch.load(args.reid_ckpt, map_location="cpu"))
    # CheXGenBench: Image.open(p).resize((512, 512)) (Pillow's default, bicubic) for real images (generated
    # ones are 512x512 already), .convert("RGB"), then Resize((224, 224)) and ToTensor(), no normalisation.
    pre = {"color": "rgb",
           "steps": [{"op": "resize", "size": [512, 512], "filter": "bicubic"},
                     {"op": "resize", "size": [224, 224], "filter": "bilinear"},
                     {"op": "to_float", "divide": 255}],
           "channels": 3, "input": {"dtype": "float32", "height": 224, "width": 224}}
    check_and_save(out_dir, "reid", SiameseBranch(net), (torch.rand(2, 3, 224, 224),),
                   {"preprocess": pre, "outputs": [{"name": "embedding", "index": 0, "dim": args.reid_features}],
                    "source": f"CheXGenBench SiameseNetwork branch, {os.path.basename(args.reid_ckpt)}"})
    head = {"score": "sigmoid(bias + sum(weight * abs(a - b)))",
            "weight": net.fc_end.weight.detach().flatten().tolist(), "bias": float(net.fc_end.bias)}
    with open(os.path.join(out_dir, "reid.head.json"), "w") as f:
        json.dump(head, f)
    print("wrote reid.head.json")


def export_classifiers(out_dir, args):
    import torchvision
    tv = {"resnet18": "IMAGENET1K_V1", "resnet50": "IMAGENET1K_V2", "densenet121": "IMAGENET1K_V1"}
    for arch, weights in tv.items():
        model = getattr(torchvision.models, arch)(weights=weights)
        torch.save(dict(model.state_dict()), os.path.join(out_dir, f"classifier-tv-{arch}.pt"))
        print(f"wrote classifier-tv-{arch}.pt (torchvision {weights})")
    try:
        import timm
    except ImportError:
        print("timm is not installed: classifier-timm-resnet50.pt (CheXGenBench's starting point) not written")
        return
    model = timm.create_model("resnet50", pretrained=True)
    torch.save(dict(model.state_dict()), os.path.join(out_dir, "classifier-timm-resnet50.pt"))
    print("wrote classifier-timm-resnet50.pt (timm resnet50, its default pretrained tag)")


class ChexbertLogits(nn.Module):
    """CheXbert's bert_labeler (CheXbert/src/models/bert_labeler.py, as LLaVA-Rad's rrg_eval restates it), with the
    14 heads' logits in one [N, 14 * 4] tensor."""

    def __init__(self):
        super().__init__()
        from transformers import BertModel
        self.bert = BertModel.from_pretrained("bert-base-uncased")
        hidden = self.bert.pooler.dense.in_features
        self.linear_heads = nn.ModuleList([nn.Linear(hidden, 4, bias=True) for _ in range(13)])
        self.linear_heads.append(nn.Linear(hidden, 2, bias=True))

    def forward(self, input_ids, attention_mask):
        cls = self.bert(input_ids, attention_mask=attention_mask.float())[0][:, 0, :]
        heads = [h(cls) for h in self.linear_heads]
        no_finding = F.pad(heads[13], (0, 2), value=float("-inf"))
        return torch.stack(heads[:13] + [no_finding], dim=1).reshape(cls.shape[0], 56)


def export_chexbert(out_dir, args):
    if not args.chexbert_ckpt:
        raise SystemExit("chexbert: give the checkpoint with --chexbert-ckpt chexbert.pth")
    from transformers import BertTokenizer
    model = ChexbertLogits()
    state = torch.load(args.chexbert_ckpt, map_location="cpu")["model_state_dict"]
    model.load_state_dict({k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()})
    tokenizer = BertTokenizer.from_pretrained("bert-base-uncased")

    def encode(reports):
        ids = [tokenizer.encode_plus(tokenizer.tokenize(r))["input_ids"] for r in reports]
        n = max(len(i) for i in ids)
        input_ids = torch.tensor([i + [0] * (n - len(i)) for i in ids])
        mask = torch.tensor([[1] * len(i) + [0] * (n - len(i)) for i in ids])
        return input_ids, mask

    example = encode(["No pleural effusion. Normal heart size.", "Enlarged heart."])
    probe = encode(["Increased mild pulmonary edema and left basal atelectasis.", "Stable.",
                    "Bilateral lower lobe bronchiectasis with improved consolidation."])
    check_and_save(out_dir, "chexbert", model, example,
                   {"kind": "text",
                    "tokenizer": {"vocab": "chexbert-vocab.txt", "lowercase": True, "max_length": 512,
                                  "strip_trailing": "", "truncate": True},
                    "outputs": [{"name": "head_logits", "index": 0, "dim": 56}],
                    "batch_size": 128,
                    "source": "CheXbert (StanfordAIMI/RRG_scorers chexbert.pth) on bert-base-uncased"},
                   probes=[probe])
    written = tokenizer.save_vocabulary(out_dir)[0]
    os.replace(written, os.path.join(out_dir, "chexbert-vocab.txt"))
    print("wrote chexbert-vocab.txt")


EXPORTERS = {"inception": export_inception, "raddino": export_raddino, "biovil-image": export_biovil_image,
             "biovil-text": export_biovil_text, "reid": export_reid, "classifiers": export_classifiers,
             "chexbert": export_chexbert}


def main():
    ap = argparse.ArgumentParser(description="Export feature extractors to TorchScript + chexgen sidecars.")
    ap.add_argument("out_dir")
    ap.add_argument("--models", default="inception,raddino,biovil-image,biovil-text",
                    help=f"comma-separated, from: {', '.join(EXPORTERS)}")
    ap.add_argument("--reid-ckpt", help="state_dict of CheXGenBench's SiameseNetwork (for --models reid)")
    ap.add_argument("--reid-features", type=int, default=128, help="its n_features (CheXGenBench: 128)")
    ap.add_argument("--chexbert-ckpt", help="CheXbert's chexbert.pth (for --models chexbert)")
    args = ap.parse_args()
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in EXPORTERS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {', '.join(EXPORTERS)}")
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_grad_enabled(False)
    for name in names:
        EXPORTERS[name](args.out_dir, args)


if __name__ == "__main__":
    main()
