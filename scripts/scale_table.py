#!/usr/bin/python3
"""2-rank speed-up per row of `bilearn bench scale`.

usage: scripts/scale_table.py ONE_RANK.json TWO_RANK.json

Reads the --json files of a 1-rank and a 2-rank run of `bilearn bench scale` and prints, for every
N present in both and every row (cold_lower, warm_lower, hypergradient, train), the seconds on 1
and on 2 ranks and the speed-up t1/t2 (also in CPU seconds, max over ranks, which a machine shared with
other jobs distorts less), for the new defaults and (where it ran) the old
configuration, with the iteration counts of both runs (they should match: a speed-up is only
meaningful for the same work). Standard library only.
"""
import json
import sys


def load(path):
    with open(path) as f:
        j = json.load(f)
    if j.get("command") != "bench scale":
        sys.exit(f"{path}: not a bench scale summary (command {j.get('command')!r})")
    return j


def by_size(j):
    return {s["n"]: {r["row"]: r for r in s["rows"]} for s in j["sizes"]}


def cell(a, b, config):
    """(t1, t2, speed-up, CPU speed-up, iteration counts) of one configuration of a row, or None."""
    x, y = a.get(config), b.get(config)
    if not x or not y:
        return None
    t1, t2 = x["seconds"], y["seconds"]
    c1, c2 = x.get("cpu_seconds", float("nan")), y.get("cpu_seconds", float("nan"))
    its = lambda r: r["newton_iterations"] + r["newton_krylov_iterations"] + r["hyper_krylov_iterations"]
    speedup = lambda p, q: p / q if q > 0 else float("nan")
    return t1, t2, speedup(t1, t2), speedup(c1, c2), its(x), its(y)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    one, two = load(argv[1]), load(argv[2])
    print(f"ranks: {one['ranks']} ({argv[1]}) and {two['ranks']} ({argv[2]}); "
          f"load average {one.get('load_average')} and {two.get('load_average')}")
    a_sizes, b_sizes = by_size(one), by_size(two)
    head = f"{'1r s':>9} {'2r s':>9} {'speed-up':>8} {'cpu s-up':>8} {'its 1r/2r':>13}"
    print(f"{'':>5} {'':<14} | {'new':<51} | {'old':<51}")
    print(f"{'N':>5} {'row':<14} | {head} | {head}")
    for n in sorted(set(a_sizes) & set(b_sizes)):
        for row, a in a_sizes[n].items():
            b = b_sizes[n].get(row)
            if b is None:
                continue
            parts = []
            for config in ("new", "old"):
                c = cell(a, b, config)
                if c is None:
                    parts.append(f"{'-':>9} {'-':>9} {'-':>8} {'-':>8} {'-':>13}")
                else:
                    parts.append(f"{c[0]:9.3f} {c[1]:9.3f} {c[2]:8.2f} {c[3]:8.2f} {f'{c[4]}/{c[5]}':>13}")
            print(f"{n:>5} {row:<14} | {parts[0]} | {parts[1]}")
    missing = sorted(set(a_sizes) ^ set(b_sizes))
    if missing:
        print(f"(sizes in only one of the files: {missing})")


if __name__ == "__main__":
    main(sys.argv)
