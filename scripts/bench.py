#!/usr/bin/env python3
"""Runs Parlor and its three baselines side by side and writes docs/benchmarks.md.

    scripts/bench.py                        # the full scenarios (about 27 minutes)
    scripts/bench.py --quick                # shorter runs, same shape (about 13 minutes)
    scripts/bench.py --compare OLD/parlor   # every Parlor scenario for both binaries
                                            # (about 45 minutes; 20 with --quick)

--parlor, --compare, --load, --axum, --history, --search and --bun take binaries from anywhere
(defaults: target/release/ and bench/node_modules/). With --compare every Parlor
scenario runs for both binaries in the same run, labelled "parlor" and
"parlor (before)", so before/after ratios come from one run. --only runs some
scenarios (e.g. `--only saturation,burst`); the report then holds only those.

Servers run pinned to CPU 0 and the load generator to CPU 1 (taskset), so the two
never compete for a core. Every figure is measured in the same run as the baselines
it is compared with; the commands are written into the report, and the saturation
steps are drawn as docs/saturation.svg (standard library only).
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_WS = os.path.join(ROOT, "bench/baseline-ws.mjs")
BUN_WS = os.path.join(ROOT, "bench/baseline-bun.ts")

# Set by main() from the command line.
EXE = {
    "parlor": os.path.join(ROOT, "target/release/parlor"),
    "load": os.path.join(ROOT, "target/release/parlor-load"),
    "axum": os.path.join(ROOT, "target/release/baseline-axum"),
    "history": os.path.join(ROOT, "target/release/parlor-history"),
    "search": os.path.join(ROOT, "target/release/parlor-search"),
    "bun": os.path.join(ROOT, "bench/node_modules/@oven/bun-linux-x64/bin/bun"),
}
BASELINES = ["axum", "node", "bun"]
# Every server started (as a `#` line) and every load run, in order, for the report.
COMMANDS = []

# The numbers of each mode. `smoke` (hidden) only checks that every scenario runs.
MODES = {
    "full": dict(
        fan_clients=200, fan_senders=10, fan_secs="20s", fan_drain="3s",
        sat_clients=100, sat_rates=[1, 2, 4, 8, 12, 16, 24, 32, 48, 64], sat_secs="10s", sat_drain="2s",
        burst_clients=100, burst_secs="10s",
        offline_accounts=3000,
        idle_counts=[5000, 10000], idle_hold="11s",
        sub_clients=3000, sub_per_user=1, sub_hold="15s",
        acks_secs="10s",
        soak_clients=200, soak_senders=10, soak_rate=20, soak_secs="300s", soak_drain="3s",
        hist_messages=100_000, hist_replay=10_000, hist_total=1_000_000,
        search_messages=1_000_000,
    ),
    "quick": dict(
        fan_clients=200, fan_senders=10, fan_secs="8s", fan_drain="3s",
        sat_clients=100, sat_rates=[1, 2, 4, 8, 12, 16, 24, 32, 48, 64], sat_secs="4s", sat_drain="2s",
        burst_clients=100, burst_secs="5s",
        offline_accounts=600,
        idle_counts=[1000, 2000], idle_hold="11s",
        sub_clients=1500, sub_per_user=3, sub_hold="15s",
        acks_secs="5s",
        soak_clients=200, soak_senders=10, soak_rate=20, soak_secs="60s", soak_drain="3s",
        hist_messages=20_000, hist_replay=2_000, hist_total=200_000,
        search_messages=200_000,
    ),
    "smoke": dict(
        fan_clients=12, fan_senders=2, fan_secs="2s", fan_drain="1s",
        sat_clients=12, sat_rates=[4, 64], sat_secs="2s", sat_drain="1s",
        burst_clients=12, burst_secs="2s",
        offline_accounts=24,
        idle_counts=[30], idle_hold="1s",
        sub_clients=30, sub_per_user=3, sub_hold="1s",
        acks_secs="2s",
        soak_clients=12, soak_senders=2, soak_rate=20, soak_secs="4s", soak_drain="1s",
        hist_messages=2_000, hist_replay=200, hist_total=10_000,
        search_messages=5_000,
    ),
}
SCENARIOS = ["start", "fanout", "saturation", "burst", "offline", "idle", "subscribed", "acks", "soak", "history",
             "search", "cluster"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, argv):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") else []) + argv


def wait_healthy(port, timeout=30.0, start=None):
    start = start or time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.001)
    raise RuntimeError(f"server on {port} did not become healthy")


class Server:
    """One server under test: a parlor binary, baseline-axum, node + ws or bun."""

    def __init__(self, kind, data=None, exe=None, log=True, args=(), stderr=None):
        self.kind = kind
        self.port = free_port()
        self.keep = data is not None
        self.data = data or tempfile.mkdtemp(prefix="parlor-bench-")
        if kind == "parlor":
            argv = [exe or EXE["parlor"], "serve", "--bind", f"127.0.0.1:{self.port}", "--data", self.data,
                    "--rate-limit", "100000000", *args]
        elif kind == "axum":
            argv = [EXE["axum"], f"127.0.0.1:{self.port}"]
        elif kind == "node":
            argv = ["node", NODE_WS, f"127.0.0.1:{self.port}"]
        elif kind == "bun":
            argv = [EXE["bun"], BUN_WS, f"127.0.0.1:{self.port}"]
        else:
            raise ValueError(kind)
        self.argv = pinned(0, argv)
        if log:
            COMMANDS.append("# " + " ".join(self.argv))
        # No mDNS announcement, no QR code (variables, so older binaries ignore them).
        # The load clients log in with passwords faster than two threads hash them:
        # let them all wait in the line instead of being refused as "server busy".
        env = dict(os.environ, PARLOR_LOG="warn" if stderr is None else "info", PARLOR_NO_MDNS="1",
                   PARLOR_NO_QR="1", PARLOR_HASH_QUEUE="1000000")
        launched = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL,
                                     env=env)
        try:
            self.start_secs = wait_healthy(self.port, start=launched)
        except RuntimeError:
            self.stop()
            raise

    @property
    def dialect(self):
        return "native" if self.kind == "parlor" else "raw"

    def affinity(self, cpus):
        """Moves every thread of the server to `cpus` (a taskset list)."""
        if shutil.which("taskset"):
            cmd = ["taskset", "-a", "-p", "-c", cpus, str(self.proc.pid)]
            COMMANDS.append("# " + " ".join(cmd))
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.keep:
            shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def load(server, dialect=None, **kw):
    argv = [EXE["load"], "--url", f"ws://127.0.0.1:{server.port}", "--dialect", dialect or server.dialect,
            "--server-pid", str(server.proc.pid), "--json", "--prefix", f"u{int(time.time() * 1000) % 100000000}x"]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            argv.append(flag)
        else:
            argv += [flag, str(v)]
    cmd = pinned(1, argv)
    COMMANDS.append(" ".join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"parlor-load failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Front:
    """HAProxy in front of several parlor nodes (round-robin), measured as one server."""

    def __init__(self, nodes, workdir):
        self.nodes = nodes
        self.port = free_port()
        self.proc = nodes[0].proc
        servers = "".join(f"    server n{i} 127.0.0.1:{n.port} check inter 500ms\n" for i, n in enumerate(nodes))
        cfg = os.path.join(workdir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n    maxconn 8000\ndefaults\n    mode http\n    timeout connect 2s\n"
                    "    timeout client 60s\n    timeout server 60s\n    timeout tunnel 1h\n"
                    f"frontend parlor\n    bind 127.0.0.1:{self.port}\n    default_backend nodes\n"
                    f"backend nodes\n    balance roundrobin\n{servers}")
        COMMANDS.append(f"# haproxy -f {cfg} (round-robin over {len(nodes)} nodes)")
        self.haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_healthy(self.port)

    @property
    def dialect(self):
        return "native"

    def stop(self):
        self.haproxy.terminate()
        self.haproxy.wait()


def pg_timings(log_path):
    """The `PostgreSQL store timings` a node logs when it stops."""
    import re
    with open(log_path, errors="replace") as f:
        text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
    found = {}
    for line in text.splitlines():
        if "PostgreSQL store timings" in line:
            for k, v in re.findall(r"(\w+)=([0-9.]+)", line):
                found[k] = float(v)
    return found


# --- scenarios -------------------------------------------------------------------
# Each takes the mode's numbers `m` and the Parlor binaries `parlors` ([(label, path)]).


def start_median(exe=None, data=None, runs=5):
    """Median time from launching `parlor serve` to its first `200 ok` on /healthz."""
    times = []
    for _ in range(runs):
        s = Server("parlor", data=data, exe=exe, log=False)
        times.append(s.start_secs)
        s.stop()
    return sorted(times)[len(times) // 2]


def scenario_start(m, parlors):
    return {label: start_median(exe) for label, exe in parlors}


def scenario_fanout(m, parlors):
    rows = []
    kw = dict(clients=m["fan_clients"], senders=m["fan_senders"], rate=20, duration=m["fan_secs"], drain=m["fan_drain"])
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            rows.append((f"{label} (native)", load(s, **kw)))
            for d in ["rwci", "workspace", "workshop"]:
                rows.append((f"{label} ({d})", load(s, dialect=d, **kw)))
    for kind in BASELINES:
        with Server(kind) as s:
            rows.append((kind, load(s, **kw)))
    return rows


def scenario_saturation(m, parlors):
    results = {}
    servers = [(label, "parlor", exe) for label, exe in parlors] + [(k, k, None) for k in BASELINES]
    for label, kind, exe in servers:
        best = None
        steps = []
        for rate in m["sat_rates"]:
            with Server(kind, exe=exe) as s:
                r = load(s, clients=m["sat_clients"], senders=m["sat_clients"], rate=rate,
                         duration=m["sat_secs"], drain=m["sat_drain"])
            ok = r["p99_ms"] <= 100 and r["delivery_ratio"] >= 0.99
            steps.append((rate, r, ok))
            if ok:
                best = r
            else:
                break
        results[label] = (best, steps)
    return results


def burst(s, m):
    """Closed loop: every client sends its next message once the last is acknowledged."""
    return load(s, clients=m["burst_clients"], senders=m["burst_clients"], rate=0, window=1,
                duration=m["burst_secs"], drain="2s")


def scenario_burst(m, parlors):
    rows = {}
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            rows[label] = burst(s, m)
    for kind in BASELINES:
        with Server(kind) as s:
            rows[kind] = burst(s, m)
    return rows


def scenario_offline(m, parlors):
    """The closed-loop burst on a fresh store, then on one where many accounts have
    logged in once and left: #General has that many offline members."""
    out = {}
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            fresh = burst(s, m)
        with Server("parlor", exe=exe) as s:
            # Registering is an Argon2 hash per account: let the server use every core
            # for that, then pin it back to CPU 0 before the measured run.
            s.affinity(f"0-{(os.cpu_count() or 1) - 1}")
            try:
                made = load(s, accounts=m["offline_accounts"], accounts_concurrency=8, clients=0)
            finally:
                s.affinity("0")
            members = burst(s, m)
        out[label] = (fresh, made, members)
    return out


def scenario_idle(m, parlors):
    rows = []
    for label, exe in parlors:
        for n in m["idle_counts"]:
            # Native logins (an Argon2 hash per user, ~33 a second on one core), 3
            # connections per user, never subscribed.
            with Server("parlor", exe=exe) as s:
                rows.append((label, n, load(s, dialect="native", clients=n, idle=True, ramp=100, hold=m["idle_hold"])))
    for kind in BASELINES:
        for n in m["idle_counts"]:
            with Server(kind) as s:
                rows.append((kind, n, load(s, dialect="raw", clients=n, idle=True, ramp=2000, hold=m["idle_hold"])))
    return rows


def scenario_subscribed(m, parlors):
    """Idle connections that log in and subscribe, of accounts that already exist."""
    rows = []
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            rows.append((label, load(s, dialect="native", clients=m["sub_clients"], idle=True, subscribe=True,
                                     existing_accounts=True, per_user=m["sub_per_user"], ramp=100,
                                     hold=m["sub_hold"])))
    return rows


def scenario_acks(m, parlors):
    out = {}
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            out[label] = load(s, clients=1, senders=1, rate=0, window=512, duration=m["acks_secs"], drain="2s")
    return out


def scenario_soak(m, parlors):
    out = {}
    for label, exe in parlors:
        with Server("parlor", exe=exe) as s:
            out[label] = load(s, clients=m["soak_clients"], senders=m["soak_senders"], rate=m["soak_rate"],
                              duration=m["soak_secs"], drain=m["soak_drain"])
    return out


def history_of(m, exe):
    """The history-heavy room, then the store grown for the start time."""
    data = tempfile.mkdtemp(prefix="parlor-bench-history-")
    total = m["hist_total"]
    try:
        with Server("parlor", data=data, exe=exe) as s:
            argv = pinned(1, [EXE["history"], "--url", f"ws://127.0.0.1:{s.port}", "--json",
                              "--messages", str(m["hist_messages"]), "--replay", str(m["hist_replay"])])
            COMMANDS.append(" ".join(argv))
            hist = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True,
                                             timeout=900).stdout.strip().splitlines()[-1])
            argv = pinned(1, [EXE["history"], "--url", f"ws://127.0.0.1:{s.port}", "--json", "--seed-only",
                              "--prefix", "grow", "--messages", str(total - hist["stored"])])
            COMMANDS.append(" ".join(argv))
            subprocess.run(argv, capture_output=True, text=True, check=True, timeout=900)
        return hist, total, start_median(exe, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def scenario_cluster(m, parlors):
    """The burst and the fan-out on one node (SQLite, then PostgreSQL) and on three nodes
    (PostgreSQL and a NATS bus behind HAProxy), with the store's own timings: how long
    batches waited for the write lock, and how late events reached the other nodes."""
    label, exe = parlors[0]
    work = tempfile.mkdtemp(prefix="parlor-bench-cluster-")
    # Its own directory: `scripts/services` opens it to the `postgres` user.
    services = tempfile.mkdtemp(prefix="parlor-bench-pg-")
    out = subprocess.run([os.path.join(ROOT, "scripts/services"), "start", services],
                         capture_output=True, text=True, check=True).stdout
    env = dict(line[len("export "):].split("=", 1) for line in out.splitlines() if line.startswith("export "))
    admin, nats = env["PARLOR_TEST_PG"], env["PARLOR_TEST_NATS"]
    rows = []
    runs = 0

    def measure(count, pg, run):
        """Fresh nodes (and a fresh database) for one load; its result and the nodes'
        timings."""
        nonlocal runs
        runs += 1
        args = []
        if pg:
            db = f"bench{runs}_{int(time.time())}"
            subprocess.run(["psql", "-X", "-q", admin, "-c", f"CREATE DATABASE {db}"], check=True)
            args = ["--store", admin.rsplit("/", 1)[0] + "/" + db]
            if count > 1:
                args += ["--bus", nats]
        logs = [open(os.path.join(work, f"run{runs}-node{i}.log"), "w") for i in range(count)]
        nodes = [Server("parlor", exe=exe, args=args, stderr=logs[i]) for i in range(count)]
        front = Front(nodes, work) if count > 1 else None
        try:
            result = run(front or nodes[0])
        finally:
            if front:
                front.stop()
            for n in nodes:
                n.stop()
            for log in logs:
                log.close()
        return result, [pg_timings(log.name) for log in logs] if pg else []

    def fan(target):
        return load(target, clients=m["fan_clients"], senders=m["fan_senders"], rate=20,
                    duration=m["fan_secs"], drain=m["fan_drain"])

    try:
        for name, count, pg in [("1 node, SQLite", 1, False), ("1 node, PostgreSQL", 1, True),
                                ("3 nodes, PostgreSQL + NATS", 3, True)]:
            b, bt = measure(count, pg, lambda target: burst(target, m))
            f, ft = measure(count, pg, fan)
            rows.append((name, b, bt, f, ft))
    finally:
        subprocess.run([os.path.join(ROOT, "scripts/services"), "stop", services])
        shutil.rmtree(work, ignore_errors=True)
    return rows


def scenario_history(m, parlors):
    return {label: history_of(m, exe) for label, exe in parlors}


def scenario_search(m, parlors):
    """`search_messages` messages stored through the server, then 20 searches of one
    reader (bench/src/bin/parlor-search.rs). Only the first binary: a build before
    search has no `search` request."""
    label, exe = parlors[0]
    data = tempfile.mkdtemp(prefix="parlor-bench-search-")
    try:
        with Server("parlor", data=data, exe=exe) as s:
            argv = pinned(1, [EXE["search"], "--url", f"ws://127.0.0.1:{s.port}", "--json",
                              "--messages", str(m["search_messages"])])
            COMMANDS.append(" ".join(argv))
            out = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True,
                                            timeout=1800).stdout.strip().splitlines()[-1])
            out["db_bytes"] = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                                  if f.startswith("parlor.db"))
        return {label: out}
    finally:
        shutil.rmtree(data, ignore_errors=True)


# --- the chart -------------------------------------------------------------------

COLORS = ["#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e", "#8c564b", "#e377c2"]


def nice_ticks(top, count=5):
    """Round tick values from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(f * mag for f in (1, 2, 2.5, 5, 10) if f * mag >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def short(v):
    if v >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def saturation_svg(sat, title):
    """Two panels over the same steps: deliveries/s (linear) and p99 (log scale).
    One line per server; a step that failed (p99 > 100 ms or ratio < 99 %) is an open
    marker, and the line stops there, as the run does."""
    rates = sorted({rate for _, steps in sat.values() for rate, _, _ in steps})
    if not rates:
        return None
    W, left, right = 760, 78, 170
    panel_h, top, gap, bottom = 230, 44, 70, 50
    H = top + panel_h + gap + panel_h + bottom
    pw = W - left - right
    xs = {rate: left + (i + 0.5) * pw / len(rates) for i, rate in enumerate(rates)}
    peak = max((r["deliveries_per_sec"] for _, steps in sat.values() for _, r, _ in steps), default=1)
    yticks = nice_ticks(peak)
    lat = [max(r["p99_ms"], 0.1) for _, steps in sat.values() for _, r, _ in steps]
    lo = 10 ** math.floor(math.log10(min(lat + [1.0])))
    hi = 10 ** math.ceil(math.log10(max(lat + [100.0]) * 1.0001))
    p2 = top + panel_h + gap

    def y1(v):
        return top + panel_h - v / yticks[-1] * panel_h

    def y2(v):
        v = min(max(v, lo), hi)
        return p2 + panel_h - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * panel_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="#ffffff"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>']
    for py, label in [(top, "deliveries per second"), (p2, "p99 latency (ms, log scale)")]:
        out.append(f'<rect x="{left}" y="{py}" width="{pw}" height="{panel_h}" fill="none" stroke="#333"/>')
        out.append(f'<text transform="translate(18,{py + panel_h / 2}) rotate(-90)" text-anchor="middle">{label}</text>')
        for rate, x in xs.items():
            out.append(f'<line x1="{x:.1f}" y1="{py + panel_h}" x2="{x:.1f}" y2="{py + panel_h + 5}" stroke="#333"/>')
            out.append(f'<text x="{x:.1f}" y="{py + panel_h + 18}" text-anchor="middle">{rate:g}</text>')
        out.append(f'<text x="{left + pw / 2}" y="{py + panel_h + 34}" text-anchor="middle">'
                   'messages per second per sender (every client sends)</text>')
    for v in yticks:
        y = y1(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{short(v)}</text>')
    v = lo
    while v <= hi * 1.0001:
        y = y2(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{short(v)}</text>')
        v *= 10
    if lo <= 100 <= hi:
        y = y2(100)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#888" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{left + 6}" y="{y - 4:.1f}" fill="#555">pass limit: 100 ms</text>')
    for i, (label, (_, steps)) in enumerate(sat.items()):
        color = COLORS[i % len(COLORS)]
        # The build before a change (--compare) is dashed.
        dash = ' stroke-dasharray="6,3"' if "before" in label else ""
        for yf, key in [(y1, "deliveries_per_sec"), (y2, "p99_ms")]:
            pts = [(xs[rate], yf(r[key]), ok) for rate, r, ok in steps]
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)
                out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
            for x, y, ok in pts:
                fill = color if ok else "#ffffff"
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{color}" stroke-width="1.5"/>')
        ly = top + 10 + i * 22
        lx = left + pw + 16
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<circle cx="{lx + 12}" cy="{ly}" r="3.5" fill="{color}"/>')
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(label)}</text>')
    ly = top + 10 + len(sat) * 22 + 6
    lx = left + pw + 16
    out.append(f'<circle cx="{lx + 12}" cy="{ly}" r="3.5" fill="#ffffff" stroke="#333" stroke-width="1.5"/>')
    out.append(f'<text x="{lx + 30}" y="{ly + 4}">step failed</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- the report ------------------------------------------------------------------


def ms(x):
    return f"{x:.1f}"


def kib(x):
    return f"{(x or 0) / 1024:.1f} MiB"


def ratio(a, b):
    return a / b if b else 0.0


def version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip() or "?"
    except OSError:
        return "?"


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def best_rate(sat, label):
    best = sat.get(label, (None, []))[0] if sat else None
    return best["deliveries_per_sec"] if best else 0


def targets(R, label):
    """The targets' rows for one Parlor binary: (target, measured, verdict)."""
    rows = []
    sat = R.get("saturation")
    if sat:
        floor, node, mine = best_rate(sat, "axum"), best_rate(sat, "node"), best_rate(sat, label)
        rf, rn = ratio(mine, floor), ratio(mine, node)
        rows.append(("sustained deliveries/s ≥ 0.9 × axum floor", f"{rf:.2f} × ({mine:,.0f} vs {floor:,.0f})",
                     "met" if rf >= 0.9 else "missed"))
        rows.append(("sustained deliveries/s ≥ 1.2 × Node `ws`", f"{rn:.2f} × ({mine:,.0f} vs {node:,.0f})",
                     "met" if rn >= 1.2 else "missed"))
        half = [r for (rate, r, ok) in sat[label][1] if ok and floor and r["deliveries_per_sec"] <= floor / 2]
        if half:
            p99 = half[-1]["p99_ms"]
            rows.append(("p99 ≤ 5 ms at half the floor's rate", f"{ms(p99)} ms at {half[-1]['deliveries_per_sec']:,.0f}/s",
                         "met" if p99 <= 5 else "missed"))
    idle = R.get("idle")
    if idle:
        per_conn = [r["bytes_per_connection"] for (k, n, r) in idle if k == label and r.get("bytes_per_connection")]
        if per_conn:
            worst = max(per_conn)
            rows.append(("≤ 8 KB RSS per idle connection", f"{worst / 1024:.1f} KiB", "met" if worst <= 8192 else "missed"))
    off = R.get("offline")
    if off and label in off:
        fresh, made, members = off[label]
        q = ratio(members["deliveries_per_sec"], fresh["deliveries_per_sec"])
        rows.append((f"closed-loop burst with {made['accounts']:,} offline members ≥ 0.8 × fresh store",
                     f"{q:.2f} × ({members['deliveries_per_sec']:,.0f} vs {fresh['deliveries_per_sec']:,.0f})",
                     "met" if q >= 0.8 else "missed"))
    soak = R.get("soak")
    if soak and label in soak:
        p = soak[label]["p999_ms"]
        rows.append((f"soak: p999 < 20 ms ({soak[label]['seconds']:g} s)", f"{ms(p)} ms", "met" if p < 20 else "missed"))
    acks = R.get("acks")
    if acks and label in acks:
        a = acks[label]["acks_per_sec"]
        rows.append(("durable acks ≥ 10,000 msg/s", f"{a:,.0f} acks/s", "met" if a >= 10000 else "missed"))
    start = R.get("start")
    if start and label in start:
        t = start[label]
        rows.append(("start to `/healthz` < 100 ms (empty store)", f"{t * 1000:.1f} ms (median of 5)",
                     "met" if t < 0.1 else "missed"))
    hist = R.get("history")
    if hist and label in hist:
        _, stored, t = hist[label]
        verdict = "met" if t < 0.5 and stored >= 1_000_000 else ("met at this size" if t < 0.5 else "missed")
        rows.append(("start to `/healthz` < 500 ms (1 M messages)",
                     f"{t * 1000:.1f} ms with {stored:,} messages (median of 5)", verdict))
    return rows


def before_after(R, new, old):
    """(what, new, old, new/old) for the headline figures of both binaries."""
    rows = []

    def add(what, a, b, fmt):
        if a is not None and b is not None:
            rows.append((what, fmt(a), fmt(b), f"{ratio(a, b):.2f}"))

    sat = R.get("saturation")
    if sat:
        add("saturation: highest passing deliveries/s", best_rate(sat, new), best_rate(sat, old), lambda v: f"{v:,.0f}")
    fan = dict(R.get("fanout") or [])
    if f"{new} (native)" in fan and f"{old} (native)" in fan:
        add("fan-out p99 ms (native)", fan[f"{new} (native)"]["p99_ms"], fan[f"{old} (native)"]["p99_ms"], ms)
    b = R.get("burst")
    if b and new in b and old in b:
        add("closed-loop burst deliveries/s", b[new]["deliveries_per_sec"], b[old]["deliveries_per_sec"], lambda v: f"{v:,.0f}")
        add("closed-loop burst p99 ms", b[new]["p99_ms"], b[old]["p99_ms"], ms)
    off = R.get("offline")
    if off and new in off and old in off:
        q = {k: ratio(off[k][2]["deliveries_per_sec"], off[k][0]["deliveries_per_sec"]) for k in (new, old)}
        add("offline members: burst rate ÷ fresh store", q[new], q[old], lambda v: f"{v:.2f}")
        add("offline members: burst deliveries/s", off[new][2]["deliveries_per_sec"], off[old][2]["deliveries_per_sec"],
            lambda v: f"{v:,.0f}")
    idle = R.get("idle")
    if idle:
        for n in sorted({n for _, n, _ in idle}):
            got = {k: r["bytes_per_connection"] for k, c, r in idle if c == n}
            add(f"bytes per idle connection ({n:,}, never subscribed)", got.get(new), got.get(old), lambda v: f"{v:,.0f}")
    sub = dict(R.get("subscribed") or [])
    if new in sub and old in sub:
        add("bytes per idle connection (subscribed)", sub[new]["bytes_per_connection"], sub[old]["bytes_per_connection"],
            lambda v: f"{v:,.0f}")
    soak = R.get("soak")
    if soak and new in soak and old in soak:
        add("soak p99 ms", soak[new]["p99_ms"], soak[old]["p99_ms"], ms)
        add("soak p999 ms", soak[new]["p999_ms"], soak[old]["p999_ms"], ms)
    acks = R.get("acks")
    if acks and new in acks and old in acks:
        add("durable acks/s", acks[new]["acks_per_sec"], acks[old]["acks_per_sec"], lambda v: f"{v:,.0f}")
    hist = R.get("history")
    if hist and new in hist and old in hist:
        add("replay of missed events, ms", hist[new][0]["replay_ms"], hist[old][0]["replay_ms"], lambda v: f"{v:.0f}")
        add("start to `/healthz` with the grown store, ms", hist[new][2] * 1000, hist[old][2] * 1000, ms)
    start = R.get("start")
    if start and new in start and old in start:
        add("start to `/healthz`, empty store, ms", start[new] * 1000, start[old] * 1000, ms)
    return rows


def report(R, a, m, parlors, started, timings, failures, svg_name):
    labels = [label for label, _ in parlors]
    mode = {"full": "full scenarios", "quick": "quick mode (shorter runs)", "smoke": "SMOKE TEST (tiny numbers, not a measurement)"}[a.mode]
    binaries = "; ".join(f"`{label}`: `{os.path.relpath(exe, ROOT) if exe.startswith(ROOT) else exe}` (sha256 {digest(exe)[:12]})"
                         for label, exe in parlors)
    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this project's build machine "
        f"({os.cpu_count()} cores), {mode}; {(time.time() - started) / 60:.0f} minutes. Servers on CPU 0, load "
        "generator on CPU 1 (`taskset`). Parlor runs as shipped (SQLite, WAL, fsync on every commit) but for its "
        "per-user rate limit, raised by flag, and its line of logins waiting for a password hash, raised by "
        "`PARLOR_HASH_QUEUE` (thousands of simulated people register at once). Baselines, each publishing every text frame to every connection, "
        "without auth, JSON or persistence: `baseline-axum` (axum + `tokio::sync::broadcast`), "
        f"Node {version(['node', '--version'])} + `ws` (`bench/baseline-ws.mjs`) and Bun {version([EXE['bun'], '--version'])} "
        "(`Bun.serve`, uWebSockets inside, `server.publish` to one topic: `bench/baseline-bun.ts`).",
        "",
        f"Parlor binaries: {binaries}.",
        "",
        "Reproduce: `scripts/dev build && cargo build --release -p bench && npm ci --prefix bench && scripts/bench.py` "
        "(add `--quick`; `--compare OLD/parlor` measures a second build in the same run). "
        "What the profiles showed, what changed and what is left: [`performance.md`](performance.md).",
        "",
    ]
    if failures:
        lines += ["## Failed scenarios", ""] + [f"- {name}: `{msg}`" for name, msg in failures] + [""]
    tables = {label: targets(R, label) for label in labels}
    if tables[labels[0]]:
        if len(labels) > 1:
            before = {t: (v, d) for t, v, d in tables[labels[1]]}
            lines += ["## Targets", "", f"| target | {labels[0]} | verdict | {labels[1]} | verdict |", "|---|---|---|---|---|"]
            for t, v, d in tables[labels[0]]:
                bv, bd = before.get(t, ("", ""))
                lines.append(f"| {t} | {v} | {d} | {bv} | {bd} |")
        else:
            lines += ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
            lines += [f"| {t} | {v} | {d} |" for t, v, d in tables[labels[0]]]
        lines.append("")
    if len(labels) > 1:
        rows = before_after(R, labels[0], labels[1])
        if rows:
            lines += [f"## Before and after: `{labels[0]}` vs `{labels[1]}`, same run", "",
                      "The ratio is after ÷ before (for latencies and bytes, lower is better).", "",
                      f"| figure | {labels[0]} | {labels[1]} | ratio |", "|---|---|---|---|"]
            lines += [f"| {w} | {x} | {y} | {q} |" for w, x, y, q in rows] + [""]
    fan = R.get("fanout")
    if fan:
        lines += [f"## Fan-out: {m['fan_clients']} clients, {m['fan_senders']} senders × 20 msg/s", "",
                  "| server | deliveries/s | delivery ratio | p50 ms | p90 ms | p99 ms | max ms | server RSS | audit: missing / twice |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, r in fan:
            lines.append(f"| {name} | {r['deliveries_per_sec']:,.0f} | {r['delivery_ratio']:.4f} | {ms(r['p50_ms'])} | {ms(r['p90_ms'])} | "
                         f"{ms(r['p99_ms'])} | {ms(r['max_ms'])} | {kib(r['rss_end_kib'])} | {r['audit_missing']} / {r['audit_repeated'] + r['duplicates']} |")
        lines.append("")
    sat = R.get("saturation")
    if sat:
        lines += [f"## Saturation: {m['sat_clients']} clients, all sending, rate stepped up", "",
                  "The highest step with p99 ≤ 100 ms and delivery ratio ≥ 99 %; a server's steps stop at its first failure.", ""]
        if svg_name:
            lines += [f"![Deliveries per second and p99 latency at each step, one line per server]({svg_name})", ""]
        lines += ["| server | highest passing rate per sender | deliveries/s | p99 ms | next step |", "|---|---|---|---|---|"]
        for label, (best, steps) in sat.items():
            nxt = next((f"{rate}/s: p99 {ms(r['p99_ms'])} ms, ratio {r['delivery_ratio']:.3f}" for rate, r, ok in steps if not ok), "not reached")
            if best:
                lines.append(f"| {label} | {best['rate_per_sender']:g}/s | {best['deliveries_per_sec']:,.0f} | {ms(best['p99_ms'])} | {nxt} |")
            else:
                lines.append(f"| {label} | none passed | | | {nxt} |")
        rates = sorted({rate for _, steps in sat.values() for rate, _, _ in steps})
        lines += ["", "Every step: deliveries/s, p99 ms (✗: failed).", "",
                  "| rate per sender | " + " | ".join(sat) + " |", "|---|" + "---|" * len(sat)]
        for rate in rates:
            cells = []
            for _, steps in sat.values():
                hit = next(((r, ok) for x, r, ok in steps if x == rate), None)
                cells.append(f"{hit[0]['deliveries_per_sec']:,.0f}, {ms(hit[0]['p99_ms'])}{'' if hit[1] else ' ✗'}" if hit else "")
            lines.append(f"| {rate:g}/s | " + " | ".join(cells) + " |")
        lines.append("")
    b = R.get("burst")
    if b:
        bun, axum = b.get("bun"), b.get("axum")
        lines += [f"## Closed-loop burst: {m['burst_clients']} clients, all sending, one message in flight each", "",
                  "Each sender sends its next message as soon as its last is acknowledged (Parlor: the `new` response, "
                  "after the commit; baselines: the sender's own copy of the broadcast), for "
                  f"{m['burst_secs']}: as fast as the server lets a room of {m['burst_clients']} talk.", "",
                  "| server | deliveries/s | messages/s | p50 ms | p99 ms | max ms | ÷ bun | ÷ axum | audit: missing / twice |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for label, r in b.items():
            rb = f"{ratio(r['deliveries_per_sec'], bun['deliveries_per_sec']):.2f}" if bun else ""
            ra = f"{ratio(r['deliveries_per_sec'], axum['deliveries_per_sec']):.2f}" if axum else ""
            lines.append(f"| {label} | {r['deliveries_per_sec']:,.0f} | {r['sent'] / r['seconds']:,.0f} | {ms(r['p50_ms'])} | "
                         f"{ms(r['p99_ms'])} | {ms(r['max_ms'])} | {rb} | {ra} | {r['audit_missing']} / {r['audit_repeated'] + r['duplicates']} |")
        lines.append("")
    cl = R.get("cluster")
    if cl:
        lines += ["## Several nodes: one node on SQLite, one on PostgreSQL, three on PostgreSQL", "",
                  f"The closed-loop burst ({m['burst_clients']} clients) and the fan-out ({m['fan_clients']} clients, "
                  f"{m['fan_senders']} senders × 20 msg/s) against `{parlors[0][0]}`: one node on its embedded "
                  "SQLite; one node on PostgreSQL (a throwaway cluster of `scripts/services`, fsync on); three nodes "
                  "on that PostgreSQL with a NATS bus, behind HAProxy (round-robin). All nodes share CPU 0; "
                  "PostgreSQL, HAProxy and NATS are not pinned and share both cores with the load generator, "
                  "so the three nodes have no more CPU than one: the figures show what sharing one log costs, "
                  "not what more machines give. Each load runs on fresh nodes and a fresh database. Write-lock wait: "
                  "how long a node's writing batch waited for the `sequencer` row; follower lag: from the moment "
                  "one node took a message (its wait for the writer and the lock included) to its hand-over to "
                  "another node's clients (each node logs both when it stops; the worst node's figures are "
                  "shown).", "",
                  "| setup | load | deliveries/s | p50 ms | p99 ms | write-lock wait p50 / p99 ms | "
                  "follower lag p50 / p99 ms | audit: missing / twice |",
                  "|---|---|---|---|---|---|---|---|"]
        base = {"burst": cl[0][1]["deliveries_per_sec"], "fan-out": cl[0][3]["deliveries_per_sec"]}

        def worst(figures, key, only_followed=False):
            xs = [x.get(key, 0) for x in figures if not only_followed or x.get("followed", 0) > 0]
            return max(xs) if xs else None

        for name, b, bt, f, ft in cl:
            for kind, r, t in [("burst", b, bt), ("fan-out", f, ft)]:
                q = f" ({ratio(r['deliveries_per_sec'], base[kind]):.2f} ×)" if base[kind] else ""
                wait = (worst(t, "lock_wait_p50_ms"), worst(t, "lock_wait_p99_ms"))
                lag = (worst(t, "follower_lag_p50_ms", True), worst(t, "follower_lag_p99_ms", True))
                cell = lambda pair: "" if pair[1] is None else f"{ms(pair[0])} / {ms(pair[1])}"
                lines.append(f"| {name} | {kind} | {r['deliveries_per_sec']:,.0f}{q} | {ms(r['p50_ms'])} | "
                             f"{ms(r['p99_ms'])} | {cell(wait)} | {cell(lag)} | "
                             f"{r['audit_missing']} / {r['audit_repeated'] + r['duplicates']} |")
        lines.append("")
    off = R.get("offline")
    if off:
        n = m["offline_accounts"]
        lines += [f"## Offline members: the closed-loop burst with {n:,} offline members in #General", "",
                  f"The burst above ({m['burst_clients']} native clients) on a fresh store, then on another fresh server "
                  f"after {n:,} other accounts each logged in once with a password and left"
                  + (f" (fewer than the full run's {MODES['full']['offline_accounts']:,}: {a.mode} mode)" if a.mode != "full" else "")
                  + ". Registering costs an Argon2 hash each; while they do, the server may use every core, "
                  "and it is pinned back to CPU 0 before the measured burst. Target: ≥ 0.8 × the fresh store's rate.", "",
                  "| server | accounts registered | deliveries/s, fresh | deliveries/s, with members | ratio | p99 ms fresh / with members |",
                  "|---|---|---|---|---|---|"]
        for label, (fresh, made, members) in off.items():
            q = ratio(members["deliveries_per_sec"], fresh["deliveries_per_sec"])
            lines.append(f"| {label} | {made['accounts']:,} in {made['accounts_secs']:.0f} s | {fresh['deliveries_per_sec']:,.0f} | "
                         f"{members['deliveries_per_sec']:,.0f} | {q:.2f} | {ms(fresh['p99_ms'])} / {ms(members['p99_ms'])} |")
        lines.append("")
    idle, sub = R.get("idle"), R.get("subscribed")
    if idle or sub:
        lines += ["## Idle connections", ""]
        if idle:
            lines += ["Parlor's connections are logged-in native connections that never subscribe, three per user "
                      "(the first logs in with the password, the others with its session token), so the server sends "
                      "them nothing but pings; the baselines' are plain WebSockets. RSS is read once every connection "
                      f"is in and the server's CPU has been quiet for 2 s (plus {m['idle_hold']}, so Parlor's heap trim after a quiet 5 s check has run); "
                      "every connection must still be open then.", ""]
        if sub:
            lines += [f"*Subscribed*: {m['sub_clients']:,} connections of {math.ceil(m['sub_clients'] / m['sub_per_user']):,} accounts that already exist: each "
                      "account logged in once with its password, the server went quiet (plus "
                      f"{m['sub_hold']}) and the RSS before is read then; the measured connections log in with those logins' "
                      "session tokens and subscribe, as the web app does (with a `lastEventId` past the end, so nothing is "
                      f"replayed), {m['sub_per_user']} per account, 100 a second, so each receives the `online` and `presence` of those "
                      f"arriving after it. RSS after quiet plus {m['sub_hold']}.", ""]
        lines += ["| server | connections | kind | RSS before | RSS connected | bytes per connection |", "|---|---|---|---|---|---|"]
        ours = [(k, "logged in, never subscribed", r) for k, _, r in idle or [] if k in labels]
        ours += [(k, "logged in, subscribed (existing accounts)", r) for k, r in sub or []]
        theirs = [(k, "plain WebSocket", r) for k, _, r in idle or [] if k not in labels]
        for kind, what, r in ours + theirs:
            lines.append(f"| {kind} | {r['connected']:,} | {what} | {kib(r['rss_start_kib'])} | "
                         f"{kib(r['rss_connected_kib'])} | {r['bytes_per_connection'] or 0:,.0f} |")
        lines.append("")
    soak = R.get("soak")
    if soak:
        lines += [f"## Soak: {m['soak_clients']} clients, {m['soak_senders']} senders × {m['soak_rate']} msg/s for {m['soak_secs']}", "",
                  "Lost: acknowledged messages some member never received, plus messages never acknowledged. Target: p999 < 20 ms.", "",
                  "| server | deliveries | deliveries/s | p50 ms | p99 ms | p999 ms | max ms | lost | twice | server RSS at the end |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for label, r in soak.items():
            lost = r["audit_missing"] + max(r["sent"] - r["acked"], 0)
            lines.append(f"| {label} | {r['delivered']:,} | {r['deliveries_per_sec']:,.0f} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} | "
                         f"{ms(r['p999_ms'])} | {ms(r['max_ms'])} | {lost:,} | {r['audit_repeated'] + r['duplicates']:,} | {kib(r['rss_end_kib'])} |")
        lines.append("")
    acks = R.get("acks")
    if acks:
        lines += ["## Durable acks: one native sender, 512 in flight", ""]
        for label, r in acks.items():
            lines.append(f"- {label}: {r['acked']:,} messages acknowledged in {r['seconds']:g} s: **{r['acks_per_sec']:,.0f} acks/s**, "
                         f"each committed to SQLite with fsync before its answer (group commit); p50 delivery {ms(r['p50_ms'])} ms.")
        lines.append("")
    hist = R.get("history")
    if hist:
        first = next(iter(hist.values()))[0]
        lines += ["## History-heavy room", "",
                  f"{first['stored']:,} messages in `#General`, stored by 8 pipelined senders. "
                  "Medians of 21 requests on one logged-in connection.", "",
                  "| what | " + " | ".join(hist) + " |", "|---|" + "---|" * len(hist)]
        col = list(hist.values())
        lines.append("| storing (8 pipelined senders) | " + " | ".join(f"{h['stored_per_sec']:,.0f} msg/s" for h, _, _ in col) + " |")
        lines.append("| first page (latest 50, `getMessages`) | " + " | ".join(f"{h['first_page_ms']:.2f} ms" for h, _, _ in col) + " |")
        lines.append("| a page from the middle of the history (`endId`) | " + " | ".join(f"{h['deep_page_ms']:.2f} ms" for h, _, _ in col) + " |")
        lines.append(f"| replay of {first['replayed']:,} missed events (`subscribe` with `lastEventId`, until the last arrives) | "
                     + " | ".join(f"{h['replay_ms']:.0f} ms ({h['replayed_per_sec']:,.0f} events/s)" for h, _, _ in col) + " |")
        lines.append("| start to `/healthz` with the grown store | "
                     + " | ".join(f"{t * 1000:.1f} ms with {n:,} messages (median of 5)" for _, n, t in col) + " |")
        lines.append("")
    lines += search_section(R.get("search"))
    lines += ["## Time per scenario", "", "| scenario | minutes |", "|---|---|"]
    lines += [f"| {name} | {secs / 60:.1f} |" for name, secs in timings] + [""]
    lines += ["## Commands", "", "Each server (`#`) and the load runs against it, in order. Start times "
              "are measured on servers started the same way.", "", "```"] + COMMANDS + ["```", ""]
    return "\n".join(lines)


def search_section(search):
    """The search scenario's table: p50/p99 and every query."""
    if not search:
        return []
    lines = []
    for label, r in search.items():
        lines += [f"## Search: {r['stored']:,} stored messages ({label})", "",
                  f"Stored through the server by 8 pipelined senders ({r['stored_per_sec']:,.0f} msg/s, FTS5 index "
                  f"included; database files {r['db_bytes'] / 1e6:,.0f} MB), then 20 searches of one reader, one at a "
                  "time on one connection, right after (warm cache). 70 % of the messages are in `#General`, 15 % in "
                  "`#Kitchen` (both the reader's), 10 % in `#Attic` (not the reader's), 5 % direct messages to the "
                  "reader; 6 to 14 words each from a Zipf distribution over 5,000 words. Each search answers up to 20 hits.",
                  "", f"**p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms** (of 20: the slowest).", "",
                  "| query | hits | more | ms |", "|---|---|---|---|"]
        for q in r["searches"]:
            page = f" (`beforeId` {q['beforeId']})" if q.get("beforeId") else ""
            lines.append(f"| `{q['query']}`{page} | {q['hits']} | {'yes' if q['more'] else 'no'} | {q['ms']:.1f} |")
        lines.append("")
    return lines


def main():
    ap = argparse.ArgumentParser(description="Runs Parlor and its baselines; writes docs/benchmarks.md.")
    ap.add_argument("--quick", action="store_true", help="shorter runs, same shape")
    ap.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/benchmarks.md"))
    ap.add_argument("--svg", default=None, help="the saturation chart (default: saturation.svg beside --out)")
    ap.add_argument("--parlor", default=EXE["parlor"], help="the parlor binary measured (default target/release/parlor)")
    ap.add_argument("--compare", metavar="PATH", help='a second parlor binary, reported as "parlor (before)"')
    ap.add_argument("--load", default=EXE["load"], help="parlor-load")
    ap.add_argument("--axum", default=EXE["axum"], help="baseline-axum")
    ap.add_argument("--history", default=EXE["history"], help="parlor-history")
    ap.add_argument("--search", default=EXE["search"], help="parlor-search")
    ap.add_argument("--bun", default=EXE["bun"], help="bun (npm ci --prefix bench)")
    ap.add_argument("--only", help="comma-separated scenarios: " + ",".join(SCENARIOS))
    a = ap.parse_args()
    a.mode = "smoke" if a.smoke else "quick" if a.quick else "full"
    m = MODES[a.mode]
    for key in ["parlor", "load", "axum", "history", "search", "bun"]:
        EXE[key] = os.path.abspath(getattr(a, key))
    only = SCENARIOS if not a.only else [s.strip() for s in a.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    parlors = [("parlor", EXE["parlor"])]
    if a.compare:
        parlors.append(("parlor (before)", os.path.abspath(a.compare)))
    needed = [exe for _, exe in parlors] + [EXE["load"]]
    if set(only) & {"fanout", "saturation", "burst", "idle"}:
        needed += [EXE["axum"], EXE["bun"]]
    if "history" in only:
        needed.append(EXE["history"])
    if "search" in only:
        needed.append(EXE["search"])
    for exe in needed:
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: run `scripts/dev build && cargo build --release -p bench && npm ci --prefix bench` first")

    started = time.time()
    R, timings, failures = {}, [], []
    for name in only:
        t0 = time.monotonic()
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        try:
            R[name] = globals()[f"scenario_{name}"](m, parlors)
        except Exception as e:  # noqa: BLE001 — one failed scenario must not lose the others
            traceback.print_exc()
            failures.append((name, str(e).strip().splitlines()[-1][:300] if str(e).strip() else type(e).__name__))
        timings.append((name, time.monotonic() - t0))
        print(f"[bench] {name}: {timings[-1][1]:.0f} s", file=sys.stderr, flush=True)

    svg_path = a.svg or os.path.join(os.path.dirname(os.path.abspath(a.out)), "saturation.svg")
    svg_name = None
    if R.get("saturation"):
        svg = saturation_svg(R["saturation"], f"Saturation: {m['sat_clients']} clients, all sending"
                             + (" (smoke test)" if a.mode == "smoke" else ""))
        if svg:
            with open(svg_path, "w") as f:
                f.write(svg)
            svg_name = os.path.relpath(svg_path, os.path.dirname(os.path.abspath(a.out)))
    text = report(R, a, m, parlors, started, timings, failures, svg_name)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    if failures:
        sys.exit(f"{len(failures)} scenario(s) failed: {', '.join(n for n, _ in failures)}")


if __name__ == "__main__":
    main()
