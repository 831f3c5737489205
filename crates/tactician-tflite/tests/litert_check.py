"""Runs a .tflite file in the official LiteRT interpreter (ai-edge-litert) on given inputs.

Usage: litert_check.py MODEL INPUTS ROWS FEATURES OUTDIR RESOLVER
  INPUTS   raw little-endian float32, ROWS x FEATURES, row-major
  RESOLVER auto (default kernels, XNNPACK delegate applied) | reference (BUILTIN_REF kernels)
             | builtin (optimized kernels, no delegate)
Writes OUTDIR/<k>.f32 (raw float32) for each model output k in the subgraph's output order,
and prints a JSON summary: {"outputs": [{"name", "shape", "dtype", "file"}], "version"}.
Exits 3 when ai-edge-litert is missing (the Rust test decides whether that is fatal).
"""

import json
import os
import sys

try:
    import numpy as np
    from ai_edge_litert import interpreter as litert
except ImportError as e:  # pragma: no cover - reported to the caller
    print(f"missing Python package: {e}", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    model, inputs, rows, features, outdir, resolver = sys.argv[1:7]
    rows, features = int(rows), int(features)
    kinds = {
        "auto": litert.OpResolverType.AUTO,
        "reference": litert.OpResolverType.BUILTIN_REF,
        "builtin": litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    }
    x = np.fromfile(inputs, dtype="<f4").reshape(rows, features)
    interp = litert.Interpreter(
        model_path=model, experimental_op_resolver_type=kinds[resolver]
    )
    inp = interp.get_input_details()
    if len(inp) != 1:
        raise SystemExit(f"expected one input, found {len(inp)}")
    interp.resize_tensor_input(inp[0]["index"], [rows, features])
    interp.allocate_tensors()
    interp.set_tensor(inp[0]["index"], x)
    interp.invoke()
    out = []
    for k, d in enumerate(interp.get_output_details()):
        y = interp.get_tensor(d["index"])
        path = os.path.join(outdir, f"{k}.f32")
        y.astype("<f4").tofile(path)
        out.append(
            {"name": d["name"], "shape": list(y.shape), "dtype": str(y.dtype), "file": path}
        )
    version = getattr(sys.modules.get("ai_edge_litert"), "__version__", "?")
    print(json.dumps({"outputs": out, "version": version}))


if __name__ == "__main__":
    main()
