#!/usr/bin/env python3
"""Write the NumPy-produced interop fixtures in fixtures/npy/ (issue 15, item 2).

The committed files were produced with numpy 2.4.6 on CPython 3.11 (zlib
runtime version is recorded in manifest.json; only the compressed .npz depends
on it). To regenerate byte-identical files:

    pip install numpy==2.4.6 && python3 scripts/make-npy-fixtures.py

To verify the committed files against manifest.json (reads every file back
with NumPy and also decodes the raw bytes independently):

    python3 scripts/make-npy-fixtures.py --check

Everything is built from fixed bit patterns (no RNG), and the zip timestamps
inside the .npz files are pinned, so rerunning gives byte-identical output.
See fixtures/npy/README.md for the manifest format.
"""

import argparse
import ast
import hashlib
import io
import json
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "npy")
MANIFEST = os.path.join(OUT, "manifest.json")

# name -> (numpy kind char, itemsize in bytes)
DTYPES = {
    "bool": ("b", 1),
    "uint8": ("u", 1),
    "int8": ("i", 1),
    "int16": ("i", 2),
    "int32": ("i", 4),
    "int64": ("i", 8),
    "float16": ("f", 2),
    "float32": ("f", 4),
    "float64": ("f", 8),
}
# float name -> (exponent bits, mantissa bits)
FLOAT_LAYOUT = {"float16": (5, 10), "float32": (8, 23), "float64": (11, 52)}

MAIN_SHAPE = (2, 3, 4)  # non-square, 3-d: C and Fortran byte order differ
MAIN_N = 24
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zipfile's own default for open(name, "w")
FORMAT_NOTE = (
    "NumPy .npy/.npz fixtures written by numpy itself (numpy.lib.format.write_array, "
    "numpy.savez, numpy.savez_compressed). 'bits' lists every element in C (row-major, "
    "logical) order as the lowercase hex of the element's bit pattern as a native value "
    "(2*itemsize hex digits, independent of the file's byte order and fortran_order); "
    "bool is 0x00/0x01. 'data_offset' is the byte offset of the first data byte in the "
    ".npy file. 'sha256' is of the whole file; for npz members it is of the member's "
    "uncompressed .npy bytes."
)


# ---------------------------------------------------------------- values


def weyl(i, nbits):
    """Deterministic, well-mixed nbits-wide bit pattern for index i."""
    x = ((i + 1) * 0x9E3779B97F4A7C15) & (2**64 - 1)
    x ^= x >> 29
    x = (x * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x ^= x >> 32
    return x & ((1 << nbits) - 1)


def float_specials(name):
    e, m = FLOAT_LAYOUT[name]
    n = 1 + e + m
    sign = 1 << (n - 1)
    exp_all = ((1 << e) - 1) << m
    quiet = 1 << (m - 1)
    payload = 0x5A5A5A5A5A5A5A5A & (quiet - 1)  # nonzero, below the quiet bit
    bias = (1 << (e - 1)) - 1
    one = bias << m
    return [
        0,  # +0.0
        sign,  # -0.0
        exp_all,  # +inf
        sign | exp_all,  # -inf
        exp_all | quiet,  # quiet NaN, numpy's default np.nan pattern
        sign | exp_all | quiet | payload,  # negative quiet NaN with payload
        1,  # smallest positive subnormal
        sign | 1,  # smallest negative subnormal
        (1 << m) - 1,  # largest subnormal
        1 << m,  # smallest positive normal
        exp_all - 1,  # largest finite
        sign | (exp_all - 1),  # most negative finite
        one,  # 1.0
        sign | ((bias + 1) << m),  # -2.0
    ]


def float_fill(name, count, start):
    """Ordinary finite values, computed in float64 and cast (exact, IEEE RNE)."""
    ftype = {"float16": np.float16, "float32": np.float32, "float64": np.float64}[name]
    utype = {"float16": np.uint16, "float32": np.uint32, "float64": np.uint64}[name]
    out = []
    for i in range(start, start + count):
        v = (-1.0) ** i * (i * 1.37) ** 3 / 10.0 + i / 7.0
        out.append(int(np.array([v], dtype=np.float64).astype(ftype).view(utype)[0]))
    return out


def main_bits(name):
    """24 element bit patterns (native value terms) for the (2,3,4) arrays."""
    kind, size = DTYPES[name]
    nbits = 8 * size
    if kind == "b":
        return [1 if (i * 7) % 3 == 0 else 0 for i in range(MAIN_N)]
    if kind == "u":
        fixed = [0, 0xFF, 1, 0x7F, 0x80, 0xFE]
    elif kind == "i":
        fixed = [
            1 << (nbits - 1),  # min
            (1 << (nbits - 1)) - 1,  # max
            (1 << nbits) - 1,  # -1
            0,
            1,
            (1 << (nbits - 1)) + 1,  # min + 1
        ]
    else:
        sp = float_specials(name)
        return sp + float_fill(name, MAIN_N - len(sp), len(sp))
    return fixed + [weyl(i, nbits) for i in range(MAIN_N - len(fixed))]


def scalar_bits(name):
    kind, size = DTYPES[name]
    nbits = 8 * size
    if kind == "b":
        return 1
    if kind == "u":
        return (1 << nbits) - 1
    if kind == "i":
        return 1 << (nbits - 1)
    return float_specials(name)[5]  # negative NaN with payload


def build(name, bits, shape, order="C", byteorder="<"):
    """Array of dtype `name` holding `bits` (C order) in the given layout.

    Built by viewing an unsigned array, so no float arithmetic touches NaNs.
    """
    kind, size = DTYPES[name]
    if size == 1:
        u = np.array(bits, dtype=np.uint8)
        arr = u.view({"b": np.bool_, "u": np.uint8, "i": np.int8}[kind])
    else:
        u = np.array(bits, dtype=np.dtype(f"{byteorder}u{size}"))
        arr = u.view(np.dtype(f"{byteorder}{kind}{size}"))
    arr = arr.reshape(shape)
    if order == "F":
        arr = np.asfortranarray(arr)
        assert arr.flags.f_contiguous and (arr.ndim < 2 or not arr.flags.c_contiguous)
    return arr


def hexbits(bits, size):
    return [f"0x{b:0{2 * size}x}" for b in bits]


# ---------------------------------------------------------------- header parsing (independent of numpy)


def parse_npy_header(buf):
    """Return (version str, header dict, data_offset) from raw .npy bytes."""
    assert buf[:6] == b"\x93NUMPY", "bad magic"
    major, minor = buf[6], buf[7]
    if major == 1:
        (hlen,) = struct.unpack("<H", buf[8:10])
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack("<I", buf[8:12])
        start = 12
    else:
        raise ValueError(f"unknown version {major}.{minor}")
    enc = "utf8" if major == 3 else "latin1"
    header = ast.literal_eval(buf[start : start + hlen].decode(enc))
    return f"{major}.{minor}", header, start + hlen


def bits_from_npy_bytes(buf):
    """Decode element bit patterns straight from .npy bytes (no np.load)."""
    version, header, off = parse_npy_header(buf)
    descr = header["descr"]
    size = int(descr[2:])
    order = descr[0] if descr[0] in "<>" else "|"
    shape = tuple(header["shape"])
    ut = np.dtype(f"{'<' if order == '|' else order}u{size}")
    count = int(np.prod(shape, dtype=np.int64))
    assert len(buf) - off == count * size, "data length mismatch"
    raw = np.frombuffer(buf, dtype=ut, count=count, offset=off)
    raw = raw.reshape(shape, order="F" if header["fortran_order"] else "C")
    return version, header, off, [int(x) for x in raw.ravel(order="C")]


def bits_from_array(arr):
    """Element bit patterns of a loaded numpy array, C order, native value terms."""
    size = arr.dtype.itemsize
    bo = arr.dtype.byteorder
    ut = np.dtype("u1") if size == 1 else np.dtype(f"{'=' if bo in '=|' else bo}u{size}")
    u = np.ascontiguousarray(arr).view(ut).astype(np.uint64)
    return [int(x) for x in u.ravel(order="C")]


# ---------------------------------------------------------------- writing


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def npy_bytes(arr, version):
    f = io.BytesIO()
    npformat.write_array(f, arr, version=version, allow_pickle=False)
    return f.getvalue()


def record_for_npy(fname, name, arr, data, bits):
    version, header, off = parse_npy_header(data)
    return {
        "file": fname,
        "dtype": name,
        "descr": header["descr"],
        "fortran_order": bool(header["fortran_order"]),
        "shape": list(arr.shape),
        "header_version": version,
        "data_offset": off,
        "sha256": sha256(data),
        "bits": hexbits(bits, DTYPES[name][1]),
    }


class _FixedTime:
    """Stand-in for the `time` module inside zipfile so .npz entries get a fixed date.

    CPython 3.11's ZipFile.open(name, "w") (what numpy.savez uses) already stamps
    1980-01-01; this pins the same value in case another Python takes the clock.
    """

    @staticmethod
    def time():
        return 0.0

    @staticmethod
    def localtime(_t=None):
        return FIXED_ZIP_TIME + (0, 1, 0)


def savez_deterministic(path, compress, args, kwds):
    real_time = zipfile.time
    zipfile.time = _FixedTime
    try:
        if compress:
            np.savez_compressed(path, *args, allow_pickle=False, **kwds)
        else:
            np.savez(path, *args, allow_pickle=False, **kwds)
    finally:
        zipfile.time = real_time


def npz_members():
    """(member name, dtype name, bits, array) for the .npz files; arr_0 is positional."""
    spec = [
        # (member key, dtype, bits, shape, order, byteorder)
        ("arr_0", "float32", main_bits("float32"), MAIN_SHAPE, "C", "<"),
        ("i64_be_f", "int64", main_bits("int64"), MAIN_SHAPE, "F", ">"),
        ("f16_be", "float16", main_bits("float16"), MAIN_SHAPE, "C", ">"),
        ("f64_f", "float64", main_bits("float64"), MAIN_SHAPE, "F", "<"),
        ("b1", "bool", main_bits("bool"), MAIN_SHAPE, "C", "|"),
        ("u8_0d", "uint8", [scalar_bits("uint8")], (), "C", "|"),
        ("i16_empty", "int16", [], (2, 0, 3), "C", "<"),
    ]
    out = []
    for key, name, bits, shape, order, bo in spec:
        out.append((key, name, bits, build(name, bits, shape, order, bo)))
    return out


def generate():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):  # drop stale fixtures
        if f.endswith((".npy", ".npz")):
            os.remove(os.path.join(OUT, f))

    npy_records = []

    def emit(fname, name, arr, bits, version=(1, 0)):
        data = npy_bytes(arr, version)
        with open(os.path.join(OUT, fname), "wb") as fh:
            fh.write(data)
        npy_records.append(record_for_npy(fname, name, arr, data, bits))

    for name, (kind, size) in DTYPES.items():
        bits = main_bits(name)
        if size == 1:
            emit(f"{name}_c.npy", name, build(name, bits, MAIN_SHAPE, "C", "|"), bits)
            emit(f"{name}_f.npy", name, build(name, bits, MAIN_SHAPE, "F", "|"), bits)
        else:
            for bo, tag in (("<", "le"), (">", "be")):
                for order in ("C", "F"):
                    arr = build(name, bits, MAIN_SHAPE, order, bo)
                    emit(f"{name}_{order.lower()}_{tag}.npy", name, arr, bits)
        bo = "|" if size == 1 else "<"
        sb = [scalar_bits(name)]
        emit(f"{name}_0d.npy", name, build(name, sb, (), "C", bo), sb)
        emit(f"{name}_empty_0.npy", name, build(name, [], (0,), "C", bo), [])
        emit(f"{name}_empty_2x0x3.npy", name, build(name, [], (2, 0, 3), "C", bo), [])
        emit(f"{name}_v2.npy", name, build(name, bits, MAIN_SHAPE, "C", bo), bits, (2, 0))
        emit(f"{name}_v3.npy", name, build(name, bits, MAIN_SHAPE, "C", bo), bits, (3, 0))

    npz_records = []
    members = npz_members()
    for fname, compress in (("mixed_stored.npz", False), ("mixed_compressed.npz", True)):
        path = os.path.join(OUT, fname)
        args = [a for k, _, _, a in members if k == "arr_0"]
        kwds = {k: a for k, _, _, a in members if k != "arr_0"}
        savez_deterministic(path, compress, args, kwds)
        with open(path, "rb") as fh:
            zdata = fh.read()
        recs = []
        with zipfile.ZipFile(io.BytesIO(zdata)) as zf:
            names = zf.namelist()
            by_key = {k: (n, b, a) for k, n, b, a in members}
            for mname in names:
                key = mname[: -len(".npy")]
                name, bits, arr = by_key[key]
                rec = record_for_npy(mname, name, arr, zf.read(mname), bits)
                rec["name"] = rec.pop("file")
                del rec["data_offset"]
                recs.append(rec)
        npz_records.append(
            {"file": fname, "compressed": compress, "sha256": sha256(zdata), "members": recs}
        )

    manifest = {
        "numpy_version": np.__version__,
        "python_version": "%d.%d" % sys.version_info[:2],
        "zlib_runtime_version": zlib.ZLIB_RUNTIME_VERSION,
        "format_note": FORMAT_NOTE,
        "npy": npy_records,
        "npz": npz_records,
    }
    with open(MANIFEST, "w", encoding="utf-8") as fh:
        fh.write(dump_json(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(npy_records)} .npy, {len(npz_records)} .npz, manifest.json "
          f"to {os.path.relpath(OUT, ROOT)} ({total} bytes incl. README if present)")


def dump_json(obj, indent=0):
    """Pretty JSON, but lists of scalars (shape, bits) stay on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        items = [f'{pad} {json.dumps(k)}: {dump_json(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return pad + json.dumps(obj)
        return pad + "[\n" + ",\n".join(dump_json(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return pad + json.dumps(obj)


# ---------------------------------------------------------------- checking


def check_member(rec, data, arr, label):
    errors = []
    version, header, off, raw_bits = bits_from_npy_bytes(data)
    want = rec["bits"]
    size = DTYPES[rec["dtype"]][1]

    def expect(cond, msg):
        if not cond:
            errors.append(f"{label}: {msg}")

    expect(sha256(data) == rec["sha256"], "sha256 mismatch")
    expect(version == rec["header_version"], f"header_version {version}")
    expect(header["descr"] == rec["descr"], f"descr {header['descr']}")
    expect(arr.dtype.str == rec["descr"], f"np.load dtype {arr.dtype.str}")
    expect(arr.dtype == np.dtype(rec["dtype"]).newbyteorder(arr.dtype.byteorder), "dtype name")
    expect(header["fortran_order"] == rec["fortran_order"], "fortran_order (header)")
    expect(list(header["shape"]) == rec["shape"], "shape (header)")
    expect(list(arr.shape) == rec["shape"], f"np.load shape {arr.shape}")
    expect(off % 64 == 0, f"data_offset {off} not 64-aligned")
    if "data_offset" in rec:
        expect(off == rec["data_offset"], f"data_offset {off}")
    expect(hexbits(raw_bits, size) == want, "bits (raw bytes) mismatch")
    expect(hexbits(bits_from_array(arr), size) == want, "bits (np.load) mismatch")
    expect(len(want) == int(np.prod(rec["shape"], dtype=np.int64)), "bits length")
    return errors


def check():
    with open(MANIFEST, encoding="utf-8") as fh:
        m = json.load(fh)
    errors = []
    if m["numpy_version"] != np.__version__:
        print(f"note: manifest from numpy {m['numpy_version']}, checking with {np.__version__}")
    listed = {"manifest.json", "README.md"}
    nmembers = 0
    for rec in m["npy"]:
        path = os.path.join(OUT, rec["file"])
        listed.add(rec["file"])
        with open(path, "rb") as fh:
            data = fh.read()
        arr = np.load(path, allow_pickle=False)
        expect_f = arr.ndim >= 2 and arr.flags.f_contiguous and not arr.flags.c_contiguous
        if expect_f != rec["fortran_order"]:
            errors.append(f"{rec['file']}: np.load layout vs fortran_order")
        errors += check_member(rec, data, arr, rec["file"])
    for rec in m["npz"]:
        path = os.path.join(OUT, rec["file"])
        listed.add(rec["file"])
        with open(path, "rb") as fh:
            zdata = fh.read()
        if sha256(zdata) != rec["sha256"]:
            errors.append(f"{rec['file']}: sha256 mismatch")
        want_ct = zipfile.ZIP_DEFLATED if rec["compressed"] else zipfile.ZIP_STORED
        with zipfile.ZipFile(path) as zf, np.load(path, allow_pickle=False) as npz:
            infos = zf.infolist()
            if [i.filename for i in infos] != [r["name"] for r in rec["members"]]:
                errors.append(f"{rec['file']}: member list differs")
            for info in infos:
                if info.compress_type != want_ct:
                    errors.append(f"{rec['file']}/{info.filename}: compress_type {info.compress_type}")
            for r in rec["members"]:
                nmembers += 1
                arr = npz[r["name"][: -len(".npy")]]
                errors += check_member(r, zf.read(r["name"]), arr, f"{rec['file']}/{r['name']}")
    extra = sorted(set(os.listdir(OUT)) - listed)
    if extra:
        errors.append(f"files not in manifest: {extra}")
    dtypes_seen = {r["dtype"] for r in m["npy"]}
    if dtypes_seen != set(DTYPES):
        errors.append(f"dtype coverage {sorted(dtypes_seen)}")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    for e in errors:
        print("FAIL", e)
    status = "FAILED" if errors else "OK"
    print(f"check {status}: {len(m['npy'])} .npy, {len(m['npz'])} .npz "
          f"({nmembers} members), {total} bytes in fixtures/npy, numpy {np.__version__}")
    return 1 if errors else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="verify files against manifest.json")
    a = ap.parse_args()
    sys.exit(check() if a.check else generate())
