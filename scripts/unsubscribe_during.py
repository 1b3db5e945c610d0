#!/usr/bin/env python3
"""Measure one-click unsubscribe latency while a command (an import) runs.

Used by scripts/bench-import. Starts COMMAND, and while it runs, THREADS
clients POST RFC 8058 one-click unsubscribes to http://127.0.0.1:PORT,
each request a different pre-signed path from PATHS. Only requests sent
while the command runs count. Then it checks the store: every request
answered 200 is an unsubscribe there (nothing lost).

  unsubscribe_during.py PORT PATHS DB THREADS -- COMMAND...

Prints one line: RESULT key=value ... (latencies in ms).
"""
import http.client
import sqlite3
import subprocess
import sys
import threading
import time


def main():
    port, paths_file, db, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    command = sys.argv[sys.argv.index("--") + 1:]
    with open(paths_file) as f:
        paths = [line.strip() for line in f if line.strip()]
    latencies, errors, lock = [], [], threading.Lock()
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def client(mine):
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=300)
        for path in mine:
            if proc.poll() is not None:
                return
            t0 = time.monotonic()
            try:
                conn.request("POST", path, body="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except Exception as e:  # a refused or reset connection is an error
                status = repr(e)
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=300)
            with lock:
                if status == 200:
                    latencies.append((time.monotonic() - t0) * 1000)
                else:
                    errors.append(status)

    workers = [threading.Thread(target=client, args=(paths[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    code = proc.wait()
    import_secs = time.monotonic() - started
    for w in workers:
        w.join()
    stored = sqlite3.connect(db).execute(
        "SELECT COUNT(*) FROM subscribers WHERE status = 'unsubscribed'").fetchone()[0]
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0

    print(f"RESULT import_exit={code} import_s={import_secs:.2f} ok={len(latencies)} "
          f"errors={len(errors)} stored={stored} p50_ms={pct(0.50):.1f} p99_ms={pct(0.99):.1f} "
          f"max_ms={latencies[-1] if latencies else 0:.1f}")


if __name__ == "__main__":
    main()
