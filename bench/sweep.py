"""The cores/pool sweep of bench/run (`--sweep-cores`, `--sweep-pools`):
the same workloads with Roster pinned to 1, 2, … cores (taskset) and its
database pool at each size, so how Roster scales with the host and with
the pool can be reproduced on any machine. mysqld can be pinned to the
cores after Roster's (`--db-cores`), so that the two do not share them.

Standard library only, like harness.py, which calls `sweep`.
"""

import subprocess


def cpu_list(first, count):
    return ",".join(str(c) for c in range(first, first + count))


def pin_process(pid, cpus):
    """Pins every thread of `pid` to `cpus` (a taskset list)."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, stdout=subprocess.DEVNULL)


def restart(server, token, cores, pool, spawn, log):
    """Stops `server`'s Roster and starts it again on the first `cores`
    cores with a pool of `pool` (None: the default, sized from the
    cores it sees)."""
    server.proc.terminate()
    server.proc.wait(timeout=30)
    env = dict(server.env)
    env.pop("ROSTER_DATABASE__MAX_CONNECTIONS", None)
    if pool:
        env["ROSTER_DATABASE__MAX_CONNECTIONS"] = str(pool)
    cmd = ["taskset", "-c", cpu_list(0, cores), *server.cmd]
    log(f"{server.label}: restarting on {cores} core(s), pool {pool or 'default'}")
    server.proc = spawn(cmd, server.log_file, env=env, cwd=server.cwd)
    server.wait_ready(token)


def sweep(args, db_servers, token, wl, measure, settle, spawn, log, host_cores):
    """Each workload of `wl` on each server, at each cores/pool point;
    rows of (server label, cores, pool, workload, median result)."""
    rows = []
    for s in db_servers:
        for cores in args.sweep_cores or [host_cores]:
            if cores > host_cores:
                log(f"sweep: {cores} cores asked, the host has {host_cores}; skipped")
                continue
            if s.db_pid and args.db_cores:
                first = cores if cores + args.db_cores <= host_cores else host_cores - args.db_cores
                pin_process(s.db_pid, cpu_list(max(first, 0), args.db_cores))
            for pool in args.sweep_pools or [None]:
                restart(s, token, cores, pool, spawn, log)
                for w in wl:
                    rounds = []
                    for _ in range(args.rounds):
                        settle([s.proc.pid] + ([s.db_pid] if s.db_pid else []))
                        rounds.append(measure(args, w, s, token))
                    ranked = sorted((r for r in rounds if "rps" in r), key=lambda r: r["rps"])
                    best = ranked[(len(ranked) - 1) // 2] if ranked else rounds[0]
                    rows.append((s.label, cores, pool, w.name, best))
                    log(f"sweep {s.label} cores={cores} pool={pool or 'default'} {w.key}: {best.get('rps', 0):,.0f} req/s")
        if s.db_pid and args.db_cores:
            pin_process(s.db_pid, cpu_list(0, host_cores))
    return rows


def render(rows, args):
    pinned = f"mysqld pinned to {args.db_cores} core(s) after Roster's" if args.db_cores else "mysqld not pinned"
    out = [
        "",
        f"### Cores and pool sweep ({pinned}; wrk not pinned)",
        "",
        "| Server | Roster cores | pool | Workload | req/s | p99 ms | Roster CPU us/req | mysqld CPU us/req | errors |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for label, cores, pool, name, r in rows:
        if "rps" not in r:
            out.append(f"| {label} | {cores} | {pool or 'default'} | {name} | n/a | | | | |")
            continue
        p99 = f"{r['p99']:.2f}" if r.get("p99") is not None else ""
        cpu = f"{r['cpu_us']:,.1f}" if r.get("cpu_us") is not None else ""
        db = f"{r['db_cpu_us']:,.1f}" if r.get("db_cpu_us") is not None else ""
        out.append(
            f"| {label} | {cores} | {pool or 'default'} | {name} | {r['rps']:,.0f} | {p99} | {cpu} | {db} | {r['errors']:,} |"
        )
    return "\n".join(out) + "\n"
