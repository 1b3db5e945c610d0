#!/usr/bin/env python3
"""bench-web-idle: `mailroom serve` under held-open hostile connections.

Called by `scripts/bench-web idle` (which builds the binary, imports the
subscribers and signs their unsubscribe paths). For each scenario it starts
serve, measures PROBES `/healthz` requests and PROBES one-click unsubscribes
(a fresh connection each, as a monitor or a mail client makes) before and
while the hostile connections are held open, checks every unsubscribe is in
the store, and counts how many hostile connections the server still holds.

  bench-web-idle.py BIN PATHS DB
"""
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

BIN, PATHS, DB = sys.argv[1:4]
PROBES = int(os.environ.get("PROBES", "200"))
paths = [line.strip() for line in open(PATHS) if line.strip()]
next_path = 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def exchange(port, request, timeout=10.0):
    """One request on its own connection; (status, seconds) or (None, seconds)."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        status = int(data.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        status = None
    return status, time.perf_counter() - start


def healthz(port):
    return exchange(port, b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")


def one_click(port):
    global next_path
    path = paths[next_path]
    next_path += 1
    body = b"List-Unsubscribe=One-Click"
    req = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    return exchange(port, req)


def measure(label, probe, port):
    results = [probe(port) for _ in range(PROBES)]
    ok = [t for status, t in results if status == 200]
    failed = len(results) - len(ok)
    ms = sorted(t * 1000 for t in ok) or [float("nan")]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"  {label:<44} p50 {statistics.median(ms):7.2f} ms  p99 {p99:7.2f} ms  "
        f"max {ms[-1]:7.2f} ms  failed {failed}/{PROBES}"
    )
    return failed


def hold(port, idle, slow):
    socks = []
    for i in range(idle + slow):
        s = socket.create_connection(("127.0.0.1", port))
        if i >= idle:
            s.sendall(f"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow-{i}: a".encode())
        socks.append(s)
    return socks


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def scenario(title, idle, slow, nofile=None):
    port = free_port()
    env = dict(os.environ, MAILROOM_WEB__BIND=f"127.0.0.1:{port}",
               # The hostile connections must stay for the whole measurement.
               MAILROOM_WEB__HEADER_TIMEOUT_SECS="600")
    cmd = [BIN, "--config", "config.toml", "serve"]
    if nofile:
        cmd = ["prlimit", f"--nofile={nofile}:{nofile}"] + cmd
    log = open(os.path.join(os.path.dirname(DB), f"serve-{port}.log"), "w")
    server = subprocess.Popen(cmd, env=env, stderr=log, stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if healthz(port)[0] == 200:
                break
            time.sleep(0.05)
        print(f"{title}")
        with open(log.name) as f:
            limits = [l.strip() for l in f if l.startswith("serve: at most")]
        print(f"  ({limits[0][7:] if limits else 'no limits line'})")
        failed = measure("healthz, nothing held", healthz, port)
        failed += measure("one-click, nothing held", one_click, port)
        socks = hold(port, idle, slow)
        time.sleep(0.5)
        held_label = f"{idle} idle + {slow} slowloris held"
        failed += measure(f"healthz, {held_label}", healthz, port)
        failed += measure(f"one-click, {held_label}", one_click, port)
        held = sum(still_open(s) for s in socks)
        print(f"  hostile connections still held by the server: {held} of {len(socks)}")
        for s in socks:
            s.close()
    finally:
        server.terminate()
        server.wait()
    db = sqlite3.connect(DB)
    stored = db.execute(
        "SELECT COUNT(*) FROM subscribers WHERE status = 'unsubscribed'"
    ).fetchone()[0]
    print(f"  unsubscribed in the store so far: {stored} (expected {next_path})")
    return failed + (0 if stored >= next_path else 1)


fails = scenario("1,000 hostile connections, default limits:", 500, 500)
fails += scenario("ulimit -n 256 (as in issue 10), 300 idle sockets:", 300, 0, nofile=256)
print(f"bench-web idle: {'OK' if fails == 0 else 'FAIL'} (load average "
      f"{open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores)")
sys.exit(1 if fails else 0)
