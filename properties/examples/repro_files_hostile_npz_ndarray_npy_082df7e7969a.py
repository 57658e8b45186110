"""Reproduces corpus/files/hostile_npz_ndarray_npy/082df7e7969a.json (files::hostile_npz_ndarray_npy: crash: killed by SIGABRT) without conform: what NumPy itself reads from the stored
file (numpy.load), the expected side of the Rust program. Run: python3 this_file.py
"""
import os
import tempfile

import numpy

FILE = bytes.fromhex(
    "504b030414000000000000002100b5f014fc810000008100000005000000612e6e7079934e554d5059010076007b2764"
    "65736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028"
    "3533363837303931322c292c207d20202020202020202020202020202020202020202020202020202020202020202020"
    "2020202020202020202020202020202020200a00504b0102140314000000000000002100b5f014fc8100000081000000"
    "050000000000000000000000a48100000000612e6e7079504b0506000000000100010033000000a40000000000"
)

with tempfile.NamedTemporaryFile(suffix=".npz", delete=False) as f:
    f.write(FILE)
try:
    with numpy.load(f.name) as archive:
        for name in archive.files:
            try:
                a = archive[name]
                print(f"member {name}: {a.dtype} shape {a.shape} {a.tobytes().hex()}")
            except Exception as e:  # noqa: BLE001 (NumPy's refusal is the answer)
                print(f"member {name}: NumPy refuses it: {type(e).__name__}: {e}")
except Exception as e:  # noqa: BLE001 (NumPy's refusal is the answer)
    print(f"NumPy refuses it: {type(e).__name__}: {e}")
finally:
    os.remove(f.name)
