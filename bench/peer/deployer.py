#!/usr/bin/env python3
"""The peer for `tactician-device bench --peer`: a Python deployer in the usual style, driving
the official interpreter (ai-edge-litert) as a Python game would: `Interpreter(model_path)`,
`allocate_tensors()`, then per decision set_tensor / invoke / get_tensor and a masked argmax in
numpy; plus `invoke()` alone and the process's resident memory. Prints one JSON object.

    python bench/peer/deployer.py MODEL.tflite [--iterations N] [--batches 1,8,64] [--seed S]
"""

import argparse
import json
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter


class Deployer:
    """The interpreter driven the usual way: loaded and allocated once, then one
    set_tensor / invoke / get_tensor per decision."""

    def __init__(self, model_path):
        self.interpreter = Interpreter(model_path=model_path)
        self.interpreter.allocate_tensors()
        self.input_details = self.interpreter.get_input_details()
        self.output_details = self.interpreter.get_output_details()

    def run_inference(self, state):
        self.interpreter.set_tensor(self.input_details[0]["index"], state.reshape(1, -1))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_details[0]["index"])[0]


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentiles(ns):
    a = np.sort(np.asarray(ns, dtype=np.float64))
    pick = lambda q: float(a[min(len(a) - 1, int(q * len(a)))])  # noqa: E731
    return {"p50_ns": pick(0.50), "p90_ns": pick(0.90), "p99_ns": pick(0.99), "mean_ns": float(a.mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rss_start = rss_kib()
    dep = Deployer(args.model)
    feat = int(dep.input_details[0]["shape"][-1])
    actions = int(dep.output_details[0]["shape"][-1])
    rng = np.random.default_rng(args.seed)
    pool = rng.normal(0.0, 1.5, size=(256, feat)).astype(np.float32)
    masks = rng.random((256, actions)) < 0.6
    masks[:, 0] = True
    n = args.iterations
    for i in range(min(n, 2000)):  # warm-up
        dep.run_inference(pool[i % 256])

    decision = []
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        out = dep.run_inference(pool[i % 256])
        action = int(np.argmax(np.where(masks[i % 256], out, -np.inf)))
        decision.append(clock() - t0)
    assert 0 <= action < actions

    invoke = []
    interp = dep.interpreter
    for i in range(n):
        t0 = clock()
        interp.invoke()
        invoke.append(clock() - t0)

    batches = {}
    for b in [int(x) for x in args.batches.split(",") if x]:
        it = Interpreter(model_path=args.model)
        idx = it.get_input_details()[0]["index"]
        out_idx = it.get_output_details()[0]["index"]
        it.resize_tensor_input(idx, [b, feat])
        it.allocate_tensors()
        reps = max(200, n // b)
        times = []
        for i in range(reps + 50):
            rows = pool[(i * b) % 256:(i * b) % 256 + b]
            if rows.shape[0] < b:
                rows = np.resize(pool, (b, feat)).astype(np.float32)
            t0 = clock()
            it.set_tensor(idx, rows)
            it.invoke()
            logits = it.get_tensor(out_idx)
            np.argmax(np.where(masks[:b] if b <= 256 else True, logits, -np.inf), axis=1)
            if i >= 50:
                times.append(clock() - t0)
        p = percentiles(times)
        p["decisions_per_s"] = b * 1e9 / p["mean_ns"]
        batches[str(b)] = p

    d = percentiles(decision)
    d["decisions_per_s"] = 1e9 / d["mean_ns"]
    print(
        json.dumps(
            {
                "peer": "ai-edge-litert deployer",
                "model": args.model,
                "iterations": n,
                "decision": d,
                "invoke": percentiles(invoke),
                "batches": batches,
                "rss_kib": rss_kib(),
                "rss_start_kib": rss_start,
            }
        )
    )


if __name__ == "__main__":
    main()
