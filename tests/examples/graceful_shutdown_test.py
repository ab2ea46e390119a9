#!/usr/bin/env python3
"""Runs examples/graceful_shutdown, sends it SIGTERM once it says "ready", and checks that it
stops every worker and exits 0 (bounded: 30 s in all)."""
import signal
import subprocess
import sys

exe = sys.argv[1]
p = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
try:
    first = p.stdout.readline().strip()
    if first != "ready":
        sys.exit(f"expected 'ready', got {first!r}")
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("the program did not stop within 30 s of SIGTERM")
lines = out.splitlines()
expected = ["got SIGTERM, shutting down", "worker 0 stopped", "worker 1 stopped", "worker 2 stopped",
            "all workers stopped; exiting cleanly"]
if sorted(lines) != sorted(expected) or lines[0] != expected[0] or lines[-1] != expected[-1]:
    sys.exit("unexpected output:\n" + out)
if p.returncode != 0:
    sys.exit(f"exit status {p.returncode}, expected 0")
print("ok:", " | ".join(lines))
