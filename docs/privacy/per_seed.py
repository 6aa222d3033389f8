#!/usr/bin/env python3
"""The per-seed spread of an `ideudemon-cli evaluate` run, from its evaluation.csv.

    python3 docs/privacy/per_seed.py REPORT_DIR/evaluation.csv [SCALE ...]

Every photo of a run gets the same noise draw for a seed, so a seed can be weak; this prints,
for each scale (all of the run's by default) and seed, the rates `evaluate` prints for a
scale, with the same definitions (rates of the detected outputs; re-id per pair).
"""
import csv
import sys
from collections import defaultdict


def summarise(rows):
    detected = [r for r in rows if r["detected"] == "1"]
    n = len(detected)
    pairs = sum(int(r["reid_pairs"]) for r in detected)
    mean = lambda key, rs: sum(float(r[key]) for r in rs) / len(rs) if rs else 0.0
    return {
        "DIS": mean("dis", detected),
        "match %": 100 * sum(r["match"] == "1" for r in detected) / n if n else 0.0,
        "re-id % (pairs)": 100 * sum(int(r["reid_matches"]) for r in detected) / pairs if pairs else 0.0,
        "DIS2": mean("dis2", detected),
        "match2 %": 100 * sum(r["match2"] == "1" for r in detected) / n if n else 0.0,
        "re-id2 % (pairs)": 100 * sum(int(r["reid2_matches"]) for r in detected) / pairs if pairs else 0.0,
        "crop PSNR": mean("crop_psnr", rows),
        "age change": sum(abs(float(r["age_after"]) - float(r["age_before"])) for r in detected) / n if n else 0.0,
        "gender kept %": 100 * sum(r["gender_kept"] == "1" for r in detected) / n if n else 0.0,
        "age shift": sum(float(r["age_after"]) - float(r["age_before"]) for r in detected) / n if n else 0.0,
        "age change 2 (GEAR)": sum(abs(float(r["age2_after"]) - float(r["age2_before"])) for r in detected) / n if n else 0.0,
        "gender kept 2 % (GEAR)": 100 * sum(r["gender2_kept"] == "1" for r in detected) / n if n else 0.0,
        "outputs": len(rows),
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    groups = defaultdict(list)
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            groups[(round(float(row["scale"]), 4), int(row["seed"]))].append(row)
    scales = sorted({s for s, _ in groups}) if len(sys.argv) == 2 else [round(float(a), 4) for a in sys.argv[2:]]
    for scale in scales:
        seeds = sorted(seed for s, seed in groups if s == scale)
        if not seeds:
            sys.exit(f"no outputs at scale {scale} in {sys.argv[1]}")
        summaries = {seed: summarise(groups[(scale, seed)]) for seed in seeds}
        print(f"\nscale {scale:g}")
        print("| seed | " + " | ".join(str(s) for s in seeds) + " | worst |")
        print("|---|" + "---|" * (len(seeds) + 1))
        for key in summaries[seeds[0]]:
            values = [summaries[s][key] for s in seeds]
            # The worst seed: the most linked for the rates of matches, the least kept otherwise.
            worse_high = key.startswith(("match", "re-id", "age"))
            worst = max(values) if worse_high else min(values)
            fmt = (lambda v: f"{v:.3f}") if key.startswith("DIS") else (lambda v: f"{v:.0f}" if key == "outputs" else f"{v:.1f}")
            print(f"| {key} | " + " | ".join(fmt(v) for v in values) + f" | {fmt(worst)} |")


if __name__ == "__main__":
    main()
