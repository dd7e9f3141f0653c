#!/usr/bin/env python3
"""Orchestration of bench/run: Roster (SQLite, MariaDB) against the reference
server scim2-server, same data, same requests, wrk as the load generator.

Run it through bench/run, which installs what is missing, starts the private
MariaDB and cleans up after it; this file is the part that is easier to write
in Python than in bash. Standard library only: the harness must not need a
package manager of its own.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import sweep as cores_sweep

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk.lua"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SIZES = (100, 10_000, 100_000)
SMALL_GROUP_MEMBERS = 10
# Above this many users the in-memory reference server is not seeded: Bulk
# through Python at 1M users would take hours and most of the memory.
PEER_MAX_USERS = 100_000
PEER_VERSION = "0.8.3"
# How deep "deep paging" reads, as a fraction of the users: 900,000 at 1M.
DEPTH = 0.9
PAGE = 100


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(msg)
    sys.exit(1)


# --- the data, identical in every server --------------------------------
# Keep user_body / group_body / group_plan in step with bench/src/data.rs.


def user_body(i):
    return {
        "schemas": [USER_URN],
        "userName": f"user{i:07d}@bench.example",
        "externalId": f"ext-{i:07d}",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
        "displayName": f"User {i}",
        "active": True,
        "emails": [
            {"value": f"u{i:07d}@work.example", "type": "work", "primary": True},
            {"value": f"u{i:07d}@home.example", "type": "home"},
        ],
    }


def group_body(name):
    return {"schemas": [GROUP_URN], "displayName": name}


def group_plan(users, groups, sizes):
    plan = [(f"bench-size-{s}", list(range(s))) for s in sizes]
    for g in range(max(groups - len(sizes), 0)):
        members = [(g * SMALL_GROUP_MEMBERS + k) % users for k in range(SMALL_GROUP_MEMBERS)]
        plan.append((f"bench-group-{g:03d}", members))
    return plan


# A POSTed user: the seeded shape, with names unique to the request (__U__).
POST_BODY = json.dumps(
    {
        "schemas": [USER_URN],
        "userName": "post-__U__@bench.example",
        "externalId": "post-__U__",
        "name": {"givenName": "Post", "familyName": "__U__"},
        "displayName": "Post __U__",
        "active": True,
        "emails": [
            {"value": "post-__U__@work.example", "type": "work", "primary": True},
            {"value": "post-__U__@home.example", "type": "home"},
        ],
    },
    separators=(",", ":"),
)
PATCH_ACTIVE = json.dumps(
    {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "active", "value": "__BOOL__"}]},
    separators=(",", ":"),
).replace('"__BOOL__"', "__BOOL__")
# Remove one member and add it back in one request: the group keeps its size
# however many requests run, and concurrent requests cannot interfere.
PATCH_MEMBER = json.dumps(
    {
        "schemas": [PATCH_URN],
        "Operations": [
            {"op": "remove", "path": 'members[value eq "__MID__"]'},
            {"op": "add", "path": "members", "value": [{"value": "__MID__"}]},
        ],
    },
    separators=(",", ":"),
)


def q(text):
    """Percent-encodes a query value; the __X__ placeholders survive as they are."""
    return urllib.parse.quote(text, safe="")


# --- processes ----------------------------------------------------------

PROCS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, log_file, env=None, cwd=None):
    out = open(log_file, "ab")  # noqa: SIM115 - lives as long as the process
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    PROCS.append(p)
    return p


def stop_all():
    for p in reversed(PROCS):
        if p.poll() is None:
            p.terminate()
    for p in reversed(PROCS):
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    PROCS.clear()


def cpu_seconds(pid):
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def mariadb_pid():
    """mysqld of the private MariaDB bench/run started, if any."""
    pid_file = Path(os.environ.get("MARIADB_SOCKET", "/nonexistent")).parent / "mariadbd.pid"
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def children_cpu_seconds():
    """CPU of the harness's finished children: wrk, once it has exited."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_now(server):
    """CPU so far of the server, its database server (0 when it has none)
    and the harness's finished children, for a difference around one run."""
    db = cpu_seconds(server.db_pid) if server.db_pid else 0.0
    return cpu_seconds(server.proc.pid), db, children_cpu_seconds()


def settle(pids, limit=180):
    """Waits until the processes are idle (under 10% of a core for half a
    second). A server may still be working through requests of the last
    run after wrk has hung up (a Python thread does not notice until it
    writes); that work must not land in the next server's measurement."""
    deadline = time.monotonic() + limit
    before = sum(cpu_seconds(p) for p in pids)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(cpu_seconds(p) for p in pids)
        if now - before < 0.05:
            return
        before = now
    log(f"servers still busy after {limit} s; measuring anyway")


def peak_rss_mb(pid):
    """VmHWM: the process's peak resident set, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- HTTP ---------------------------------------------------------------


class Server:
    def __init__(self, key, label, port, base_path, proc, log_file):
        self.key, self.label, self.port, self.base_path = key, label, port, base_path
        self.proc, self.log_file = proc, log_file
        self.ids_file = None
        self.ids = []
        self.groups = {}
        self.spc = {}
        # The database server's process, whose CPU is counted per request
        # beside the server's own (MariaDB's mysqld; None when in-process),
        # and the database it serves from there.
        self.db_pid = None
        self.db_name = None

    def call(self, token, method, path, body=None, timeout=600):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = "application/scim+json"
        try:
            conn.request(method, self.base_path + path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300]
        return r.status, parsed

    def wait_ready(self, token, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                die(f"{self.label} exited during start-up:\n{tail(self.log_file)}")
            try:
                status, body = self.call(token, "GET", "/ServiceProviderConfig", timeout=5)
                if status == 200:
                    self.spc = body
                    return
            except OSError:
                pass
            time.sleep(0.25)
        die(f"{self.label} not ready after {seconds} s:\n{tail(self.log_file)}")

    def count(self, token, resource):
        status, body = self.call(token, "GET", f"/{resource}?count=0")
        if status != 200:
            die(f"{self.label}: counting {resource} answered {status}: {body}")
        return body["totalResults"]


def tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- building and starting the servers ---------------------------------


def build():
    """The server and the seeder (roster-bench), release builds. BENCH_ROSTER_BIN
    names another server binary to measure instead (an older build, say)."""
    log("cargo build --release -p roster -p roster-bench")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "roster", "-p", "roster-bench"], cwd=ROOT, check=True)
    server = os.environ.get("BENCH_ROSTER_BIN") or ROOT / "target" / "release" / "roster"
    return server, ROOT / "target" / "release" / "roster-bench"


def mariadb_url(server, name, via):
    """Roster's URL for database `name` on the private MariaDB. Over its Unix
    socket by default, as a same-host install would connect: the TCP stack
    on loopback costs Roster and mysqld more CPU per request (BENCHMARKS.md,
    "Measurement notes")."""
    if via == "tcp":
        return f"{server.rstrip('/')}/{name}"
    creds = urllib.parse.urlsplit(server)
    sock = urllib.parse.quote(os.environ["MARIADB_SOCKET"], safe="/")
    return f"mysql://{creds.username}:{creds.password}@localhost/{name}?socket={sock}"


def mariadb_root(sql):
    """`sql`'s output through the root client of bench/run's MariaDB."""
    sock = os.environ["MARIADB_SOCKET"]
    cmd = ["mariadb", "--no-defaults", f"--socket={sock}", "--user=root", "-N", "-B", "-e", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def mariadb_disk_reads():
    """Pages InnoDB has read from disk since it started: what the buffer
    pool did not hold. None without bench/run's MariaDB."""
    if not os.environ.get("MARIADB_SOCKET"):
        return None
    return int(mariadb_root("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'").split()[1])


def settle_mariadb():
    """Waits, three minutes at most, until InnoDB has written out the pages
    the seed dirtied: measured while the page cleaner still flushes
    gigabytes, the first workloads pay for the seed's writes (bench/run
    exports the socket; without it, nothing to do)."""
    if not os.environ.get("MARIADB_SOCKET"):
        return
    started = time.monotonic()
    # The page cleaner writes at innodb_io_capacity pages a second (200 by
    # default): a buffer pool that holds the whole seed would take minutes.
    capacity = mariadb_root("SELECT @@innodb_io_capacity, @@innodb_io_capacity_max").split()
    mariadb_root("SET GLOBAL innodb_io_capacity_max = 100000")
    mariadb_root("SET GLOBAL innodb_io_capacity = 100000")
    mariadb_root("SET GLOBAL innodb_max_dirty_pages_pct = 0")
    dirty = None
    while time.monotonic() - started < 180:
        dirty = int(mariadb_root("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").split()[1])
        if dirty < 100:
            break
        time.sleep(2)
    mariadb_root("SET GLOBAL innodb_max_dirty_pages_pct = 90")
    mariadb_root(f"SET GLOBAL innodb_io_capacity = {capacity[0]}")
    mariadb_root(f"SET GLOBAL innodb_io_capacity_max = {capacity[1]}")
    log(f"MariaDB: the seed's pages written out in {time.monotonic() - started:.0f} s ({dirty} dirty left)")


def start_roster(db, args, tmp, token, roster_bin, seed_bin, sizes, server_env=None):
    """Seeds a fresh database and starts Roster on it; `server_env` adds to
    the server's environment only (e.g. a setting to compare on and off)."""
    label = {"sqlite": "Roster/SQLite", "mariadb": "Roster/MariaDB"}[db]
    if db == "sqlite":
        url = f"sqlite://{tmp}/roster-bench.db?mode=rwc"
    else:
        server = os.environ.get("ROSTER_BENCH_MYSQL_URL")
        if not server:
            die("ROSTER_BENCH_MYSQL_URL unset: run bench/run, which starts MariaDB")
        name = f"roster_bench_{secrets.token_hex(4)}"
        mariadb_root(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        url = mariadb_url(server, name, args.mariadb_via)
    ids_file = tmp / f"{db}.ids"
    groups_file = tmp / f"{db}.groups.json"
    log(f"{label}: seeding {args.users:,} users, {args.groups} groups (sizes {list(sizes)})")
    started = time.monotonic()
    subprocess.run(
        [
            seed_bin, "seed", "--shape", "run", "--database-url", url, "--users", str(args.users), "--groups", str(args.groups),
            "--sizes", ",".join(map(str, sizes)), "--ids-out", ids_file, "--groups-out", groups_file,
        ],
        check=True,
    )
    seeded = time.monotonic() - started
    if db == "mariadb":
        settle_mariadb()
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        ROSTER_BIND=f"127.0.0.1:{port}",
        ROSTER_BEARER_TOKEN=token,
        # 204 answers to group PATCH, as the reference server gives: without
        # it every member change returns the whole group, O(members).
        ROSTER_SCIM__GROUP_PATCH_NO_CONTENT="true",
        RUST_LOG=os.environ.get("RUST_LOG", "info"),
    )
    env.update(server_env or {})
    for k in ("ROSTER_CONFIG", "ROSTER_BASE_PATH", "ROSTER_BASIC_AUTH"):
        env.pop(k, None)
    log_file = tmp / f"{db}.log"
    # cwd=tmp: no config/default.toml there, so the built-in defaults apply
    # whatever the checkout's file says.
    cmd = [str(roster_bin), "serve"]
    proc = spawn(cmd, log_file, env=env, cwd=tmp)
    s = Server(db, label, port, "/scim/v2", proc, log_file)
    # How it was started, for the sweep to start it again pinned.
    s.cmd, s.env, s.cwd = cmd, env, tmp
    if db == "mariadb":
        s.db_pid = mariadb_pid()
        s.db_name = name
    s.wait_ready(token)
    s.ids_file = ids_file
    s.ids = ids_file.read_text().split()
    s.groups = json.loads(groups_file.read_text())
    s.seed_seconds = seeded
    return s


def start_peer(args, tmp, token, sizes):
    venv = tmp / "peer-venv"
    log(f"scim2-server: installing {args.peer_version} into a throwaway venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", f"scim2-server=={args.peer_version}"],
        check=True,
    )
    port = free_port()
    log_file = tmp / "peer.log"
    # `--opt=value`: a token starting with "-" (1 in 32 from token_urlsafe)
    # would otherwise be taken by argparse for an option.
    proc = spawn([str(venv / "bin" / "scim2-server"), "--port", str(port), f"--bearer-token={token}"], log_file, cwd=tmp)
    s = Server("peer", "scim2-server", port, "/v2", proc, log_file)
    s.wait_ready(token)
    s.python = subprocess.run(
        [venv / "bin" / "python", "-c", "import platform; print(platform.python_version())"],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout.strip()
    log(f"scim2-server: seeding {args.users:,} users through POST /Bulk, {args.groups} groups")
    started = time.monotonic()
    ids = []
    for start in range(0, args.users, 1000):
        stop = min(start + 1000, args.users)
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": user_body(i)} for i in range(start, stop)]
        status, body = s.call(token, "POST", "/Bulk", {"schemas": [BULK_URN], "Operations": ops})
        if status != 200:
            die(f"peer Bulk answered {status}: {body}")
        for op in body["Operations"]:
            if op.get("status") != "201":
                die(f"peer Bulk operation failed: {op}")
            ids.append(op["location"].rstrip("/").rsplit("/", 1)[1])
    groups = {}
    for name, members in group_plan(args.users, args.groups, sizes):
        # Members in chunks: the peer caps request bodies at 1 MiB.
        first, rest = members[:5000], members[5000:]
        body = dict(group_body(name), members=[{"value": ids[i]} for i in first])
        status, created = s.call(token, "POST", "/Groups", body)
        if status != 201:
            die(f"peer POST /Groups answered {status}: {created}")
        gid = created["id"]
        for k in range(0, len(rest), 5000):
            add = [{"value": ids[i]} for i in rest[k : k + 5000]]
            patch = {"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": add}]}
            status, answer = s.call(token, "PATCH", f"/Groups/{gid}", patch)
            if status not in (200, 204):
                die(f"peer PATCH /Groups answered {status}: {answer}")
        groups[name] = gid
    s.seed_seconds = time.monotonic() - started
    s.ids = ids
    s.ids_file = tmp / "peer.ids"
    s.ids_file.write_text("\n".join(ids) + "\n")
    s.groups = groups
    return s


# --- what MariaDB costs without Roster ----------------------------------


def mariadb_floor(server, clients, queries=100_000):
    """mysqld's own rate and CPU per statement on this host, driven by
    its own load client (mariadb-slap, text protocol, `clients`
    connections over the socket) with nothing else running: the cheapest
    statement there is, and one user's document by primary key from the
    seeded table. No server that sends a statement per request to this
    mysqld can pass these rates, and each of its requests costs mysqld at
    least this CPU."""
    sock = os.environ["MARIADB_SOCKET"]
    client = ["--no-defaults", f"--socket={sock}", "--user=root"]
    keys = subprocess.run(
        ["mariadb", *client, "-N", "-B", server.db_name, "-e", "SELECT HEX(tenant_id), HEX(id) FROM users LIMIT 1"],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout.split()
    probes = [
        ("SELECT 1", "SELECT 1"),
        ("a user's document by primary key", f"SELECT doc FROM users WHERE tenant_id = x'{keys[0]}' AND id = x'{keys[1]}'"),
    ]
    found = []
    for name, sql in probes:
        settle([server.db_pid])
        cpu, started = cpu_seconds(server.db_pid), time.monotonic()
        subprocess.run(
            ["mariadb-slap", *client, f"--create-schema={server.db_name}", "--no-drop", f"--concurrency={clients}",
             "--iterations=1", f"--number-of-queries={queries}", f"--query={sql}"],
            check=True, stdout=subprocess.DEVNULL,
        )
        wall, cpu = time.monotonic() - started, cpu_seconds(server.db_pid) - cpu
        found.append((name, queries / wall, cpu / queries * 1e6))
        log(f"MariaDB alone, {name}: {queries / wall:,.0f} statements/s, mysqld {cpu / queries * 1e6:.1f} us each")
    return found


# --- checks that the servers hold the same data -------------------------


def projection(user):
    emails = sorted(
        ({"value": e.get("value"), "type": e.get("type"), "primary": bool(e.get("primary"))} for e in user.get("emails", [])),
        key=lambda e: e["value"],
    )
    return {k: user.get(k) for k in ("userName", "externalId", "name", "displayName", "active")} | {"emails": emails}


def verify_same_data(servers, token, users, groups):
    for s in servers:
        n_users, n_groups = s.count(token, "Users"), s.count(token, "Groups")
        if (n_users, n_groups) != (users, groups):
            die(f"{s.label} holds {n_users} users and {n_groups} groups, expected {users} and {groups}")
    for i in sorted({0, users // 2, users - 1}):
        seen = []
        for s in servers:
            f = q(f'userName eq "user{i:07d}@bench.example"')
            status, body = s.call(token, "GET", f"/Users?filter={f}")
            if status != 200 or body.get("totalResults") != 1:
                die(f"{s.label}: user {i} not found by userName ({status}): {body}")
            user = body["Resources"][0]
            if user["id"] != s.ids[i]:
                die(f"{s.label}: user {i} has id {user['id']}, the ids file says {s.ids[i]}")
            seen.append(projection(user))
        if any(p != seen[0] for p in seen):
            die(f"user {i} differs between servers: {seen}")
    for s in servers:
        gid = s.groups["bench-size-100"]
        status, body = s.call(token, "GET", f"/Groups/{gid}")
        members = {m["value"] for m in (body or {}).get("members", [])}
        if status != 200 or members != set(s.ids[:100]):
            die(f"{s.label}: group bench-size-100 does not hold users 0..99 ({status})")
    log("same data in every server: counts, sample users and a group agree")


# --- workloads ----------------------------------------------------------


class Workload:
    def __init__(self, key, name, method, path, body=None, expect=(200,), prepare=None, connections=None):
        self.key, self.name, self.method, self.path, self.body = key, name, method, path, body
        self.expect, self.prepare = expect, prepare
        # None: --connections. 1: a latency probe without queueing.
        self.connections = connections


def selected(args, default):
    """The workloads --only names (else `default`), by key prefix."""
    keys = [k.strip() for k in (args.only or default).split(",")]
    return [w for w in workloads(args.users) if any(w.key.startswith(k) for k in keys)]


def cpu_probe(s):
    """A probe for `interleaved`: Roster's CPU per request, for the log line."""
    return lambda r: f", Roster CPU {r['cpu_us']:,.0f} µs/req" if "cpu_us" in r else ""


def interleaved(args, w, pair, token, pids, probe=None):
    """Runs `w` on both servers of `pair` in args.rounds rounds, alternating
    which goes first so that drift hits both alike. Returns each server's
    results (by key) of the rounds that ran. `probe`, if given, is called
    as probe(server) before each run and returns what to call with the
    result after it: a suffix for the log line (it may add to the result)."""
    seen = {s.key: [] for s in pair}
    for i in range(args.rounds):
        for s in (pair if i % 2 == 0 else pair[::-1]):
            settle(pids)
            after = probe(s) if probe else None
            r = measure(args, w, s, token)
            note = after(r) if after else ""
            if "rps" in r:
                seen[s.key].append(r)
            log(f"{w.key:<18} {s.label:<28} {shown(r, args)}{note}")
    return seen


def rates(results):
    """Each round's req/s, for a table cell."""
    return ", ".join(f"{r['rps']:,.0f}" for r in results)


def medians(seen, metrics=("rps", "p99", "cpu_us")):
    """Each server's median round, metric by metric (0 where a round lacks one)."""
    return {k: {m: statistics.median(r.get(m, 0.0) for r in v) for m in metrics} for k, v in seen.items()}


def print_table(columns, lines):
    """A Markdown table of `lines` under `columns`."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for line in lines:
        print(line)


def workloads(users):
    deep = int(users * DEPTH)
    by_name = "/Users?filter=" + q('userName eq "user__I__@bench.example"')
    by_email = "/Users?filter=" + q('emails[type eq "work"].value eq "u__I__@work.example"')
    w = [
        Workload("ceiling", "ceiling: GET /ServiceProviderConfig", "GET", "/ServiceProviderConfig"),
        Workload("get-id", "GET /Users/{id}", "GET", "/Users/__ID__"),
        Workload("filter-username", "filter userName eq", "GET", by_name),
        Workload("filter-email", 'filter emails[type eq "work"].value eq', "GET", by_email),
        # The same filters one request at a time: their latency without the
        # queueing 16 connections on 2 shared cores add (the 1M-user target).
        Workload("filter-username-c1", "filter userName eq, 1 connection", "GET", by_name, connections=1),
        Workload("filter-email-c1", 'filter emails[type eq "work"].value eq, 1 connection', "GET", by_email, connections=1),
        Workload(
            "groups-page-excl", "GET /Groups page 1, excludedAttributes=members", "GET",
            f"/Groups?startIndex=1&count={PAGE}&excludedAttributes=members",
        ),
    ]
    for size in SIZES:
        w.append(
            Workload(
                f"group-excl-{size}", f"GET /Groups/{{id}}?excludedAttributes=members, {size:,} members", "GET",
                "/Groups/__GID__?excludedAttributes=members", prepare=sized_group(size),
            )
        )
    w += [
        Workload("page-index-1", "GET /Users page 1 (index)", "GET", f"/Users?startIndex=1&count={PAGE}"),
        Workload(
            "page-index-deep", f"GET /Users at {deep:,} (index, startIndex={deep + 1})", "GET",
            f"/Users?startIndex={deep + 1}&count={PAGE}",
        ),
        Workload("page-cursor-1", "GET /Users page 1 (cursor)", "GET", f"/Users?cursor=&count={PAGE}", prepare=cursor_page(0)),
        Workload(
            "page-cursor-deep", f"GET /Users at {deep:,} (cursor)", "GET", f"/Users?cursor=__CURSOR__&count={PAGE}",
            prepare=cursor_page(deep),
        ),
        Workload("patch-user", "PATCH user active", "PATCH", "/Users/__ID__", PATCH_ACTIVE, expect=(200, 204)),
    ]
    for size in SIZES:
        w.append(
            Workload(
                f"patch-group-{size}", f"PATCH group remove+add 1 member, {size:,} members", "PATCH",
                "/Groups/__GID__", PATCH_MEMBER, expect=(200, 204), prepare=sized_group(size),
            )
        )
    # Late: with a 100,000-member group its answers are the largest by
    # far, and the RSS column should show the peak before them.
    w.append(Workload("groups-page", "GET /Groups page 1 (100 groups, with members)", "GET", f"/Groups?startIndex=1&count={PAGE}"))
    # Last: it grows the data every other workload reads.
    w.append(Workload("post-user", "POST /Users", "POST", "/Users", POST_BODY, expect=(201,)))
    return w


def sized_group(size):
    def prepare(server, token, path):
        gid = server.groups.get(f"bench-size-{size}")
        if gid is None:
            return None, f"needs --users >= {size:,}"
        return path.replace("__GID__", gid), None

    return prepare


def cursor_page(depth):
    """Finds the cursor that starts `depth` users in, walking the list once."""

    def prepare(server, token, path):
        if not (server.spc.get("pagination") or {}).get("cursor"):
            return None, "no cursor paging (ServiceProviderConfig pagination.cursor)"
        if depth == 0:
            return path, None
        # Walked with the measured page size: a server may bind a cursor to
        # the count it was issued for (scim2-server answers invalidCount).
        cursor, seen = "", 0
        for _ in range(depth // PAGE + 1):  # bounded: one pass over `depth` users
            status, body = server.call(token, "GET", f"/Users?cursor={q(cursor)}&count={PAGE}")
            if status != 200:
                return None, f"cursor walk answered {status} at {seen:,}"
            seen += len(body.get("Resources", []))
            cursor = body.get("nextCursor")
            if seen >= depth or not cursor:
                break
        if seen < depth or not cursor:
            return None, f"cursor walk stopped at {seen:,}"
        return path.replace("__CURSOR__", q(cursor)), None

    return prepare


def fill(template, server, n, tag):
    """The Python twin of request() in bench/wrk.lua, for the pre-check."""
    values = {
        "ID": lambda: random.choice(server.ids),
        "I": lambda: f"{random.randrange(n):07d}",
        "MID": lambda: random.choice(server.ids[:100]),
        "U": lambda: f"{tag}-0-1",
        "BOOL": lambda: "false",
    }
    drawn = {}

    def sub(m):
        k = m.group(1)
        if k not in values:
            return m.group(0)
        if k not in drawn:
            drawn[k] = values[k]()
        return drawn[k]

    return re.sub(r"__([A-Z]+)__", sub, template) if template else template


def run_wrk(args, server, token, method, path, body, seconds, tag, connections=None):
    env = dict(os.environ, BENCH_TOKEN=token)
    conns = connections or args.connections
    threads = min(args.threads, conns)
    # wrk counts an answer slower than --timeout as a timeout error and
    # leaves it out of the latency histogram, and counts it again as a
    # status error if it was one. No answer can arrive after the run ends,
    # so a timeout past the run keeps every answer in the histogram and
    # every failure counted once.
    cmd = [
        "wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", f"--timeout={seconds + 5}s",
        "-s", str(LUA), f"http://127.0.0.1:{server.port}", "--",
        method, server.base_path + path, body or "", str(server.ids_file), str(args.users), tag,
    ]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds * 4 + 120)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    die(f"wrk gave no result against {server.label}:\n{out.stdout}")


def error_lines(log_file, offset, limit=5):
    """Sample of what a server logged about failed requests since `offset`:
    access-log lines with a 4xx/5xx status (both servers log each request)
    and warnings or errors."""
    with open(log_file, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    hits = [
        line.strip()
        for line in text.splitlines()
        if re.search(r'" [45]\d\d ', line) or re.search(r"\b(WARN|ERROR|Traceback)\b", line)
    ]
    return hits[:limit]


def measure(args, w, server, token):
    path = w.path
    if w.prepare:
        path, reason = w.prepare(server, token, path)
        if reason:
            return {"na": reason}
    tag = f"{w.key}-{server.key}-{secrets.token_hex(3)}"
    status, body = server.call(token, w.method, fill(path, server, args.users, tag + "-check"), fill(w.body, server, args.users, tag + "-check"))
    if status not in w.expect:
        detail = (body or {}).get("detail") if isinstance(body, dict) else body
        return {"na": f"answered {status}: {str(detail)[:80]}"}
    if args.warmup > 0:
        run_wrk(args, server, token, w.method, path, w.body, args.warmup, tag + "-w", w.connections)
    before = server.count(token, "Users") if w.method == "POST" else None
    log_offset = server.log_file.stat().st_size
    cpu0 = cpu_now(server)
    r = run_wrk(args, server, token, w.method, path, w.body, args.duration, tag, w.connections)
    cpu1 = cpu_now(server)
    secs = r["duration_us"] / 1e6
    errors = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    # (timeout stays 0 given run_wrk's --timeout; kept so a change there
    # cannot hide failures.)
    result = {
        "rps": r["requests"] / secs if secs else 0.0,
        "p50": r["p50_us"] / 1000,
        "p99": r["p99_us"] / 1000,
        "errors": errors,
        "requests": r["requests"],
    }
    if r["requests"]:
        # CPU per answered request: the server, its database server, wrk.
        # Requests still in flight when wrk stops are in the CPU and not
        # in the count, a bias of at most one request per connection.
        server_cpu, db_cpu, wrk_cpu = (b - a for a, b in zip(cpu0, cpu1))
        result["cpu_us"] = server_cpu / r["requests"] * 1e6
        result["db_cpu_us"] = db_cpu / r["requests"] * 1e6 if server.db_pid else None
        result["wrk_cpu_us"] = wrk_cpu / r["requests"] * 1e6
        result["cores"] = (server_cpu + db_cpu + wrk_cpu) / secs if secs else None
    if r["requests"] == 0 or r["max_us"] == 0:
        # Nothing answered within the run: no latency to report, and a rate
        # below one request per run.
        result.update(p50=None, p99=None, none_within=args.duration)
    if errors:
        for line in error_lines(server.log_file, log_offset):
            log(f"{server.label} log: {line}")
    if before is not None:
        # Every 2xx answer must be one new user: the names are unique per
        # request, so a duplicate would have been a 409 and an error.
        created = server.count(token, "Users") - before
        ok = r["requests"] - r["status"]
        slack = (w.connections or args.connections) + r["read"]
        if not ok <= created <= ok + slack:
            result["note"] = f"{created} users created for {ok} 2xx answers"
            log(f"{server.label}: POST created {created} users for {ok} 2xx answers")
        result["created"] = created
    return result


# --- report -------------------------------------------------------------


# Below this many completed requests a rate says little: requests still in
# flight when the run ends are not counted, so the rate is a floor.
FEW = 20


def shown(r, args):
    if "na" in r:
        text = r["na"]
    elif r["p50"] is None:
        text = f"no answer within {args.duration} s, {r['errors']} errors"
    else:
        text = f"{r['rps']:,.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['errors']} errors"
    if "created" in r:
        text += f", {r['created']:,} users created"
    return text


def median_round(rs):
    """The round whose req/s is the median (the lower of the middle two),
    with its own latencies and errors: one round a disturbance of the
    machine slowed or sped up does not decide a ratio. A workload a server
    cannot run is reported as such."""
    na = [r for r in rs if "na" in r]
    if na:
        return na[0]
    ranked = sorted(rs, key=lambda r: r["rps"])
    return ranked[(len(ranked) - 1) // 2]


def rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def ratio(x):
    return f"{x:,.0f}x" if x >= 100 else f"{x:.1f}x"


def cpu_table(s, peer, results, wl):
    """Where each workload's CPU went, per answered request: on a host
    whose cores all run the servers and wrk, req/s is about the cores
    divided by the sum of these, so a ratio to the peer is bounded by what
    a request costs here."""
    db = s.db_pid is not None
    head = "| Workload | Roster CPU us/req |" + (" mysqld CPU us/req |" if db else "") + " wrk CPU us/req | cores busy |"
    rule = "|---|---:|" + ("---:|" if db else "") + "---:|---:|"
    if peer:
        head += " peer CPU us/req | wrk CPU us/req (peer) | cores busy (peer) |"
        rule += "---:|---:|---:|"
    out = ["", head, rule]

    def cells(r, with_db):
        if "cpu_us" not in r:
            return [""] * (4 if with_db else 3)
        row = [f"{r['cpu_us']:,.1f}"]
        if with_db:
            row.append(f"{r['db_cpu_us']:,.1f}")
        return row + [f"{r['wrk_cpu_us']:,.1f}", f"{r['cores']:.2f}" if r.get("cores") is not None else ""]

    for w in wl:
        r = results.get((w.key, s.key))
        if r is None:
            continue
        row = [w.name] + cells(r, db)
        if peer:
            row += cells(results.get((w.key, "peer"), {}), False)
        out.append("| " + " | ".join(row) + " |")
    return out


def render(db_servers, peer, results, wl, rss, args, floor):
    out = []
    for s in db_servers:
        ceiling = results[("ceiling", s.key)].get("rps")
        peer_ceiling = results.get(("ceiling", "peer"), {}).get("rps") if peer else None
        out.append(f"\n### {s.label}\n")
        head = "| Workload | req/s | p50 ms | p99 ms | errors | of ceiling | peak RSS MB |"
        rule = "|---|---:|---:|---:|---:|---:|---:|"
        if peer:
            head += " peer req/s | peer p50 ms | peer p99 ms | peer errors | peer of ceiling | Roster / peer |"
            rule += "---:|---:|---:|---:|---:|---:|"
        out += [head, rule]
        notes = []
        few = [False]

        def cells(r, ceil):
            if "na" in r:
                if r["na"] not in notes:
                    notes.append(r["na"])
                return [f"n/a [{notes.index(r['na']) + 1}]"] + [""] * 4
            share = f"{r['rps'] / ceil:.0%}" if ceil else ""
            if r["p50"] is None:
                slow = f"> {r['none_within']} s"
                return ["0", slow, slow, f"{r['errors']:,}", share]
            mark = ""
            if r["requests"] < FEW:
                few[0] = True
                mark = "\\*"
            return [rate(r["rps"]) + mark, f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['errors']:,}", share]

        for w in wl:
            r = results.get((w.key, s.key))
            if r is None:
                continue
            row = [w.name] + cells(r, ceiling) + [f"{r['rss']:.0f}" if r.get("rss") else ""]
            if peer:
                pr = results.get((w.key, "peer"), {"na": "not run"})
                row += cells(pr, peer_ceiling)
                if "rps" in r and "rps" in pr and pr["rps"] > 0:
                    row.append(ratio(r["rps"] / pr["rps"]))
                elif "rps" in r and "rps" in pr and r["rps"] > 0:
                    # The peer finished nothing: its rate is below one
                    # request per run, so the ratio is at least this.
                    row.append("> " + ratio(r["rps"] * pr["none_within"]))
                else:
                    row.append("")
            out.append("| " + " | ".join(row) + " |")
        out.append("")
        mb, during = rss[s.key]
        line = f"Peak RSS (VmHWM) of the Roster process: {mb:.1f} MB, reached during {during}"
        if peer and rss.get("peer", (None,))[0] is not None:
            mb, during = rss["peer"]
            line += f"; of scim2-server: {mb:.1f} MB, reached during {during}"
        out.append(line + ".")
        out += cpu_table(s, peer, results, wl)
        if s.key in floor:
            out.append("")
            out.append(
                f"MariaDB alone, driven by mariadb-slap ({args.connections} connections over the socket, text protocol, "
                "nothing else running), as a floor for any server reading through it on this host: "
                + "; ".join(f"{name}: {rps:,.0f} statements/s, mysqld {us:.1f} us CPU each" for name, rps, us in floor[s.key])
                + "."
            )
        for k, n in enumerate(notes, 1):
            out.append(f"[{k}] {n}")
        if few[0]:
            out.append(
                f"\\* fewer than {FEW} requests completed within the run: requests still in flight at its end "
                "are not counted, so the rate is a floor and a ratio against it overstates the gap."
            )
        out.append("")
    return "\n".join(out)


def machine():
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) / 1024 / 1024
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return os.cpu_count(), mem, model


def versions(servers):
    def run(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    v = {
        "roster": run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
        "wrk": run(["wrk", "-v"]).splitlines()[0].split(" [")[0] if shutil.which("wrk") else "?",
    }
    if any(s.key == "mariadb" for s in servers):
        v["mariadb"] = mariadb_root("SELECT VERSION()").strip()
    return v


def write_benchmarks(text):
    path = ROOT / "BENCHMARKS.md"
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n" + text)
    log(f"appended to {path}")


# --- main ---------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark Roster (SQLite, MariaDB) against the reference server scim2-server.",
    )
    p.add_argument("--users", type=int, default=10_000, help="seeded users (default 10,000; up to 1,000,000)")
    p.add_argument("--groups", type=int, default=100, help="seeded groups (default 100)")
    p.add_argument("--db", default="sqlite,mariadb", help="comma-separated: sqlite, mariadb (default both)")
    p.add_argument("--mariadb-via", choices=("socket", "tcp"), default="socket", help="how Roster reaches MariaDB (default its Unix socket)")
    p.add_argument("--no-peer", action="store_true", help="skip scim2-server (automatic above 100,000 users)")
    p.add_argument("--peer-version", default=PEER_VERSION, help=f"scim2-server version from PyPI (default {PEER_VERSION})")
    p.add_argument("--duration", type=int, default=10, help="seconds measured per workload and server (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each measurement (default 2)")
    p.add_argument("--rounds", type=int, default=1, help="measurements per workload and server, taking turns; the table shows each one's median round by req/s (default 1)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--only", default="", help="comma-separated workload keys or prefixes (e.g. ceiling,get-id,patch-group)")
    p.add_argument("--write", action="store_true", help="append the tables to BENCHMARKS.md")
    p.add_argument(
        "--sweep-cores", default="",
        help="comma-separated core counts: run the workloads (Roster only, no peer) with Roster pinned to that many cores (taskset)",
    )
    p.add_argument(
        "--sweep-pools", default="",
        help="comma-separated pool sizes (database.max_connections) to run the workloads at; with --sweep-cores, at each count",
    )
    p.add_argument("--db-cores", type=int, default=0, help="in a sweep, pin mysqld to this many cores after Roster's (default 0: not pinned)")
    a = p.parse_args()
    try:
        a.sweep_cores = [int(c) for c in a.sweep_cores.split(",") if c.strip()]
        a.sweep_pools = [int(c) for c in a.sweep_pools.split(",") if c.strip()]
    except ValueError:
        p.error("--sweep-cores and --sweep-pools take comma-separated numbers")
    if any(n < 1 for n in a.sweep_cores + a.sweep_pools) or a.db_cores < 0:
        p.error("sweep core counts and pool sizes must be at least 1")
    a.sweeping = bool(a.sweep_cores or a.sweep_pools)
    if a.sweeping:
        a.no_peer = True
    a.db = [d.strip() for d in a.db.split(",") if d.strip()]
    if not a.db or any(d not in ("sqlite", "mariadb") for d in a.db):
        p.error("--db takes sqlite, mariadb or both")
    if not 1000 <= a.users <= 10_000_000:
        p.error("--users must be between 1,000 and 10,000,000")
    if a.groups < len(SIZES):
        p.error(f"--groups must be at least {len(SIZES)}")
    if a.connections < a.threads:
        p.error("--connections must be at least --threads")
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    return a


def main():
    args = parse_args()
    # SIGTERM (from bench/run's trap) unwinds through the finally below, so
    # every server this process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        die("wrk not found (bench/run installs it)")
    tmp = Path(os.environ.get("BENCH_TMP") or tempfile.mkdtemp(prefix="roster-bench."))
    token = secrets.token_urlsafe(24)
    peer_on = not args.no_peer
    if peer_on and args.users > PEER_MAX_USERS:
        log(f"scim2-server skipped: {args.users:,} users is beyond what it holds in memory ({PEER_MAX_USERS:,} max)")
        peer_on = False
    sizes = [s for s in SIZES if s <= args.users]
    wl = workloads(args.users)
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        wl = [w for w in wl if w.key == "ceiling" or any(w.key.startswith(k) for k in keys)]
    roster_bin, seed_bin = build()
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        db_servers = [start_roster(db, args, tmp, token, roster_bin, seed_bin, sizes) for db in args.db]
        peer = start_peer(args, tmp, token, sizes) if peer_on else None
        servers = db_servers + ([peer] if peer else [])
        verify_same_data(servers, token, args.users, args.groups)
        floor = {} if args.sweeping else {s.key: mariadb_floor(s, args.connections) for s in db_servers if s.db_pid}
        # Back to back per workload, so a disturbance of the machine hits
        # the servers alike: SQLite, then the peer, then MariaDB.
        order = db_servers[:1] + ([peer] if peer else []) + db_servers[1:]
        pids = [s.proc.pid for s in servers]
        mysqld = mariadb_pid()
        if mysqld:
            pids.append(mysqld)
        v = versions(servers)
        # A buffer pool smaller than the data turns lookups into page reads
        # (mysqld's CPU per request doubled at 1,000,000 users): counted, so
        # a run says whether its MariaDB figures were read from memory.
        disk_reads = mariadb_disk_reads()
        if args.sweeping:
            if shutil.which("taskset") is None:
                die("the sweep needs taskset (util-linux)")
            rows = cores_sweep.sweep(
                args, db_servers, token, [w for w in wl if w.key != "ceiling" or args.only == "ceiling"],
                measure, settle, spawn, log, os.cpu_count(),
            )
            sweep_text = cores_sweep.render(rows, args)
        results = {}
        # VmHWM after start-up and seeding checks, then after each workload:
        # the table names the workload that drove each peak.
        rss = {s.key: (peak_rss_mb(s.proc.pid), "start-up") for s in servers}
        for w in ([] if args.sweeping else wl):
            rounds = {s.key: [] for s in order}
            for _ in range(args.rounds):
                for s in order:
                    settle(pids)
                    r = measure(args, w, s, token)
                    rounds[s.key].append(r)
                    # Requests wrk hung up on may still be running: let them
                    # finish before reading the peak, so it is this workload's.
                    settle([s.proc.pid])
                    hwm = peak_rss_mb(s.proc.pid)
                    r["rss"] = hwm
                    if hwm is not None and hwm > (rss[s.key][0] or 0) + 1:
                        rss[s.key] = (hwm, w.name)
                    log(f"{w.key:<18} {s.label:<15} {shown(r, args)}")
            for s in order:
                # The peak RSS column reads VmHWM, which only grows: the
                # last round's is the workload's.
                results[(w.key, s.key)] = dict(median_round(rounds[s.key]), rss=rounds[s.key][-1].get("rss"))
                if args.rounds > 1:
                    log(f"{w.key:<18} {s.label:<15} median of {args.rounds}: {shown(results[(w.key, s.key)], args)}")
        if disk_reads is not None:
            disk_reads = mariadb_disk_reads() - disk_reads
            v["buffer_pool"] = mariadb_root("SELECT @@innodb_buffer_pool_size").strip()
            log(f"MariaDB: {disk_reads:,} pages read from disk while measuring")
    finally:
        stop_all()
    cores, mem, model = machine()
    date = started.strftime("%Y-%m-%d")
    command = " ".join(["bench/run"] + [a for a in sys.argv[1:] if a != "--write"])
    header = [
        f"## Roster vs scim2-server, {args.users:,} users ({date}, {cores} cores, {mem:.1f} GiB, release build)",
        "",
        f"`{command}`: {v['wrk']}, {args.threads} threads, {args.connections} connections (1 where the workload says so), "
        + (f"{args.duration} s per workload and server after {args.warmup} s of warm-up, back to back "
           if args.rounds == 1 else
           f"{args.rounds} rounds of {args.duration} s per workload and server, each after {args.warmup} s of warm-up, "
           "the servers taking turns; each cell is the server's median round by req/s, back to back ")
        + f"({', '.join(s.label for s in db_servers[:1] + ([peer] if peer else []) + db_servers[1:])}) on the same host over loopback.",
        f"Machine: {model}, {cores} cores, {mem:.1f} GiB, Linux {platform.release()}. Roster {v['roster']}, "
        "SQLite WAL synchronous=NORMAL"
        + (f"; MariaDB {v['mariadb']} with innodb_flush_log_at_trx_commit=1, reached over its {'Unix socket' if args.mariadb_via == 'socket' else 'TCP port'}" if "mariadb" in v else "")
        + (f", a {int(v['buffer_pool']) / 2**30:g} GiB buffer pool, {disk_reads:,} pages read from disk while measuring" if "buffer_pool" in v else "")
        + (f"; scim2-server {args.peer_version} on Python {peer.python} (in memory, wsgiref threads, HTTP/1.0)" if peer else "")
        + ".",
        f"Data: {args.users:,} users with two emails each, {args.groups} groups "
        f"(sized groups of {', '.join(f'{s:,}' for s in sizes)} members, the others 10 members); "
        "the same bearer token, bodies and random choices for every server. Errors are non-2xx answers "
        "plus socket errors and timeouts; 'of ceiling' is req/s over the same server's "
        "GET /ServiceProviderConfig req/s; 'peak RSS MB' is the Roster process's VmHWM after the workload, so it "
        "only grows down the table. Roster answers group PATCH with 204 (group_patch_no_content), as scim2-server does. "
        "Latency percentiles are wrk's, which corrects for coordinated omission. "
        "'CPU us/req' is a process's user and system CPU during the measured run over the requests answered in it "
        "(Roster, the mysqld it reads through, and wrk); 'cores busy' is their sum over the run's wall time: "
        "near the host's cores, a workload's rate is bounded by what its requests cost in CPU.",
        "",
    ]
    if args.sweeping:
        title = header[0].replace("Roster vs scim2-server", "Roster across cores and pool sizes")
        text = "\n".join([title, *header[1:4]]) + "\n" + sweep_text
    else:
        text = "\n".join(header) + render(db_servers, peer, results, wl, rss, args, floor)
    print(text)
    if args.write:
        write_benchmarks(text)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
