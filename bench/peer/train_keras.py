#!/usr/bin/env python3
"""Keras peer of `tactician train`, for `tactician bench train`.

Trains the same network (dense hidden layers, masked-softmax policy logits, optional tanh value
head) on the same prepared files (PREPARED/{train,val}.safetensors, normalization from
manifest.json) with the same batch size, epochs and optimizer (Adam, constant learning rate),
and prints one JSON object: samples/s (mean over the epochs after the first, which is a warm-up
and compiles the graph), per-epoch seconds, validation top-1 accuracy.

Needs tensorflow-cpu (not in CI): python3 -m venv .venv-tf &&
.venv-tf/bin/pip install tensorflow-cpu numpy safetensors, then pass
`--python .venv-tf/bin/python` or set TACTICIAN_TF_PYTHON=.venv-tf/bin/python.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--hidden", default="128,128")
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--value-head", type=int, default=1)
    ap.add_argument("--value-weight", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    from safetensors.numpy import load_file

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    tf.keras.utils.set_random_seed(a.seed)

    with open(os.path.join(a.prepared, "manifest.json")) as f:
        man = json.load(f)
    mean = np.asarray(man["normalization"]["mean"], np.float32)
    std = np.asarray(man["normalization"]["std"], np.float32)
    scale = np.where(std > 1e-6, 1.0 / np.maximum(std, 1e-6), 1.0).astype(np.float32)

    def load(split):
        t = load_file(os.path.join(a.prepared, f"{split}.safetensors"))
        x = ((t["features"] - mean) * scale).astype(np.float32)
        return x, t["legal"].astype(np.float32), t["action"].astype(np.int32), t["weight"], t["value"]

    xtr, ltr, atr, wtr, vtr = load("train")
    xva, lva, ava, wva, vva = load("val")
    n, f = xtr.shape
    n_actions = ltr.shape[1]
    act = "relu6" if a.activation == "relu6" else a.activation
    act_fn = tf.nn.relu6 if act == "relu6" else act

    feats = tf.keras.Input((f,), name="features")
    legal = tf.keras.Input((n_actions,), name="legal")
    h = feats
    for i, w in enumerate(int(x) for x in a.hidden.split(",")):
        h = tf.keras.layers.Dense(w, activation=act_fn, name=f"dense_{i}")(h)
    logits = tf.keras.layers.Dense(n_actions, name="policy")(h)
    # Illegal actions get no probability: a large negative offset before the softmax.
    masked = tf.keras.layers.Lambda(lambda t: t[0] + (1.0 - t[1]) * -1e9, name="mask")([logits, legal])
    outputs = {"policy": masked}
    losses = {"policy": tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)}
    weights = {"policy": 1.0}
    if a.value_head:
        outputs["value"] = tf.keras.layers.Dense(1, activation="tanh", name="value")(h)
        losses["value"] = "mse"
        weights["value"] = a.value_weight
    model = tf.keras.Model([feats, legal], outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=a.lr, epsilon=1e-7),
        loss=losses,
        loss_weights=weights,
    )

    class Timer(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    times = []
    y = {"policy": atr}
    sw = {"policy": wtr}
    if a.value_head:
        y["value"] = vtr
        sw["value"] = wtr
    model.fit(
        {"features": xtr, "legal": ltr},
        y,
        sample_weight=sw,
        batch_size=a.batch_size,
        epochs=a.epochs,
        shuffle=True,
        verbose=0,
        callbacks=[Timer()],
    )
    timed = times[1:] if len(times) > 1 else times
    sps = n / (sum(timed) / len(timed))
    pred = model.predict({"features": xva, "legal": lva}, batch_size=4096, verbose=0)
    top1 = float((np.argmax(pred["policy"], axis=1) == ava).mean()) if len(ava) else 0.0
    print(json.dumps({
        "peer": "keras",
        "tensorflow": tf.__version__,
        "train_examples": int(n),
        "epoch_seconds": times,
        "samples_per_sec": sps,
        "val_top1": top1,
    }))


if __name__ == "__main__":
    sys.exit(main())
