#!/usr/bin/env python3
"""Build the runtime's official-converter fixtures.

Small seeded Keras Dense networks are converted with the official TFLite converter in three
modes (float32, dynamic-range, full-int8 with a representative dataset) and run with the
official interpreter (ai-edge-litert) on fixed seeded inputs. The .tflite files and the
interpreter's outputs are written to crates/tactician-runtime/tests/fixtures/, where the
runtime's tests compare against them.

Needs tensorflow-cpu, which is NOT a project dependency: run it from a venv of its own, e.g.

    python3 -m venv .venv-tf && .venv-tf/bin/pip install tensorflow-cpu ai-edge-litert numpy
    .venv-tf/bin/python tools/make_fixtures.py

Everything random is seeded: the same TensorFlow version gives the same models and outputs.
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "tactician-runtime" / "tests" / "fixtures"
MAX_BYTES = 1 << 20


def dense_stack(x, hidden, activation, seed, prefix):
    for i, h in enumerate(hidden):
        x = tf.keras.layers.Dense(
            h,
            activation=activation,
            kernel_initializer=tf.keras.initializers.GlorotUniform(seed=seed + i),
            bias_initializer=tf.keras.initializers.RandomUniform(-0.1, 0.1, seed=seed + 100 + i),
            name=f"{prefix}{i}",
        )(x)
    return x


def head(x, units, activation, seed, name):
    return tf.keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=tf.keras.initializers.GlorotUniform(seed=seed),
        bias_initializer=tf.keras.initializers.RandomUniform(-0.1, 0.1, seed=seed + 1),
        name=name,
    )(x)


def model_small(seed):
    """32 -> 64 -> 64 -> 10 ReLU, raw logits (the exporter's graph without a value head)."""
    inp = tf.keras.Input((32,), name="features")
    h = dense_stack(inp, [64, 64], "relu", seed, "dense")
    return tf.keras.Model(inp, head(h, 10, None, seed + 50, "logits")), 32


def model_value(seed):
    """48 -> 64 -> 64 -> {12 logits, tanh value}: two outputs."""
    inp = tf.keras.Input((48,), name="features")
    h = dense_stack(inp, [64, 64], "relu", seed, "dense")
    logits = head(h, 12, None, seed + 50, "logits")
    value = head(h, 1, "tanh", seed + 60, "value")
    return tf.keras.Model(inp, [logits, value]), 48


def model_mixed(seed):
    """RELU6, LOGISTIC, ADD, MUL and SOFTMAX in one graph."""
    inp = tf.keras.Input((40,), name="features")
    a = head(inp, 48, "relu6", seed, "a")
    b = head(inp, 48, "sigmoid", seed + 10, "b")
    s = tf.keras.layers.Add(name="sum")([a, b])
    m = tf.keras.layers.Multiply(name="prod")([s, b])
    h = head(m, 32, "relu", seed + 20, "h")
    return tf.keras.Model(inp, head(h, 8, "softmax", seed + 30, "probs")), 40


def model_large(seed):
    """The largest fixture network (files `large-*`): 192 -> 256 -> 256 -> 32."""
    inp = tf.keras.Input((192,), name="features")
    h = dense_stack(inp, [256, 256], "relu", seed, "dense")
    return tf.keras.Model(inp, head(h, 32, None, seed + 50, "logits")), 192


MODELS = {
    "small": model_small,
    "value": model_value,
    "mixed": model_mixed,
    "large": model_large,
}


def convert(model, mode, features, seed):
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode in ("dynamic", "int8"):
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        rng = np.random.default_rng(seed + 7)

        def representative():
            for _ in range(128):
                yield [rng.normal(0.0, 1.5, size=(1, features)).astype(np.float32)]

        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return conv.convert()


def run(path, inputs, resolver):
    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)
    inp = interp.get_input_details()[0]
    interp.resize_tensor_input(inp["index"], list(inputs.shape))
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], inputs)
    interp.invoke()
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    step_of = {}
    for op in interp._get_ops_details():
        if op["op_name"] == "DEQUANTIZE":
            src = tensors[op["inputs"][0]]
            step_of[op["outputs"][0]] = float(src["quantization"][0])
    outs = []
    for d in interp.get_output_details():
        value = interp.get_tensor(d["index"])
        outs.append(
            {
                "name": d["name"],
                "shape": list(value.shape),
                "data": [float(v) for v in value.astype(np.float32).ravel()],
                # One quantization step of the int8 tensor this output was dequantized from
                # (0 for a float output).
                "step": step_of.get(d["index"], 0.0),
            }
        )
    ops = sorted({op["op_name"] for op in interp._get_ops_details()})
    return outs, ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=pathlib.Path, default=OUT)
    ap.add_argument("--seed", type=int, default=20260611)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index = []
    for k, (name, build) in enumerate(MODELS.items()):
        seed = args.seed + 1000 * k
        tf.keras.utils.set_random_seed(seed)
        model, features = build(seed)
        rng = np.random.default_rng(seed + 3)
        inputs = rng.normal(0.0, 1.5, size=(5, features)).astype(np.float32)
        inputs[4] = 0.0  # an all-zero row: the hybrid kernels' special case
        for mode in ("f32", "dynamic", "int8"):
            blob = convert(model, mode, features, seed)
            if len(blob) >= MAX_BYTES:
                raise SystemExit(f"{name}-{mode}: {len(blob)} bytes, over the 1 MB fixture limit")
            path = args.out / f"{name}-{mode}.tflite"
            path.write_bytes(blob)
            # The default resolver (what a deployer gets: XNNPACK delegate where it applies) and
            # the builtin reference kernels, whose operator list is the file's own.
            outputs, _ = run(path, inputs, OpResolverType.AUTO)
            outputs_ref, ops = run(path, inputs, OpResolverType.BUILTIN_REF)
            record = {
                "model": path.name,
                "mode": mode,
                "ops": ops,
                "input_shape": list(inputs.shape),
                "input": [float(v) for v in inputs.ravel()],
                "outputs_default": outputs,
                "outputs_reference_kernels": outputs_ref,
            }
            (args.out / f"{name}-{mode}.json").write_text(json.dumps(record) + "\n")
            index.append({"model": path.name, "bytes": len(blob), "ops": ops})
            print(f"{path.name}: {len(blob)} bytes, ops {', '.join(ops)}")
    (args.out / "index.json").write_text(
        json.dumps({"tensorflow": tf.__version__, "seed": args.seed, "fixtures": index}, indent=1)
        + "\n"
    )


if __name__ == "__main__":
    main()
