#!/usr/bin/env python3
"""Resource figures of one `parlor` binary, for docs/raspberry-pi.md.

    bench/pi_figures.py target/release/parlor
    bench/pi_figures.py target/aarch64-unknown-linux-gnu/release/parlor \\
        --runner "qemu-aarch64-static -L /usr/aarch64-linux-gnu" --ramp 10

Prints one JSON line: the time from start to the first `200 ok` of /healthz (median of
--starts runs, each on a fresh data directory), the RSS after start-up, and the RSS
with --clients idle native WebSocket connections, each of a registered, logged-in user
(made by `target/release/parlor-load --idle`; `cargo build --release -p bench`).
Under a runner the RSS is the emulator's process: qemu's own memory is included.
"""

import argparse
import http.client
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(cmd, data, extra=()):
    """Starts parlor; returns the process and its address once it prints it."""
    proc = subprocess.Popen(
        cmd + ["serve", "--bind", "127.0.0.1:0", "--data", data, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PARLOR_LOG": "warn"},
    )
    for line in proc.stdout:
        if line.startswith("parlor listening on http://"):
            return proc, line.split("http://", 1)[1].strip()
    raise SystemExit(f"parlor exited before listening: {proc.wait()}")


def healthy(addr):
    host, port = addr.rsplit(":", 1)
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=2)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        return resp.status == 200 and resp.read() == b"ok"
    except OSError:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for {pid}")


def stop(proc):
    """SIGTERM; SIGKILL (and a warning) if that does not end it within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print(f"warning: pid {proc.pid} ignored SIGTERM for 30 s; killed",
              file=sys.stderr)
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--runner", default="", help="command prefix, e.g. qemu")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--ramp", default="100",
                    help="connections per second; parlor-load waits 30 s per login, so "
                    "keep it below the Argon2 hashes per second of the server")
    args = ap.parse_args()
    cmd = shlex.split(args.runner) + [args.binary]

    starts = []
    for _ in range(args.starts):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            proc, addr = start(cmd, os.path.join(tmp, "data"))
            while not healthy(addr):
                time.sleep(0.002)
            starts.append(time.monotonic() - t0)
            stop(proc)

    with tempfile.TemporaryDirectory() as tmp:
        # Under emulation 1,000 Argon2 logins take minutes: no auth timeout meanwhile.
        proc, addr = start(cmd, os.path.join(tmp, "data"), ["--auth-timeout", "1h"])
        try:
            while not healthy(addr):
                time.sleep(0.01)
            time.sleep(2)
            idle = rss_kib(proc.pid)
            t0 = time.monotonic()
            run = subprocess.run(
                [os.path.join(ROOT, "target/release/parlor-load"), "--url", f"ws://{addr}",
                 "--idle", "--clients", str(args.clients), "--ramp", args.ramp,
                 "--server-pid", str(proc.pid), "--json"],
                capture_output=True, text=True,
            )
            if run.returncode != 0:
                raise SystemExit(f"parlor-load failed: {run.stderr.strip()}")
            load = json.loads(run.stdout.strip().splitlines()[-1])
            connect_secs = time.monotonic() - t0
        finally:
            stop(proc)
    if load["connected"] != args.clients:
        raise SystemExit(f"only {load['connected']} of {args.clients} connected")
    print(json.dumps({
        "binary": args.binary,
        "runner": args.runner,
        "start_to_healthz_ms_median": round(statistics.median(starts) * 1000, 1),
        "start_to_healthz_ms_all": [round(s * 1000, 1) for s in starts],
        "rss_idle_kib": idle,
        "rss_connections_kib": load["rss_connected_kib"],
        "connections": load["connected"],
        "connect_secs": round(connect_secs, 1),
    }))


if __name__ == "__main__":
    main()
