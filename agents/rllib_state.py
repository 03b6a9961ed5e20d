"""RLlib's algorithm state as tensors and plain containers, so a checkpoint never unpickles code.

`Algorithm.get_state()` returns nested dicts, lists and tuples of Python scalars, NumPy arrays
and NumPy scalars (module weights, optimiser moments, connector filters, metrics). `torch.load(
..., weights_only=True)` reads tensors and plain containers but no NumPy objects, so `encode`
replaces each array or NumPy scalar by a small marked dict holding a tensor and the dtype, and
`decode` turns those back into exactly the NumPy values `Algorithm.set_state` expects. Anything
else (objects, sets, NumPy strings or records, non-str/int keys) is refused when the checkpoint is
written, naming where in the state it sits, rather than silently changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

MARK = "__emergent_numpy__"  # the key that marks an encoded array; never a key of RLlib's state
KINDS = ("ndarray", "scalar")
NUMERIC = "biufc"  # NumPy dtype kinds that torch stores: bool, int, uint, float, complex
ATOMS = (bool, int, float, str, type(None))


def encode(value: Any, where: str = "") -> Any:
    """`value` with every NumPy array / scalar as a marked tensor; tensors moved to the CPU.

    Raises:
        TypeError: a value `torch.load(weights_only=True)` could not read back as it was.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if type(key) not in (str, int) or key == MARK:
                raise TypeError(
                    f"rllib_ppo: cannot store the key {key!r} at {where!r} in a checkpoint"
                )
            out[key] = encode(item, f"{where}/{key}")
        return out
    if type(value) in (list, tuple):
        return type(value)(encode(item, f"{where}[{i}]") for i, item in enumerate(value))
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype.kind not in NUMERIC:
            raise TypeError(
                f"rllib_ppo: cannot store a NumPy {value.dtype} value at {where!r} in a checkpoint"
            )
        array = np.array(value, order="C", dtype=value.dtype.newbyteorder("="))  # a native copy
        kind = "ndarray" if isinstance(value, np.ndarray) else "scalar"
        return {MARK: kind, "dtype": value.dtype.str, "data": torch.from_numpy(array)}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if type(value) in ATOMS:
        return value
    raise TypeError(
        f"rllib_ppo: cannot store a {type(value).__module__}.{type(value).__qualname__} "
        f"at {where!r} in a checkpoint (only tensors, NumPy numbers and plain containers)"
    )


def decode(value: Any) -> Any:
    """The inverse of `encode`: marked tensors back to NumPy arrays / scalars of their dtype.

    Raises:
        ValueError: a marked entry that `encode` cannot have written (a damaged file).
    """
    if isinstance(value, dict):
        if MARK not in value:
            return {key: decode(item) for key, item in value.items()}
        kind, dtype, data = value[MARK], value.get("dtype"), value.get("data")
        if set(value) != {MARK, "dtype", "data"} or kind not in KINDS:
            raise ValueError(f"a malformed array entry {sorted(map(str, value))}")
        if not isinstance(data, torch.Tensor) or not isinstance(dtype, str):
            raise ValueError("an array entry without a tensor and a dtype")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"an array entry of unknown dtype {dtype!r}") from None
        if dtype.kind not in NUMERIC:
            raise ValueError(f"an array entry of dtype {dtype}")
        array = data.numpy().astype(dtype)  # a copy in the original byte order
        return array if kind == "ndarray" else array[()]
    if isinstance(value, list | tuple):
        return type(value)(decode(item) for item in value)
    return value
