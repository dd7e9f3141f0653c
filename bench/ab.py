#!/usr/bin/env python3
"""Two builds of Roster side by side: the same workloads on each, in
interleaved rounds, on fresh databases seeded alike.

Run through bench/run (which starts MariaDB when asked):
BENCH_SCRIPT=bench/ab.py BENCH_BIN_A=/tmp/roster-before bench/run --db sqlite
--no-peer --rounds 3 --only get-id,post-user. Build A is BENCH_BIN_A, build
B is BENCH_BIN_B or this checkout's release build. BENCH_AB_ENV adds
settings to both servers' environment (e.g. "ROSTER_AUDIT__ENABLED=false").
The table gives each build's median round (req/s, p99, Roster's CPU per
request) and B's ratios to A.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402


def settings():
    pairs = os.environ.get("BENCH_AB_ENV", "").split()
    env = {"ROSTER_METRICS__OPEN": "true"}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            h.die(f"BENCH_AB_ENV: {pair!r} is not KEY=VALUE")
        env[key] = value
    return env


def start(db, args, tmp, token, roster_bin, seed_bin, sizes, name):
    tmp.mkdir(parents=True, exist_ok=True)
    s = h.start_roster(db, args, tmp, token, roster_bin, seed_bin, sizes, server_env=settings())
    s.key = f"{db}-{name}"
    s.label = f"{s.label} {name}"
    return s


def main():
    args = h.parse_args()
    tmp = Path(os.environ.get("BENCH_TMP") or "/tmp")
    token = "bench-" + os.urandom(12).hex()
    built, seed_bin = h.build()
    a_bin = os.environ.get("BENCH_BIN_A") or h.die("BENCH_BIN_A unset: the build to compare against")
    b_bin = os.environ.get("BENCH_BIN_B") or built
    h.log(f"A: {a_bin}, B: {b_bin}, settings {settings()}")
    sizes = [s for s in h.SIZES if s <= args.users]
    wl = h.selected(args, "get-id,post-user,patch-group-100")
    lines = []
    try:
        for db in args.db:
            a = start(db, args, tmp / f"{db}-a", token, a_bin, seed_bin, sizes, "A")
            b = start(db, args, tmp / f"{db}-b", token, b_bin, seed_bin, sizes, "B")
            pids = [a.proc.pid, b.proc.pid] + ([h.mariadb_pid()] if db == "mariadb" else [])
            for w in wl:
                seen = h.interleaved(args, w, (a, b), token, pids, h.cpu_probe)
                if not seen[a.key] or not seen[b.key]:
                    continue
                med = h.medians(seen)
                ma, mb = med[a.key], med[b.key]
                line = (f"| {db} | {w.name} | {ma['rps']:,.0f} | {mb['rps']:,.0f} | {mb['rps'] / ma['rps']:.1%} | "
                        f"{ma['p99']:.2f} | {mb['p99']:.2f} | {h.rates(seen[a.key])} / {h.rates(seen[b.key])} | "
                        f"{ma['cpu_us']:,.0f} / {mb['cpu_us']:,.0f} |")
                h.log(line)
                lines.append(line)
            h.stop_all()
    finally:
        h.stop_all()
    h.print_table(["database", "workload", "req/s A", "req/s B", "B/A", "p99 A (ms)", "p99 B (ms)",
                   "rounds req/s (A / B)", "Roster CPU µs/req (A / B)"], lines)


if __name__ == "__main__":
    main()
