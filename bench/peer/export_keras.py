"""Peer for `tactician bench export`: the official converter on the same network.

Builds the Keras equivalent of a Tactician MLP (Dense layers, the same widths and activation,
policy logits and an optional tanh value head), optionally loads the weights of a model folder
(model.safetensors + model.json), and times `tf.lite.TFLiteConverter.from_keras_model(...)
.convert()` for float32 and (with --quantize) int8 with a representative dataset.

Needs tensorflow-cpu (NOT installed in CI; use a venv of its own:
python3 -m venv .venv-tf && .venv-tf/bin/pip install tensorflow-cpu numpy safetensors, then
pass `--python .venv-tf/bin/python` or set TACTICIAN_TF_PYTHON=.venv-tf/bin/python).

Usage:
  export_keras.py --inputs F --hidden 256,256 --actions A [--activation relu] [--value-head]
                  [--model MODEL_DIR] [--repeats 5] [--quantize none|dynamic|int8] [--save DIR]
Prints JSON: {"import_seconds", "build_seconds", "convert_seconds": [...], "bytes", ...}.
"""

import argparse
import json
import os
import time

t0 = time.perf_counter()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - t0


def build(inputs, hidden, actions, activation, value_head):
    x = tf.keras.Input(shape=(inputs,), name="features")
    h = x
    for i, w in enumerate(hidden):
        h = tf.keras.layers.Dense(w, activation=activation, name=f"dense_{i}")(h)
    logits = tf.keras.layers.Dense(actions, name="policy")(h)
    outs = [logits]
    if value_head:
        outs.append(tf.keras.layers.Dense(1, activation="tanh", name="value")(h))
    return tf.keras.Model(x, outs)


def load_weights(model, model_dir, hidden, value_head):
    # safetensors is tiny: an 8-byte little-endian header length, a JSON header, the data.
    raw = open(os.path.join(model_dir, "model.safetensors"), "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    t = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        t[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(info["shape"])
    names = [f"dense.{i}" for i in range(len(hidden))] + ["policy"]
    layers = [f"dense_{i}" for i in range(len(hidden))] + ["policy"]
    if value_head:
        names.append("value")
        layers.append("value")
    for n, l in zip(names, layers):
        model.get_layer(l).set_weights([t[f"{n}.weight"].T, t[f"{n}.bias"]])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--inputs", type=int)
    p.add_argument("--hidden", default="256,256")
    p.add_argument("--actions", type=int)
    p.add_argument("--activation", default="relu")
    p.add_argument("--value-head", action="store_true")
    p.add_argument("--model", help="model folder to take architecture and weights from")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quantize", default="none", choices=["none", "dynamic", "int8"])
    p.add_argument("--save", help="folder to write the converted files into")
    a = p.parse_args()
    hidden = [int(w) for w in a.hidden.split(",") if w]
    if a.model:
        meta = json.load(open(os.path.join(a.model, "model.json")))
        a.inputs, hidden, a.actions = meta["inputs"], meta["hidden"], meta["actions"]
        a.activation, a.value_head = meta["activation"], meta["value_head"]
    act = {"relu": "relu", "relu6": tf.nn.relu6, "tanh": "tanh"}[a.activation]
    t = time.perf_counter()
    model = build(a.inputs, hidden, a.actions, act, a.value_head)
    if a.model:
        load_weights(model, a.model, hidden, a.value_head)
    build_seconds = time.perf_counter() - t
    rng = np.random.default_rng(0)
    sample = rng.uniform(-2, 4, size=(200, a.inputs)).astype(np.float32)

    def representative():
        for row in sample:
            yield [row[None, :]]

    times, size = [], 0
    for r in range(a.repeats):
        t = time.perf_counter()
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        if a.quantize != "none":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if a.quantize == "int8":
            conv.representative_dataset = representative
        data = conv.convert()
        times.append(time.perf_counter() - t)
        size = len(data)
        if a.save and r == 0:
            os.makedirs(a.save, exist_ok=True)
            open(os.path.join(a.save, f"keras-{a.quantize}.tflite"), "wb").write(data)
    print(
        json.dumps(
            {
                "tensorflow": tf.__version__,
                "import_seconds": IMPORT_SECONDS,
                "build_seconds": build_seconds,
                "convert_seconds": times,
                "quantize": a.quantize,
                "bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
