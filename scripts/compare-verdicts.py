#!/usr/bin/env python3
"""Compares the verdicts of two conform report.json files property by property: status, cases, rejects, known
hits, what stopped the search, the counterexample (case, signature, message), each known deviation's replay
(signature, reproduced, message), the tabulated observations, reject reasons and skip reasons.

Used to show that a change meant to keep behaviour (the structure issue) did: run the same seed with
`--budget none --cases N` before and after and compare. Differences in report format (format_version, run_id,
the hint of a skip reason printed inline instead of on a second line) are normalised; timings are ignored.

    python3 scripts/compare-verdicts.py BEFORE.json AFTER.json    # exit 0 when identical, 1 with the differences
"""
import json
import sys

FIELDS = ["status", "cases", "rejects", "known_hits", "stopped_by", "observations", "reject_reasons"]


def norm(text):
    return text.replace("\n(hint: ", " (hint: ").rstrip(")") if isinstance(text, str) else text


def view(p):
    out = {f: p.get(f) for f in FIELDS}
    c = p.get("counterexample")
    out["counterexample"] = c and {k: c.get(k) for k in ("case", "signature", "message")}
    out["known"] = [(k["signature"], k["reproduced"], k["replay_message"]) for k in p.get("known", [])]
    out["skip_reason"] = norm(p.get("skip_reason"))
    if isinstance(out["counterexample"], dict) and isinstance(out["counterexample"]["case"], dict):
        out["counterexample"]["case"].pop("kind", None)  # format 2 tags the case with its kind
    return out


def main(before_path, after_path):
    before, after = (json.load(open(p)) for p in (before_path, after_path))
    if before["seed"] != after["seed"] or before["settings"]["cases"] != after["settings"]["cases"]:
        print("the two reports are of different seeds or case counts")
        return 2
    b = {p["name"]: view(p) for p in before["properties"]}
    a = {p["name"]: view(p) for p in after["properties"]}
    diffs = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            diffs.append(f"{name}: only in {'after' if name in a else 'before'}")
            continue
        for field in b[name]:
            if a[name][field] != b[name][field]:
                diffs.append(f"{name}.{field}: {b[name][field]!r} -> {a[name][field]!r}")
    for line in diffs:
        print(line)
    print(f"{len(b)} properties compared, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
