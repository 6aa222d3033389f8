#!/usr/bin/env python3
"""Convert official checkpoints of the paper's networks into the flat format the app loads.

    python3 models/convert_weights.py bisenet  79999_iter.pth        [-o CACHE]
    python3 models/convert_weights.py gfpgan   GFPGANv1.4.pth        [-o CACHE]
    python3 models/convert_weights.py headnerf model_Reso32HR.pth    [-o CACHE]

Needs Debian's python3-torch (1.13, the same build as libtorch-dev). The LibTorch 1.13 unpickler
cannot read the official files directly (legacy format, OrderedDict with _metadata, a single-entry
dict), so this writes a new plain {name: tensor} dict in the default zip format, and beside it
NAME.pt.json recording the SHA-256 of the source and of the result, the network configuration
and the licence. The app verifies the result against that record before use.

CACHE is the model cache (default: $IDEU_MODELS, else models/cache next to this script).
"""
import argparse
import collections
import hashlib
import json
import os
import sys

LICENCES = {
    "bisenet": "code MIT; trained on CelebAMask-HQ, which is for non-commercial research only",
    "gfpgan": "code Apache-2.0, StyleGAN2 parts under NVIDIA's non-commercial licence; trained on FFHQ (non-commercial)",
    "headnerf": "HeadNeRF: non-commercial research use only",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pick_state_dict(kind, loaded):
    """The tensors of the official checkpoint, and the network configuration."""
    config = {}
    if kind == "gfpgan":
        if isinstance(loaded, dict) and "params_ema" in loaded:
            state = loaded["params_ema"]
        elif isinstance(loaded, dict) and "params" in loaded:
            state = loaded["params"]
        else:
            state = loaded
        config = {"out_size": 512, "num_style_feat": 512, "channel_multiplier": 2, "narrow": 1}
    elif kind == "headnerf":
        if not (isinstance(loaded, dict) and "net" in loaded):
            raise SystemExit("convert_weights: a HeadNeRF checkpoint holds {'para': ..., 'net': ...}")
        state = loaded["net"]
        para = loaded.get("para", {})
        config = {k: int(para[k]) for k in ("featmap_size", "featmap_nc", "pred_img_size") if k in para}
    else:  # bisenet: the loaded object is the state dict itself
        state = loaded
    if not isinstance(state, dict):
        raise SystemExit("convert_weights: no state dict found in the checkpoint")
    return state, config


def convert(kind, source, cache, config_override=None):
    import torch  # noqa: E402  (python3-torch)

    loaded = torch.load(source, map_location="cpu")
    state, config = pick_state_dict(kind, loaded)
    if config_override:
        config.update(config_override)
    flat = {}
    for name, tensor in state.items():
        if not torch.is_tensor(tensor):
            continue
        if name.startswith("module."):  # DataParallel saves
            name = name[len("module."):]
        flat[str(name)] = tensor.detach().cpu().contiguous().clone()
    if len(flat) < 2:
        raise SystemExit("convert_weights: the checkpoint has fewer than two tensors")
    os.makedirs(os.path.join(cache, "user"), exist_ok=True)
    target = os.path.join(cache, "user", kind + ".pt")
    temp = target + ".part"
    torch.save(dict(flat), temp)  # plain dict, default zip format
    os.replace(temp, target)
    record = {
        "network": kind,
        "source_file": os.path.basename(source),
        "source_sha256": sha256(source),
        "sha256": sha256(target),
        "tensors": len(flat),
        "config": config,
        "licence": LICENCES[kind],
        "converted_with": "python3-torch " + torch.__version__,
    }
    with open(target + ".json.part", "w") as f:
        json.dump(record, f, indent=2)
    os.replace(target + ".json.part", target + ".json")
    return target, record


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", choices=sorted(LICENCES))
    parser.add_argument("checkpoint")
    parser.add_argument("-o", "--cache", default=os.environ.get("IDEU_MODELS") or
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache"))
    parser.add_argument("--config", help="JSON object overriding the network configuration (tests)")
    args = parser.parse_args()
    override = json.loads(args.config) if args.config else None
    target, record = convert(args.network, args.checkpoint, args.cache, override)
    print(f"wrote {target} ({record['tensors']} tensors, sha256 {record['sha256'][:16]}…)")
    print(f"licence: {record['licence']}")


if __name__ == "__main__":
    sys.exit(main())
