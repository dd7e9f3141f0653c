#!/usr/bin/env python3
"""What the audit trail costs a request: the same build with it on and off.

Run through bench/run (which starts MariaDB): BENCH_SCRIPT=bench/audit.py
bench/run --db sqlite,mariadb --no-peer --rounds 4 --only
post-user,patch-group-100,get-id. For each database two Roster servers on
fresh databases, one with `[audit] enabled = false`, one with the default
(on); the workloads run on both in turns (interleaved rounds, alternating
who goes first). The table gives the median round's req/s and p99 of each,
and their ratios, and how many request log entries the server with the
audit trail dropped meanwhile (its buffer full): above 0, the ratio
flatters the audit trail. BENCH_REQUEST_LOG_FILE=true gives the server with
the audit trail a request log file of its own (`audit.request_log_file`),
which only changes where MariaDB/MySQL keeps the log.
"""

import http.client
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402


def start(db, args, tmp, token, bins, sizes, audit):
    tmp.mkdir(parents=True, exist_ok=True)
    # Metrics open on both, alike: the dropped-entry count is read from them.
    env = {"ROSTER_AUDIT__ENABLED": "true" if audit else "false", "ROSTER_METRICS__OPEN": "true"}
    if audit and os.environ.get("BENCH_REQUEST_LOG_FILE") == "true":
        env["ROSTER_AUDIT__REQUEST_LOG_FILE"] = str(tmp / "requests.db")
    s = h.start_roster(db, args, tmp, token, bins[0], bins[1], sizes, server_env=env)
    s.key = f"{db}-audit-{'on' if audit else 'off'}"
    s.label = f"{s.label} audit {'on' if audit else 'off'}"
    return s


def dropped(s):
    """Request log entries the server dropped so far (its buffer was full):
    work the audit trail did not do, which would flatter its ratio."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith("roster_audit_dropped_total"):
            return int(float(line.split()[-1]))
    h.die("the server's /metrics has no roster_audit_dropped_total")


def main():
    args = h.parse_args()
    tmp = Path(os.environ.get("BENCH_TMP") or "/tmp")
    token = "bench-" + os.urandom(12).hex()
    bins = h.build()
    sizes = [s for s in h.SIZES if s <= args.users]
    wl = h.selected(args, "post-user,patch-group-100,get-id")
    lines = []
    try:
        for db in args.db:
            off = start(db, args, tmp / f"{db}-off", token, bins, sizes, False)
            on = start(db, args, tmp / f"{db}-on", token, bins, sizes, True)
            pids = [off.proc.pid, on.proc.pid] + ([h.mariadb_pid()] if db == "mariadb" else [])
            for w in wl:
                lost_before = dropped(on)
                seen = h.interleaved(args, w, (off, on), token, pids, h.cpu_probe)
                lost = dropped(on) - lost_before
                if not seen[off.key] or not seen[on.key]:
                    continue
                # CPU per request, kernel time included.
                med = h.medians(seen)
                a, b = med[off.key]["rps"], med[on.key]["rps"]
                pa, pb = med[off.key]["p99"], med[on.key]["p99"]
                line = (f"| {db} | {w.name} | {a:,.0f} | {b:,.0f} | {b / a:.1%} | "
                        f"{pa:.2f} | {pb:.2f} | {pb / pa:.2f}× | "
                        f"{h.rates(seen[off.key])} / "
                        f"{h.rates(seen[on.key])} | {med[off.key]['cpu_us']:,.0f} / {med[on.key]['cpu_us']:,.0f} | {lost:,} |")
                h.log(line)
                lines.append(line)
            h.stop_all()
    finally:
        h.stop_all()
    h.print_table(["database", "workload", "req/s off", "req/s on", "throughput on/off", "p99 off (ms)",
                   "p99 on (ms)", "p99 on/off", "rounds req/s (off / on)", "Roster CPU µs/req (off / on)",
                   "entries dropped"], lines)


if __name__ == "__main__":
    main()
