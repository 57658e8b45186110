"""Reproduces corpus/files/hostile_npy_tch_read_npy/6f5f19b7b4f4.json (files::hostile_npy_tch_read_npy: tch read_npy accepted a file NumPy refuses: fortran_order not a boolean) without conform: what NumPy itself reads from the stored
file (numpy.load), the expected side of the Rust program. Run: python3 this_file.py
"""
import os
import tempfile

import numpy

FILE = bytes.fromhex(
    "934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a202746616c"
    "7365272c20277368617065273a2028292c207d2020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200a00"
)

with tempfile.NamedTemporaryFile(suffix=".npy", delete=False) as f:
    f.write(FILE)
try:
    a = numpy.load(f.name)
    print(f"NumPy reads {a.dtype} shape {a.shape} {a.tobytes().hex()}")
except Exception as e:  # noqa: BLE001 (NumPy's refusal is the answer)
    print(f"NumPy refuses it: {type(e).__name__}: {e}")
finally:
    os.remove(f.name)
