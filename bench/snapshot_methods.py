#!/usr/bin/env python3
"""Which way of copying a live SQLite database finishes under a steady write load?

`parlor backup` copies the database while the server's writer commits. This compares
SQLite's online backup API (step-wise: `pages` per step, restarted whenever another
connection commits between two steps) with `VACUUM INTO` (one read transaction), as
docs/backup.md reports. A writer process commits small transactions (a row of ~200
bytes each, WAL, synchronous=FULL as Parlor's writer) as fast as it
can, like the group-commit writer under load; the copy runs in this process.

    python3 bench/snapshot_methods.py [MB] [seconds-allowed]
"""

import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time


def writer(path, stop, commits):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    n = 0
    while not stop.is_set():
        conn.execute("BEGIN")
        conn.execute("INSERT INTO messages (body) VALUES (?)", ("x" * 200,))
        conn.execute("COMMIT")
        n += 1
    commits.value = n


def fill(path, mb):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("BEGIN")
    rows = mb * 1_000_000 // 230
    conn.executemany(
        "INSERT INTO messages (body) VALUES (?)", (("y" * 200,) for _ in range(rows))
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def backup_api(src, out, pages, allowed):
    dst = sqlite3.connect(out)
    started = time.monotonic()
    steps = [0]

    def progress(status, remaining, total):
        steps[0] += 1
        if time.monotonic() - started > allowed:
            raise TimeoutError

    try:
        src.backup(dst, pages=pages, progress=progress, sleep=0)
        return time.monotonic() - started, steps[0]
    except TimeoutError:
        return None, steps[0]
    finally:
        dst.close()


def vacuum_into(src, out):
    started = time.monotonic()
    src.execute("VACUUM INTO ?", (out,))
    return time.monotonic() - started


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    allowed = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "parlor.db")
        fill(path, mb)
        size = os.path.getsize(path) / 1e6
        print(f"SQLite {sqlite3.sqlite_version}, database {size:.1f} MB")
        for label in ["backup API, 100 pages a step", "backup API, 1000 pages a step",
                      "VACUUM INTO"]:
            for load in [False, True]:
                stop = multiprocessing.Event()
                commits = multiprocessing.Value("l", 0)
                proc = None
                if load:
                    proc = multiprocessing.Process(target=writer, args=(path, stop, commits))
                    proc.start()
                    time.sleep(0.5)
                src = sqlite3.connect(path, isolation_level=None)
                out = os.path.join(tmp, "copy.db")
                if os.path.exists(out):
                    os.remove(out)
                began = time.monotonic()
                if label.startswith("VACUUM"):
                    took, steps = vacuum_into(src, out), 1
                else:
                    pages = int(label.split(", ")[1].split()[0])
                    took, steps = backup_api(src, out, pages, allowed)
                spent = time.monotonic() - began
                src.close()
                if proc:
                    stop.set()
                    proc.join()
                rate = f", writer {commits.value / (spent + 0.5):.0f} commits/s" if load else ""
                result = f"{took:.2f} s" if took is not None else f"not done after {allowed:.0f} s"
                print(f"{label:32} {'under load' if load else 'idle':10} {result} "
                      f"({steps} steps{rate})")


if __name__ == "__main__":
    main()
