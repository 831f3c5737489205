#!/usr/bin/env python3
"""Independent reference for one training step of Tactician's trainer, in float64 numpy.

Usage: reference_step.py IN.safetensors OUT.safetensors

IN holds the parameters (model.safetensors names: dense.{i}.weight [out,in], dense.{i}.bias,
policy.weight [A,h], policy.bias, optional value.weight [1,h], value.bias), Adam moments
`m.<name>` / `v.<name>`, and the batch: `x` [B,F] (already normalized), `legal` [B,A] (0/1),
`action` [B], `weight` [B], `value` [B] (all float32). Its metadata "config" is JSON:
{"activation","value_head","value_weight","optimizer":"adam"|"adamw","lr","beta1","beta2",
"eps","weight_decay","t"} where t is the number of steps already taken.

OUT gets `loss` [1] (the batch loss before the step), `grad.<name>` and `param.<name>` (after
the step), float64 converted to float32.

Loss = sum_i w_i * (CE_i + value_weight * (tanh(v_i) - target_i)^2) / B, with CE over a
softmax restricted to legal actions. Adam: g += wd*p; AdamW: p *= 1 - lr*wd; then
m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * mhat / (sqrt(vhat) + eps).
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "relu6":
        return np.clip(z, 0.0, 6.0)
    return np.tanh(z)


def act_grad(name, z):
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "relu6":
        return ((z > 0) & (z < 6)).astype(np.float64)
    return 1.0 - np.tanh(z) ** 2


def main():
    src, dst = sys.argv[1], sys.argv[2]
    t = {k: v.astype(np.float64) for k, v in load_file(src).items()}
    with safe_open(src, "np") as f:
        cfg = json.loads(f.metadata()["config"])
    n_hidden = len([k for k in t if k.startswith("dense.") and k.endswith(".weight")])
    names = []
    for i in range(n_hidden):
        names += [f"dense.{i}.weight", f"dense.{i}.bias"]
    names += ["policy.weight", "policy.bias"]
    vh = bool(cfg["value_head"])
    if vh:
        names += ["value.weight", "value.bias"]

    x, legal = t["x"], t["legal"] > 0.5
    label = t["action"].astype(np.int64)
    w, target = t["weight"], t["value"]
    B = x.shape[0]
    a_name = cfg["activation"]

    # Forward, keeping pre-activations.
    hs, zs = [x], []
    h = x
    for i in range(n_hidden):
        z = h @ t[f"dense.{i}.weight"].T + t[f"dense.{i}.bias"]
        zs.append(z)
        h = act(a_name, z)
        hs.append(h)
    logits = h @ t["policy.weight"].T + t["policy.bias"]
    masked = np.where(legal, logits, -np.inf)
    mx = masked.max(axis=1, keepdims=True)
    e = np.where(legal, np.exp(masked - mx), 0.0)
    p = e / e.sum(axis=1, keepdims=True)
    ce = -np.log(p[np.arange(B), label])
    per = ce.copy()
    vw = float(cfg["value_weight"])
    if vh:
        vpre = (h @ t["value.weight"].T + t["value.bias"])[:, 0]
        v = np.tanh(vpre)
        per += vw * (v - target) ** 2
    loss = float((w * per).sum() / B)

    # Backward.
    g = {}
    onehot = np.zeros_like(p)
    onehot[np.arange(B), label] = 1.0
    dlog = (p - onehot) * (w / B)[:, None]
    g["policy.weight"] = dlog.T @ h
    g["policy.bias"] = dlog.sum(axis=0)
    dh = dlog @ t["policy.weight"]
    if vh:
        dv = (w / B) * vw * 2.0 * (v - target) * (1.0 - v ** 2)
        g["value.weight"] = dv[None, :] @ h
        g["value.bias"] = np.array([dv.sum()])
        dh = dh + dv[:, None] @ t["value.weight"]
    for i in reversed(range(n_hidden)):
        dz = dh * act_grad(a_name, zs[i])
        g[f"dense.{i}.weight"] = dz.T @ hs[i]
        g[f"dense.{i}.bias"] = dz.sum(axis=0)
        dh = dz @ t[f"dense.{i}.weight"]

    # Adam / AdamW.
    lr, b1, b2 = float(cfg["lr"]), float(cfg["beta1"]), float(cfg["beta2"])
    eps, wd, step = float(cfg["eps"]), float(cfg["weight_decay"]), int(cfg["t"]) + 1
    out = {"loss": np.array([loss], dtype=np.float32)}
    for n in names:
        prm, grad = t[n].copy(), g[n]
        gg = grad + (wd * prm if cfg["optimizer"] == "adam" else 0.0)
        if cfg["optimizer"] == "adamw":
            prm = prm * (1.0 - lr * wd)
        m = b1 * t["m." + n] + (1 - b1) * gg
        vv = b2 * t["v." + n] + (1 - b2) * gg * gg
        mhat = m / (1 - b1 ** step)
        vhat = vv / (1 - b2 ** step)
        prm = prm - lr * mhat / (np.sqrt(vhat) + eps)
        out["grad." + n] = grad.astype(np.float32)
        out["param." + n] = prm.astype(np.float32)
    save_file(out, dst)


if __name__ == "__main__":
    main()
