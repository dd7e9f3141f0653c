#!/usr/bin/env python3
"""What events cost the write path, and how fast the push worker delivers.

Run through bench/run (which starts MariaDB): BENCH_SCRIPT=bench/events.py
bench/run --db sqlite,mariadb --no-peer --users 2000 --rounds 5 --only
post-user,patch-group-100. For each database two Roster servers on fresh
databases: one without receivers, one with a push receiver (`roster-bench
sink`, a native receiver answering 202) and a poll receiver (nobody polls). The workloads run on
both in turns (interleaved rounds); the ratio of medians is the overhead.
Both run without the audit trail, so that the ratio is the events' own
cost; BENCH_AUDIT=true runs both with it (the default configuration),
where the same added work over a larger base reads as a better ratio.
Then the sink refuses while POSTs pile events up, and accepts again: the
rate it takes the backlog at is the delivery throughput.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402


class Sink:
    """A push receiver: `roster-bench sink`, a native process that answers
    202 (503 while refusing) and counts arrivals. Native and cheap on
    purpose: a receiver is another application, normally on another host,
    and a Python server on these cores would charge its own CPU to Roster."""

    def __init__(self, seed_bin):
        self.proc = subprocess.Popen([str(seed_bin), "sink", "--port", "0"], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            h.die(f"roster-bench sink did not start: {line!r}")
        self.base = "http://" + line.removeprefix("listening on ")
        self.url = f"{self.base}/events"

    def control(self, what):
        method = "GET" if what == "stats" else "POST"
        with urllib.request.urlopen(urllib.request.Request(f"{self.base}/control/{what}", method=method),
                                    timeout=10) as r:
            return json.loads(r.read() or b"null")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def database_url(db, tmp, s, args):
    if db == "sqlite":
        return f"sqlite://{tmp}/roster-bench.db?mode=rwc"
    return h.mariadb_url(os.environ["ROSTER_BENCH_MYSQL_URL"], s.db_name, args.mariadb_via)


def add_receivers(roster_bin, url, tmp, sink):
    env = dict(os.environ, DATABASE_URL=url)
    for extra in (["push", "--push", sink.url], ["poll", "--poll"]):
        cmd = [str(roster_bin), "receiver", "add", extra[0]] + extra[1:]
        subprocess.run(cmd, env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)


def start(db, args, tmp, token, bins, sizes, sink=None):
    tmp.mkdir(parents=True, exist_ok=True)
    env = {"ROSTER_AUDIT__ENABLED": os.environ.get("BENCH_AUDIT", "false")}
    if sink:
        # Retries within half a second, so the drain starts when the sink does.
        env["ROSTER_EVENTS__RETRY_MAX_MS"] = "500"
    s = h.start_roster(db, args, tmp, token, bins[0], bins[1], sizes, server_env=env)
    if sink:
        add_receivers(bins[0], database_url(db, tmp, s, args), tmp, sink)
        s.key, s.label = f"{db}-events", f"{s.label} +events"
        time.sleep(2)  # the server picks the receivers up within refresh_ms
    return s


def drain_rate(args, server, token, sink):
    """Events/s the sink takes a backlog of POSTs' events at."""
    sink.control("refuse")
    post = next(w for w in h.workloads(args.users) if w.key == "post-user")
    r = h.measure(args, post, server, token)
    backlog = r.get("requests", 0)
    sink.control("reset")
    sink.control("accept")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        n = sink.control("stats")["received"]
        time.sleep(1.0)
        if sink.control("stats")["received"] == n and n >= backlog:
            break
    stats = sink.control("stats")
    got, span = stats["received"], stats["last"] - stats["first"]
    if got < 2 or span <= 0:
        return backlog, got, 0.0
    return backlog, got, (got - 1) / span


def sink_probe(on, sink):
    """Per run: Roster's CPU per request, and on the server with receivers
    the sink's, which a real receiver spends on a host of its own."""
    def probe(s):
        before = h.cpu_seconds(sink.proc.pid)

        def after(r):
            if "rps" not in r:
                return ""
            note = f", Roster CPU {r.get('cpu_us', 0):,.0f} µs/req"
            if s is on:
                r["sink_us"] = (h.cpu_seconds(sink.proc.pid) - before) / max(r.get("requests", 0), 1) * 1e6
                note += f", sink CPU {r['sink_us']:,.0f} µs/req"
            return note
        return after
    return probe


def main():
    args = h.parse_args()
    tmp = Path(os.environ.get("BENCH_TMP") or "/tmp")
    token = "bench-" + os.urandom(12).hex()
    bins = h.build()
    sizes = [s for s in h.SIZES if s <= args.users]
    wl = h.selected(args, "post-user,patch-group-100")
    sink = Sink(bins[1])
    lines = []
    try:
        for db in args.db:
            off = start(db, args, tmp / f"{db}-off", token, bins, sizes)
            on = start(db, args, tmp / f"{db}-on", token, bins, sizes, sink)
            pids = [off.proc.pid, on.proc.pid] + ([h.mariadb_pid()] if db == "mariadb" else [])
            for w in wl:
                seen = h.interleaved(args, w, (off, on), token, pids, sink_probe(on, sink))
                if not seen[off.key] or not seen[on.key]:
                    continue  # a workload this size of seed cannot run
                # CPU per request, kernel time included.
                med = h.medians(seen, ("rps", "cpu_us", "sink_us"))
                a, b = med[off.key]["rps"], med[on.key]["rps"]
                c_off, c_on, c_sink = med[off.key]["cpu_us"], med[on.key]["cpu_us"], med[on.key]["sink_us"]
                line = (f"| {db} | {w.name} | {a:,.0f} | {b:,.0f} | {b / a:.1%} | "
                        f"{h.rates(seen[off.key])} / "
                        f"{h.rates(seen[on.key])} | "
                        f"{c_off:,.0f} / {c_on:,.0f} / {c_sink:,.0f} |")
                h.log(line)
                lines.append(line)
            backlog, got, rate = drain_rate(args, on, token, sink)
            line = f"| {db} | delivery of a backlog of {backlog:,} events | | | {rate:,.0f} events/s ({got:,} received) | | |"
            h.log(line)
            lines.append(line)
            h.stop_all()
    finally:
        h.stop_all()
        sink.stop()
    h.print_table(["database", "workload", "req/s without receivers", "req/s with push + poll receiver", "ratio",
                   "rounds (off / on)", "CPU µs/req: Roster off / on / sink"], lines)


if __name__ == "__main__":
    main()
