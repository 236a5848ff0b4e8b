#!/usr/bin/env python3
"""Runs Parlor and its two baselines side by side and writes docs/benchmarks.md.

    scripts/bench.py            # the full scenarios of issue 4/5 (about 15 minutes)
    scripts/bench.py --quick    # shorter runs, same shape (about 4 minutes)

Servers run pinned to CPU 0 and the load generator to CPU 1 (taskset), so the two
never compete for a core. Every figure is measured in the same run as the baselines
it is compared with; the commands are written into the report.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARLOR = os.path.join(ROOT, "target/release/parlor")
LOAD = os.path.join(ROOT, "target/release/parlor-load")
AXUM = os.path.join(ROOT, "target/release/baseline-axum")
HISTORY = os.path.join(ROOT, "target/release/parlor-history")
NODE_WS = os.path.join(ROOT, "bench/baseline-ws.mjs")


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
    """One server under test: parlor, baseline-axum or node-ws."""

    def __init__(self, kind, data=None):
        self.kind = kind
        self.port = free_port()
        self.keep = data is not None
        self.data = data or tempfile.mkdtemp(prefix="parlor-bench-")
        if kind == "parlor":
            argv = [PARLOR, "serve", "--bind", f"127.0.0.1:{self.port}", "--data", self.data,
                    "--rate-limit", "100000000"]
        elif kind == "axum":
            argv = [AXUM, f"127.0.0.1:{self.port}"]
        else:
            argv = ["node", NODE_WS, f"127.0.0.1:{self.port}"]
        self.argv = pinned(0, argv)
        env = dict(os.environ, PARLOR_LOG="warn")
        launched = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.start_secs = wait_healthy(self.port, start=launched)

    @property
    def dialect(self):
        return "native" if self.kind == "parlor" else "raw"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if not self.keep:
            shutil.rmtree(self.data, ignore_errors=True)


COMMANDS = []


def load(server, dialect=None, **kw):
    argv = [LOAD, "--url", f"ws://127.0.0.1:{server.port}", "--dialect", dialect or server.dialect,
            "--server-pid", str(server.proc.pid), "--json", "--prefix", f"u{int(time.time() * 1000) % 100000000}x"]
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            argv.append(flag)
        else:
            argv += [flag, str(v)]
    cmd = pinned(1, argv)
    COMMANDS.append(" ".join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"parlor-load failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fanout(quick):
    rows = []
    secs = "8s" if quick else "20s"
    for kind in ["parlor", "axum", "node"]:
        s = Server(kind)
        try:
            r = load(s, clients=200, senders=10, rate=20, duration=secs)
            rows.append((kind if kind != "parlor" else "parlor (native)", r))
            if kind == "parlor":
                for d in ["rwci", "workspace", "workshop"]:
                    rows.append((f"parlor ({d})", load(s, dialect=d, clients=200, senders=10, rate=20, duration=secs)))
        finally:
            s.stop()
    return rows


def saturation(quick):
    results = {}
    rates = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64]
    secs = "4s" if quick else "10s"
    for kind in ["parlor", "axum", "node"]:
        best = None
        steps = []
        for rate in rates:
            s = Server(kind)
            try:
                r = load(s, clients=100, senders=100, rate=rate, duration=secs, drain="2s")
            finally:
                s.stop()
            ok = r["p99_ms"] <= 100 and r["delivery_ratio"] >= 0.99
            steps.append((rate, r, ok))
            if ok:
                best = r
            else:
                break
        results[kind] = (best, steps)
    return results


def idle_memory(quick):
    rows = []
    counts = [1000, 2000] if quick else [5000, 10000]
    for kind in ["parlor", "axum", "node"]:
        for n in counts:
            s = Server(kind)
            try:
                # Parlor: native logins (an Argon2 hash per user, ~33 a second on one
                # core), 3 connections per user, never subscribed; baselines: plain sockets.
                if kind == "parlor":
                    r = load(s, dialect="native", clients=n, idle=True, ramp=100)
                else:
                    r = load(s, dialect="raw", clients=n, idle=True, ramp=2000)
                rows.append((kind, n, r))
            finally:
                s.stop()
    return rows


def durable_acks(quick):
    s = Server("parlor")
    try:
        return load(s, clients=1, senders=1, rate=0, window=512, duration="5s" if quick else "10s", drain="2s")
    finally:
        s.stop()


def start_median(data=None, runs=5):
    """Median time from launching `parlor serve` to its first `200 ok` on /healthz."""
    times = []
    for _ in range(runs):
        s = Server("parlor", data=data)
        times.append(s.start_secs)
        s.stop()
    return sorted(times)[len(times) // 2]


def history(quick):
    """The history-heavy room, then the store grown to 1 M messages for the start time."""
    data = tempfile.mkdtemp(prefix="parlor-bench-history-")
    total = 200_000 if quick else 1_000_000
    try:
        s = Server("parlor", data=data)
        try:
            argv = pinned(1, [HISTORY, "--url", f"ws://127.0.0.1:{s.port}", "--json",
                              "--messages", str(20_000 if quick else 100_000),
                              "--replay", str(2_000 if quick else 10_000)])
            COMMANDS.append(" ".join(argv))
            hist = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True,
                                             timeout=900).stdout.strip().splitlines()[-1])
            argv = pinned(1, [HISTORY, "--url", f"ws://127.0.0.1:{s.port}", "--json", "--seed-only",
                              "--prefix", "grow", "--messages", str(total - hist["stored"])])
            COMMANDS.append(" ".join(argv))
            subprocess.run(argv, capture_output=True, text=True, check=True, timeout=900)
        finally:
            s.stop()
        return hist, total, start_median(data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def ms(x):
    return f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/benchmarks.md"))
    a = ap.parse_args()
    for exe in [PARLOR, LOAD, AXUM, HISTORY]:
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: run `scripts/dev build && cargo build --release -p bench` first")

    started = time.time()
    start_secs = start_median()
    fan = fanout(a.quick)
    sat = saturation(a.quick)
    idle = idle_memory(a.quick)
    acks = durable_acks(a.quick)
    hist, stored, start_full = history(a.quick)

    floor = sat["axum"][0]["deliveries_per_sec"] if sat["axum"][0] else 0
    node = sat["node"][0]["deliveries_per_sec"] if sat["node"][0] else 0
    mine = sat["parlor"][0]["deliveries_per_sec"] if sat["parlor"][0] else 0

    lines = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this project's build machine "
        f"({os.cpu_count()} cores), {'quick mode (shorter runs)' if a.quick else 'full scenarios'}; "
        f"{(time.time() - started) / 60:.0f} minutes. Servers on CPU 0, load generator on CPU 1 (`taskset`). "
        "Parlor runs as shipped (SQLite, WAL, fsync on every commit) but for its per-user rate limit, "
        "raised by flag. Baselines: `baseline-axum` (axum + `tokio::sync::broadcast`, "
        "no auth, no JSON, no persistence) and Node 20 + `ws` (`bench/baseline-ws.mjs`).",
        "",
        "Reproduce: `scripts/dev build && cargo build --release -p bench && scripts/bench.py` (add `--quick`). "
        "What the profiles showed, what changed and what is left: [`performance.md`](performance.md).",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    ratio_floor = mine / floor if floor else 0
    ratio_node = mine / node if node else 0
    lines.append(f"| sustained deliveries/s ≥ 0.9 × axum floor | {ratio_floor:.2f} × ({mine:,.0f} vs {floor:,.0f}) | {'met' if ratio_floor >= 0.9 else 'missed'} |")
    lines.append(f"| sustained deliveries/s ≥ 1.2 × Node `ws` | {ratio_node:.2f} × ({mine:,.0f} vs {node:,.0f}) | {'met' if ratio_node >= 1.2 else 'missed'} |")
    half = [r for (rate, r, ok) in sat["parlor"][1] if ok and floor and r["deliveries_per_sec"] <= floor / 2]
    if half:
        p99 = half[-1]["p99_ms"]
        lines.append(f"| p99 ≤ 5 ms at half the floor's rate | {ms(p99)} ms at {half[-1]['deliveries_per_sec']:,.0f}/s | {'met' if p99 <= 5 else 'missed'} |")
    per_conn = [r["bytes_per_connection"] for (k, n, r) in idle if k == "parlor" and r.get("bytes_per_connection")]
    if per_conn:
        worst = max(per_conn)
        lines.append(f"| ≤ 8 KB RSS per idle connection | {worst / 1024:.1f} KiB | {'met' if worst <= 8192 else 'missed'} |")
    lines.append(f"| durable acks ≥ 10,000 msg/s | {acks['acks_per_sec']:,.0f} acks/s | {'met' if acks['acks_per_sec'] >= 10000 else 'missed'} |")
    lines.append(f"| start to `/healthz` < 100 ms (empty store) | {start_secs * 1000:.1f} ms (median of 5) | {'met' if start_secs < 0.1 else 'missed'} |")
    lines.append(f"| start to `/healthz` < 500 ms (1 M messages) | {start_full * 1000:.1f} ms with {stored:,} messages (median of 5) | {'met' if start_full < 0.5 and stored >= 1_000_000 else ('met at this size' if start_full < 0.5 else 'missed')} |")
    lines += ["", "## Fan-out: 200 clients, 10 senders × 20 msg/s", "",
              "| server | deliveries/s | delivery ratio | p50 ms | p90 ms | p99 ms | max ms | server RSS | audit: missing / twice |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, r in fan:
        lines.append(f"| {name} | {r['deliveries_per_sec']:,.0f} | {r['delivery_ratio']:.4f} | {ms(r['p50_ms'])} | {ms(r['p90_ms'])} | "
                     f"{ms(r['p99_ms'])} | {ms(r['max_ms'])} | {(r['rss_end_kib'] or 0) / 1024:.1f} MiB | {r['audit_missing']} / {r['audit_repeated'] + r['duplicates']} |")
    lines += ["", "## Saturation: 100 clients, all sending, rate stepped up", "",
              "The highest step with p99 ≤ 100 ms and delivery ratio ≥ 99 %.", "",
              "| server | highest passing rate per sender | deliveries/s | p99 ms | next step |", "|---|---|---|---|---|"]
    for kind, (best, steps) in sat.items():
        nxt = next((f"{rate}/s: p99 {ms(r['p99_ms'])} ms, ratio {r['delivery_ratio']:.3f}" for rate, r, ok in steps if not ok), "not reached")
        if best:
            lines.append(f"| {kind} | {best['rate_per_sender']:g}/s | {best['deliveries_per_sec']:,.0f} | {ms(best['p99_ms'])} | {nxt} |")
        else:
            lines.append(f"| {kind} | none passed | | | {nxt} |")
    lines += ["", "## Idle connections", "",
              "Parlor's connections are logged-in native connections that never subscribe, three per user "
              "(the first logs in with the password, the others with its session token), so the server sends "
              "them nothing but pings; the baselines' are plain WebSockets. RSS is read once every connection "
              "is in and the server's CPU has been quiet for 2 s (plus 11 s, so Parlor's heap trim after a quiet 5 s check has run); "
              "every connection must still be open then.", "",
              "| server | connections | RSS before | RSS connected | bytes per connection |", "|---|---|---|---|---|"]
    for kind, n, r in idle:
        lines.append(f"| {kind} | {r['connected']:,} | {(r['rss_start_kib'] or 0) / 1024:.1f} MiB | "
                     f"{(r['rss_connected_kib'] or 0) / 1024:.1f} MiB | {r['bytes_per_connection'] or 0:,.0f} |")
    lines += ["", "## Durable acks: one native sender, 512 in flight", "",
              f"{acks['acked']:,} messages acknowledged in {acks['seconds']:g} s: **{acks['acks_per_sec']:,.0f} acks/s**, "
              f"each committed to SQLite with fsync before its answer (group commit); p50 delivery "
              f"{ms(acks['p50_ms'])} ms.", "",
              "## History-heavy room", "",
              f"{hist['stored']:,} messages in `#General` (stored at {hist['stored_per_sec']:,.0f} msg/s by 8 pipelined senders). "
              "Medians of 21 requests on one logged-in connection.", "",
              "| what | time |", "|---|---|",
              f"| first page (latest 50, `getMessages`) | {hist['first_page_ms']:.2f} ms |",
              f"| a page from the middle of the history (`endId`) | {hist['deep_page_ms']:.2f} ms |",
              f"| replay of {hist['replayed']:,} missed events (`subscribe` with `lastEventId`, until the last arrives) | "
              f"{hist['replay_ms']:.0f} ms ({hist['replayed_per_sec']:,.0f} events/s) |",
              f"| start to `/healthz` with {stored:,} messages | {start_full * 1000:.1f} ms (median of 5) |", "",
              "## Commands", "", "```"] + COMMANDS + ["```", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
