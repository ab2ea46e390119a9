#!/usr/bin/env python3
"""bench/run.py: builds and runs the benchmark of docs/design/benchmarks-method.md, and prints its one table.

    python3 bench/run.py                 # build all, run W1-W8 x every runtime, 5 times
    python3 bench/run.py --quick         # smoke run: N divided by 10 (W5: 0.2 s + 0.5 s), one repetition
    python3 bench/run.py --only w1,w3 --runs 5 --runtimes asyncio,tokio
    python3 bench/run.py --only w5 --syscalls    # W5, plus one run per server counting its syscalls

Each workload x runtime runs as its own process under `/usr/bin/time -f '%e %M'` (whole
process wall time, peak RSS), interleaved: within each repetition, every runtime runs a
workload before the next workload starts, in an order shuffled for each repetition. Medians
are taken over the repetitions, with the min-max of each headline figure beside them. Each
program prints one line `RESULT workload=... runtime=... n=... ns_per_op=...` with the
figure it timed from inside and checks its own result (it exits non-zero if wrong).

W5 (TCP echo) is a server and a load generator instead (run_echo_workload): the server starts
pinned on CPU 0 and prints `READY port=N`; bench/w5_echo/loadgen, pinned on CPU 1, drives it
and prints the RESULT line, whose ns_per_op is the server's CPU time per request over the
measured window; then the server is killed. A runtime whose program is missing is left out
("–"), one whose program is not built is listed as "not built": neither counts as a result
or as a failure.

A full run (every workload and runtime, full N) writes docs/benchmarks.md and
docs/benchmarks.png, and its raw figures to build/bench/results/raw.json; a quick or
partial run writes all three to build/bench/results/partial/ instead, so that smoke figures
never replace the published ones. `--report-only` redraws the table, document and chart
from a raw.json without running anything.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = ROOT / "build" / "bench"          # the `bench` preset's binaryDir
CMAKE_BIN = BUILD / "bench"               # bench/CMakeLists.txt puts <workload>/{asyncio,asio} here
TOKIO_BIN = BUILD / "tokio" / "release"   # bench/tokio/.cargo/config.toml's target-dir
GO_BIN = BUILD / "go"
RESULTS = BUILD / "results"               # raw.json of the last full run
PARTIAL = RESULTS / "partial"             # quick and partial runs: raw.json, benchmarks.md/.png
TIME = "/usr/bin/time"
RUN_TIMEOUT_S = 900
LOADGEN = CMAKE_BIN / "w5_echo" / "loadgen"   # W5's load generator (bench/w5_echo/loadgen.c)
SERVER_CPU, LOADGEN_CPU = "0", "1"            # W5: `taskset -c` of the server and of the load generator
READY_TIMEOUT_S = 30                          # W5: how long a server may take to print READY
IDLEGEN = CMAKE_BIN / "w7_idle" / "idlegen"   # W7's client side (bench/w7_idle/idlegen.c)
HOLD_TIMEOUT_S = 300                          # W7: how long opening every connection may take
SETTLE_S = 0.5                                # W7: the pause between the last connection and the RSS reading


# ------------------------------------------------------------------------------ workloads

@dataclass
class Workload:
    name: str          # directory under bench/ (unless `directory` says otherwise)
    title: str         # for the table and chart
    unit: str          # what the internal figure is per
    args: list[str]    # command-line arguments at the size docs/design/benchmarks-method.md fixes
    quick_args: list[str]
    ops: int           # operations at full size: W4's peak RSS is divided by this
    sleeps_1s: bool = False  # W4: the internal figure is the overhead beyond 1 s
    kind: str = "loop"       # "echo": W5, a server driven by the load generator; args are then
                             # connections, message size, warm-up s, measured s. "idle": W7, a W5 server
                             # holding idle connections; args are connections, message size
    directory: str = ""      # the programs' directory under bench/, if not `name`

    @property
    def dir(self) -> str:
        return self.directory or self.name

    def sizes(self, quick: bool) -> str:
        a = self.quick_args if quick else self.args
        if self.kind == "echo":
            return f"{self.title} {int(a[0])} connections, {a[2]} s warm-up + {a[3]} s measured"
        if self.kind == "idle":
            return f"{self.title} {int(a[0]):,} connections, one {int(a[1])} B echo each"
        return f"{self.title} " + " × ".join(f"{int(x):,}" for x in a)


WORKLOADS = [
    Workload("w1_spawn_join", "W1 spawn-join", "task", ["1000000"], ["100000"], 1_000_000),
    Workload("w2_yield_storm", "W2 yield storm", "yield", ["1000", "1000"], ["100", "1000"], 1_000_000),
    Workload("w3_ping_pong", "W3 ping-pong", "round trip", ["1000000"], ["100000"], 1_000_000),
    Workload("w4_sleepers", "W4 sleepers", "task", ["1000000"], ["100000"], 1_000_000, sleeps_1s=True),
    # W4j: the same programs, each sleep lengthened by a seeded jitter of 0-999 µs (their second argument).
    Workload("w4j_jitter", "W4j sleepers, jittered deadlines", "task", ["1000000", "1000"], ["100000", "1000"],
             1_000_000, sleeps_1s=True, directory="w4_sleepers"),
    Workload("w5_echo_64", "W5 echo 64 B", "request", ["100", "64", "1", "5"], ["100", "64", "0.2", "0.5"], 0,
             kind="echo", directory="w5_echo"),
    Workload("w5_echo_16k", "W5 echo 16 KiB", "request", ["100", "16384", "1", "5"], ["100", "16384", "0.2", "0.5"],
             0, kind="echo", directory="w5_echo"),
    Workload("w6_offload", "W6 to_thread round trip", "round trip", ["100000"], ["10000"], 100_000),
    Workload("w6_threadsafe", "W6 call_soon_threadsafe, 4 threads", "callback", ["250000"], ["25000"], 1_000_000),
    Workload("w7_idle", "W7 idle connections", "connection", ["10000", "64"], ["1000", "64"], 10_000,
             kind="idle", directory="w5_echo"),
    Workload("w8_spawn", "W8 spawn /bin/true, 16 at a time", "child", ["1000", "16"], ["100", "16"], 1000),
]


def quick_ops(w: Workload) -> int:
    if w.kind == "echo":
        return 0
    if w.kind == "idle" or w.name == "w8_spawn" or w.sleeps_1s:  # W8: 16 at a time; W4j: J is no count
        return int(w.quick_args[0])
    n = 1
    for a in w.quick_args:
        n *= int(a)
    return n


# ------------------------------------------------------------------------------- runtimes

@dataclass
class Runtime:
    key: str
    label: str
    source: str                 # file name in bench/<workload>/
    note: str = ""              # why it is missing, if it is
    env: dict = field(default_factory=dict)

    def has_program(self, w: Workload) -> bool:
        return (BENCH / w.dir / self.source).exists()

    def command(self, w: Workload, args: list[str], python: str) -> list[str] | None:
        """The command that runs this runtime's program of `w`, or None if it is missing or not built."""
        src = BENCH / w.dir / self.source
        if not src.exists():
            return None
        if self.key in ("asyncio", "asio", "c_epoll", "asyncio_streams"):
            exe = CMAKE_BIN / w.dir / self.key
        elif self.key == "tokio":
            exe = TOKIO_BIN / w.dir
        elif self.key == "go":
            exe = GO_BIN / w.dir
        elif self.key in ("cpython", "cpython_streams"):
            return [python, str(src), *args]
        elif self.key in ("uvloop", "uvloop_streams"):
            return ["/usr/bin/python3", str(src), "--uvloop", *args]
        elif self.key == "node":
            return ["node", str(src), *args]
        else:
            raise AssertionError(self.key)
        return [str(exe), *args] if exe.exists() else None


RUNTIMES = [
    Runtime("asyncio", "asyncio (ours)", "asyncio.cpp"),
    Runtime("cpython", "CPython", "cpython.py"),
    Runtime("uvloop", "uvloop", "cpython.py"),
    Runtime("asio", "asio", "asio.cpp"),
    Runtime("tokio", "Tokio", "tokio.rs"),
    Runtime("go", "Go", "go.go", env={"GOMAXPROCS": "1"}),
    Runtime("node", "Node.js", "node.js"),
    Runtime("c_epoll", "C epoll", "c_epoll.c"),  # W5 only: a plain-C epoll server, the practical limit
    # W5 only: the same servers written with streams (start_server, StreamReader.read, write, drain).
    Runtime("asyncio_streams", "asyncio streams (ours)", "asyncio_streams.cpp"),
    Runtime("cpython_streams", "CPython streams", "cpython_streams.py"),
    Runtime("uvloop_streams", "uvloop streams", "cpython_streams.py"),
]

# The commit the programs were built from, taken before the run (the run itself writes docs/ and
# would make the tree look dirty).
COMMIT = ""

# Why a workload cannot run at all, whatever the runtime (W5: no load generator, no taskset).
WORKLOAD_NOTES: dict[str, str] = {}


# ---------------------------------------------------------------------------------- build

def sh(cmd: list[str], cwd: Path = ROOT, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, cwd=cwd, env=full_env, check=check)


def capture(cmd: list[str], cwd: Path = ROOT) -> str:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout + out.stderr).strip() if out.returncode == 0 else ""


def build(runtimes: list[Runtime], workloads: list[Workload], python: str) -> None:
    """Builds the programs of `workloads` for `runtimes`, and nothing else. A runtime whose build
    fails gets a note (its runs fail, never run a stale binary); a workload that cannot run at
    all (W5 without its load generator) gets one in WORKLOAD_NOTES."""
    keys = {r.key for r in runtimes}
    failed: dict[str, str] = {}
    dirs = list(dict.fromkeys(w.dir for w in workloads))  # each directory once (W5's two sizes share one)
    echo = [w for w in workloads if w.kind == "echo"]
    idle = [w for w in workloads if w.kind == "idle"]
    served = echo + idle  # the workloads of the W5 servers, pinned with taskset

    cmake_keys = sorted(keys & {"asyncio", "asio", "c_epoll", "asyncio_streams"})
    if cmake_keys or served:
        try:
            sh(["cmake", "--preset", "bench"])
        except (OSError, subprocess.CalledProcessError) as e:
            for k in cmake_keys:
                failed[k] = f"cmake --preset bench failed ({e})"
            for w in served:
                WORKLOAD_NOTES[w.name] = f"cmake --preset bench failed ({e}): no load generator"
        else:
            if echo:
                try:
                    sh(["cmake", "--build", "--preset", "bench", "--target", "bench_w5_echo_loadgen"])
                except (OSError, subprocess.CalledProcessError) as e:
                    for w in echo:
                        WORKLOAD_NOTES[w.name] = f"CMake build of the load generator failed ({e})"
            if idle:
                try:
                    sh(["cmake", "--build", "--preset", "bench", "--target", "bench_w7_idle_idlegen"])
                except (OSError, subprocess.CalledProcessError) as e:
                    for w in idle:
                        WORKLOAD_NOTES[w.name] = f"CMake build of the idle client failed ({e})"
            by_key = {r.key: r for r in runtimes}
            for k in cmake_keys:  # one runtime at a time, so that a failure on one side spares the others
                targets = [f"bench_{d}_{k}" for d in dirs if (BENCH / d / by_key[k].source).exists()]
                if not targets:
                    continue
                try:
                    sh(["cmake", "--build", "--preset", "bench", "--target", *targets])
                except (OSError, subprocess.CalledProcessError) as e:
                    failed[k] = f"CMake build of {' '.join(targets)} failed ({e})"

    if "tokio" in keys and any((BENCH / d / "tokio.rs").exists() for d in dirs):
        if shutil.which("cargo") is None:
            failed["tokio"] = "cargo not found (bench/install.sh)"
        else:
            try:
                # cwd = bench/tokio, so that bench/tokio/.cargo/config.toml applies.
                sh(["cargo", "build", "--release", "--offline"], cwd=BENCH / "tokio")
            except (OSError, subprocess.CalledProcessError) as e:
                failed["tokio"] = f"cargo build failed ({e})"

    if "go" in keys:
        if shutil.which("go") is None:
            failed["go"] = "go not found (bench/install.sh)"
        else:
            GO_BIN.mkdir(parents=True, exist_ok=True)
            for d in dirs:
                src = BENCH / d / "go.go"
                if src.exists():
                    try:
                        sh(["go", "build", "-o", str(GO_BIN / d), str(src)])
                    except (OSError, subprocess.CalledProcessError) as e:
                        failed["go"] = f"go build failed ({e})"

    if "cpython" in keys and shutil.which(python) is None:
        failed["cpython"] = f"{python} not found"
    if "uvloop" in keys:
        ok = Path("/usr/bin/python3").exists() and subprocess.run(
            ["/usr/bin/python3", "-c", "import uvloop"], capture_output=True).returncode == 0
        if not ok:
            failed["uvloop"] = "/usr/bin/python3 cannot import uvloop (python3-uvloop; bench/install.sh)"
    if "node" in keys and shutil.which("node") is None:
        failed["node"] = "node not found"

    if served and shutil.which("taskset") is None:
        for w in served:
            WORKLOAD_NOTES.setdefault(w.name, "taskset not found (util-linux)")
    if echo and (os.cpu_count() or 1) < 2:
        for w in echo:
            WORKLOAD_NOTES.setdefault(w.name, "W5 needs 2 CPUs (server on CPU 0, load generator on CPU 1)")

    for r in runtimes:
        if r.key in failed:
            r.note = failed[r.key]
            print(f"warning: {r.label}: {r.note}", file=sys.stderr)
    for name, note in WORKLOAD_NOTES.items():
        print(f"warning: {name}: {note}", file=sys.stderr)


# ------------------------------------------------------------------------------------ run

@dataclass
class Sample:
    ns_per_op: float | None = None  # W5: the server's CPU ns per request over the measured window
    overhead_ms: float | None = None
    wall_s: float | None = None     # /usr/bin/time's %e (10 ms resolution)
    wall_ms: float | None = None    # the same process timed by this script (around /usr/bin/time)
    rss_kib: int | None = None      # /usr/bin/time's %M; W5: the server's VmHWM after the load
    error: str = ""                 # the run failed (counted: run.py exits 1)
    missing: str = ""               # not run: "no program" or "not built" (not counted, not a result)
    # W5 (the load generator's RESULT line):
    rps: float | None = None        # requests served per second in the window
    mb_s: float | None = None       # payload echoed per second, 10^6 bytes (one direction)
    p50_us: float | None = None     # round-trip latency percentiles
    p99_us: float | None = None
    p999_us: float | None = None
    server_cpu_pct: float | None = None   # the server's CPU time / window (100 = one core busy)
    server_sys_pct: float | None = None   # the kernel's share of it (from /proc/PID/stat's ticks)
    tick_ns_per_op: float | None = None   # ns_per_op from /proc/PID/stat's 10 ms ticks: a cross-check
    loadgen_cpu_pct: float | None = None  # the load generator's own CPU time / window
    n: int | None = None                  # requests served in the window
    # W5 --syscalls: a separate run, under `perf stat` (or `strace -c`), whose only figures are these
    syscalls_per_op: float | None = None
    syscalls: str = ""                    # the main ones per request, e.g. "recvfrom 1.00, sendto 1.00"
    kind: str = ""                        # "syscalls" for such a run
    # W7: the server's VmRSS before the connections and with all of them held, and the difference per
    # connection (bytes); how long opening them all took (ms, each one echoed once)
    rss_before_kib: int | None = None
    rss_held_kib: int | None = None
    rss_per_conn_b: float | None = None
    open_ms: float | None = None


def run_loop_workload(w: Workload, r: Runtime, args: list[str], python: str) -> Sample:
    if r.note:  # its build failed: never run a stale binary
        return Sample(error=r.note)
    cmd = r.command(w, args, python)
    if cmd is None:
        return missing_sample(w, r)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        try:
            start = time.perf_counter()
            proc = subprocess.run([TIME, "-o", tf.name, "-f", "%e %M", *cmd], capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S, env={**os.environ, **r.env}, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return Sample(error=f"timed out after {RUN_TIMEOUT_S} s")
        wall_ms = (time.perf_counter() - start) * 1e3
        time_lines = [ln for ln in Path(tf.name).read_text().splitlines() if ln.strip()]
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Sample(error=f"exit {proc.returncode}: {tail}")
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = dict(kv.split("=", 1) for kv in line.split()[1:])
    if result is None:
        return Sample(error="no RESULT line")
    wall, rss = time_lines[-1].split()
    return Sample(ns_per_op=float(result["ns_per_op"]),
                  overhead_ms=float(result["overhead_ms"]) if "overhead_ms" in result else None,
                  wall_s=float(wall), wall_ms=wall_ms, rss_kib=int(rss))


def missing_sample(w: Workload, r: Runtime) -> Sample:
    """A runtime that cannot run `w`: its program is not built, or there is none (a peer may have no
    counterpart of a workload; this library's own missing program, bench/w5_echo/asyncio.cpp before it is
    written, is shown as not built all the same)."""
    if r.has_program(w):
        return Sample(missing="not built")
    return Sample(missing=f"not built (no bench/{w.dir}/{r.source})" if r.key == "asyncio" else "no program")


def parse_result(stdout: str) -> dict[str, str] | None:
    result = None
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = dict(kv.split("=", 1) for kv in line.split()[1:])
    return result


def as_float(x: str | None) -> float | None:
    try:
        v = float(x) if x is not None else None
    except ValueError:
        return None
    return None if v is None or v != v else v  # nan: not measured


def vm_hwm_kib(pid: int, field: str = "VmHWM") -> int | None:
    """A memory figure of /proc/PID/status, KiB: VmHWM (peak RSS) by default, or VmRSS (now)."""
    try:
        m = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def server_rss_kib(proc: subprocess.Popen) -> int | None:
    """The resident memory of a server started by start_server now, KiB (taskset execs the server: proc.pid is the
    server's own)."""
    return vm_hwm_kib(proc.pid, "VmRSS")


def read_line(stream, deadline: float) -> str:
    """One line from a pipe before `deadline` (time.monotonic()), or "" if none came."""
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(stream.fileno(), 1)
        if not chunk:
            break
        buf += chunk
        if chunk == b"\n":
            break
    return buf.decode(errors="replace")


def server_command(w: Workload, r: Runtime, python: str, client: Path, what: str, target: str) -> list[str] | Sample:
    """The command of r's W5 server (port 0), or the Sample that says why it cannot run: its build failed, the
    workload cannot run here, `client` (the load generator or the idle client) is not built, or no program."""
    if r.note:
        return Sample(error=r.note)
    if w.name in WORKLOAD_NOTES:
        return Sample(error=WORKLOAD_NOTES[w.name])
    if not client.exists():
        return Sample(error=f"no {what} ({client.relative_to(ROOT)}; build target {target})")
    cmd = r.command(w, ["0"], python)
    return missing_sample(w, r) if cmd is None else cmd


def run_idle_workload(w: Workload, r: Runtime, args: list[str], python: str) -> Sample:
    """One W7 run: a new W5 server on CPU 0; its VmRSS is read, then bench/w7_idle/idlegen (CPU 1) opens `args[0]`
    connections one after the other, each echoing one message of `args[1]` bytes and then idling; with all of them
    held (and SETTLE_S later) the server's VmRSS is read again, the connections are closed and the server killed.
    The figure is the growth per connection, in bytes."""
    cmd = server_command(w, r, python, IDLEGEN, "idle client", "bench_w7_idle_idlegen")
    if isinstance(cmd, Sample):
        return cmd
    conns, size = args
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as gen_err:
        proc, port, problem = start_server(cmd, r.env, err)
        gen = None
        try:
            if problem:
                return Sample(error=f"{problem}: {tail_of(err)}")
            time.sleep(SETTLE_S)
            before = server_rss_kib(proc)
            gen = subprocess.Popen(["taskset", "-c", LOADGEN_CPU, str(IDLEGEN), "127.0.0.1", str(port), conns, size,
                                    r.key], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=gen_err, cwd=ROOT)
            held = read_line(gen.stdout, time.monotonic() + HOLD_TIMEOUT_S)
            m = re.match(r"HELD n=(\d+) ms=([0-9.]+)", held)
            if not m:
                why = "no HELD line" if gen.poll() is None else f"exit {gen.wait()}"
                return Sample(error=f"idle client: {why}: {tail_of(gen_err)}"
                                    + ("" if proc.poll() is None else f" (server: {tail_of(err)})"))
            time.sleep(SETTLE_S)
            after = server_rss_kib(proc)
            gen.stdin.close()
            rest = gen.stdout.read().decode(errors="replace")
            rc = gen.wait(timeout=60)
        finally:
            if gen and gen.poll() is None:
                gen.kill()
                gen.wait()
            stop_server(proc)
        if rc != 0:
            return Sample(error=f"idle client exit {rc}: {tail_of(gen_err)}")
    result = parse_result(rest)
    if result is None or before is None or after is None:
        return Sample(error="no RESULT line from the idle client, or no VmRSS")
    n = int(result["n"])
    return Sample(rss_before_kib=before, rss_held_kib=after, rss_kib=after, n=n,
                  rss_per_conn_b=(after - before) * 1024 / n, open_ms=float(m.group(2)))


def start_server(cmd: list[str], env: dict, stderr) -> tuple[subprocess.Popen, int | None, str]:
    """Starts a W5 server pinned on SERVER_CPU and waits for its `READY port=N` line: (process, port, error)."""
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, *cmd], stdout=subprocess.PIPE, stderr=stderr,
                            env={**os.environ, **env}, cwd=ROOT, text=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    buf = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096).decode(errors="replace")
            if not chunk:  # its stdout closed: it is exiting
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
                break
            buf += chunk
            m = re.search(r"^READY port=(\d+)$", buf, re.M)
            if m:
                return proc, int(m.group(1)), ""
        elif proc.poll() is not None:
            break
    return proc, None, "no READY line" if proc.poll() is None else f"server exited {proc.returncode} before READY"


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: every server dies of it (none handles it)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def tail_of(f) -> str:
    f.seek(0)
    lines = [ln for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "?"


def run_echo_workload(w: Workload, r: Runtime, args: list[str], python: str, count_syscalls: bool = False,
                      fresh: bool = False) -> Sample:
    """One W5 run: a new server on CPU 0, the load generator on CPU 1 (`args`: connections, size, warm-up s,
    measured s), the server killed afterwards. The load generator first opens, uses and closes one connection
    (the server has seen a connection come and go, as a running server has) unless `fresh`. With count_syscalls,
    the server's system calls over the whole load are counted (perf stat, else strace -c): a separate run, whose
    CPU figures are not kept."""
    cmd = server_command(w, r, python, LOADGEN, "load generator", "bench_w5_echo_loadgen")
    if isinstance(cmd, Sample):
        return cmd
    conns, size, warmup, measure = args
    counter: SyscallCounter | None = None
    counted: dict[str, int] | None = None
    with tempfile.TemporaryFile() as err:
        proc, port, problem = start_server(cmd, r.env, err)
        try:
            if problem:
                return Sample(error=f"{problem}: {tail_of(err)}")
            counter = start_syscall_count(proc.pid) if count_syscalls else None
            if count_syscalls and counter is None:
                return Sample(kind="syscalls", error="neither perf nor strace can count its syscalls")
            timeout = float(warmup) + float(measure) + 60
            try:
                gen = subprocess.run(["taskset", "-c", LOADGEN_CPU, str(LOADGEN), *(["--fresh"] if fresh else []),
                                      "127.0.0.1", str(port), conns, size,
                                      warmup, measure, str(proc.pid), r.key, w.name],
                                     capture_output=True, text=True, timeout=timeout, cwd=ROOT)
            except subprocess.TimeoutExpired:
                return Sample(error=f"load generator timed out after {timeout:.0f} s")
            rss = vm_hwm_kib(proc.pid)
            if counter:
                counted, counter = finish_syscall_count(counter), None
            alive = proc.poll() is None
        finally:
            if counter:  # an early return: detach it all the same
                finish_syscall_count(counter)
            stop_server(proc)
        if gen.returncode != 0:
            tail = (gen.stderr.strip().splitlines() or ["?"])[-1]
            return Sample(error=f"load generator exit {gen.returncode}: {tail}"
                                + ("" if alive else f" (server: {tail_of(err)})"))
    result = parse_result(gen.stdout)
    if result is None:
        return Sample(error="no RESULT line from the load generator")
    if counted is not None:
        n_all = int(result["n_all"])
        if not counted or n_all == 0:
            return Sample(kind="syscalls", error="syscall count failed")
        total = counted.pop("total")
        by = "(strace -c) " if counted.pop("strace", 0) else ""
        parts = sorted(counted.items(), key=lambda kv: -kv[1])
        main = ", ".join(f"{name} {c / n_all:.2f}" for name, c in parts if c / n_all >= 0.005)
        return Sample(kind="syscalls", syscalls_per_op=total / n_all, n=n_all, syscalls=by + main)
    return Sample(ns_per_op=as_float(result.get("ns_per_op")), rss_kib=rss, n=int(result["n"]),
                  rps=as_float(result.get("rps")), mb_s=as_float(result.get("mb_s")),
                  p50_us=as_float(result.get("p50_us")), p99_us=as_float(result.get("p99_us")),
                  p999_us=as_float(result.get("p999_us")), server_cpu_pct=as_float(result.get("server_cpu_pct")),
                  server_sys_pct=as_float(result.get("server_sys_pct")),
                  tick_ns_per_op=as_float(result.get("tick_ns_per_op")),
                  loadgen_cpu_pct=as_float(result.get("loadgen_cpu_pct")))


# The system calls a W5 --syscalls run names one by one (the total counts them all); those the kernel has no
# tracepoint for are left out.
SYSCALLS = ["read", "write", "recvfrom", "sendto", "recvmsg", "sendmsg", "readv", "writev", "epoll_wait",
            "epoll_pwait", "epoll_pwait2", "epoll_ctl", "futex", "io_uring_enter", "mmap", "munmap", "mremap", "brk", "madvise",
            "getpid", "clock_gettime", "nanosleep", "sched_yield", "tgkill", "rt_sigreturn"]
TRACEFS = Path("/sys/kernel/tracing/events")


@dataclass
class SyscallCounter:
    proc: subprocess.Popen
    out: Path
    tool: str  # "perf" or "strace"


def start_syscall_count(pid: int) -> SyscallCounter | None:
    """Attaches a syscall counter to every thread of `pid`: `perf stat` on the syscall tracepoints (in-kernel
    counting: the server barely slows down), else `strace -c -f` (ptrace: it slows the server a lot, so each
    epoll_wait finds more ready and fewer are counted per request)."""
    out = Path(tempfile.mkstemp(prefix="w5-syscalls-", suffix=".txt")[1])
    if shutil.which("perf") and (TRACEFS / "raw_syscalls" / "sys_enter").exists():
        events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{n}" for n in SYSCALLS
                                               if (TRACEFS / "syscalls" / f"sys_enter_{n}").exists()]
        cmd = ["perf", "stat", "-x", ",", "-o", str(out), "-e", ",".join(events), "-p", str(pid)]
        tool = "perf"
    elif shutil.which("strace"):
        cmd = ["strace", "-c", "-f", "-o", str(out), "-p", str(pid)]
        tool = "strace"
    else:
        out.unlink()
        return None
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached to every thread before the load starts
    if proc.poll() is not None:
        out.unlink()
        return None
    return SyscallCounter(proc, out, tool)


def finish_syscall_count(c: SyscallCounter) -> dict[str, int]:
    """Detaches the counter: {"total": n, name: n, ...}, or {} if it counted nothing."""
    c.proc.send_signal(signal.SIGINT)
    try:
        c.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        c.proc.kill()
        c.proc.wait()
    text = c.out.read_text(errors="replace") if c.out.exists() else ""
    c.out.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    if c.tool == "perf":  # CSV lines: count,unit,event,...
        for line in text.splitlines():
            f = line.split(",")
            if len(f) >= 3 and f[0].strip().isdigit():
                name = f[2].strip()
                counts["total" if name == "raw_syscalls:sys_enter" else name.split("sys_enter_")[-1]] = int(f[0])
    else:  # strace -c's table: % time, seconds, usecs/call, calls, [errors,] syscall; then a "total" line
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 5 and f[-1].replace("_", "").isalnum() and f[3].isdigit():
                counts[f[-1]] = int(f[3])
    if "total" not in counts:
        return {}
    counts = {k: v for k, v in counts.items() if v > 0 or k == "total"}
    if c.tool == "strace":
        counts["strace"] = 1  # a marker, not a syscall
    return counts


# The figures whose medians the table shows (Sample's numeric fields).
MEDIAN_ATTRS = ("ns_per_op", "overhead_ms", "wall_s", "wall_ms", "rss_kib", "rps", "mb_s", "p50_us", "p99_us",
                "p999_us", "server_cpu_pct", "server_sys_pct", "tick_ns_per_op", "loadgen_cpu_pct", "syscalls_per_op",
                "rss_before_kib", "rss_held_kib", "rss_per_conn_b", "open_ms")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------------- report

def fmt_num(x: float | None, digits: int = 3) -> str:
    """A figure with `digits` significant digits and thousands separators."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    mag = len(str(int(abs(x)))) if abs(x) >= 1 else 0
    decimals = max(0, digits - mag) if abs(x) >= 1 else digits
    return f"{x:,.{decimals}f}"


def fmt_ratio(peer: float | None, ours: float | None) -> str:
    if peer is None or ours is None or ours <= 0:
        return ""
    ratio = peer / ours
    return f" ({ratio:.2g}×)" if ratio < 10 else f" ({ratio:,.0f}×)"


@dataclass
class Row:
    label: str
    values: dict      # runtime key -> float | None
    digits: int = 3
    ratio: bool = True
    spread: str = ""  # a workload's headline figure: the sample attribute whose min-max is shown
    scale: float = 1.0  # from that attribute to the row's unit


def table_rows(w: Workload, med: dict, ops: int) -> list[Row]:
    """The rows of one workload: the internal figure, whole-process wall time, peak RSS."""
    get = lambda key, attr: med.get((w.name, key), {}).get(attr)  # noqa: E731
    keys = [r.key for r in RUNTIMES]
    rows = []
    if w.kind == "echo":
        us = lambda key: get(key, "ns_per_op") / 1e3 if get(key, "ns_per_op") is not None else None  # noqa: E731
        rows.append(Row(f"**{w.title}: server CPU µs per {w.unit}**", {k: us(k) for k in keys}, spread="ns_per_op",
                        scale=1e-3))
        if w.args[1] == "64":
            rows.append(Row(f"{w.title}: requests/s (higher is better)", {k: get(k, "rps") for k in keys},
                            ratio=False))
            rows.append(Row(f"{w.title}: p50 latency, µs", {k: get(k, "p50_us") for k in keys}))
        else:
            rows.append(Row(f"{w.title}: MB/s (higher is better)", {k: get(k, "mb_s") for k in keys}, ratio=False))
        rows.append(Row(f"{w.title}: p99 latency, µs", {k: get(k, "p99_us") for k in keys}))
        rows.append(Row(f"{w.title}: server CPU busy, %", {k: get(k, "server_cpu_pct") for k in keys},
                        digits=2, ratio=False))
        if any(get(k, "syscalls_per_op") is not None for k in keys):
            rows.append(Row(f"{w.title}: server syscalls per {w.unit}", {k: get(k, "syscalls_per_op") for k in keys}))
        rows.append(Row(f"{w.title}: server peak RSS, MiB",
                        {k: (get(k, "rss_kib") / 1024 if get(k, "rss_kib") is not None else None) for k in keys}))
        return rows
    if w.kind == "idle":
        n = ops
        rows.append(Row(f"**{w.title}: server RSS per {w.unit}, bytes**", {k: get(k, "rss_per_conn_b") for k in keys},
                        spread="rss_per_conn_b"))
        rows.append(Row(f"{w.title}: server RSS with {n:,} held, MiB",
                        {k: (get(k, "rss_held_kib") / 1024 if get(k, "rss_held_kib") is not None else None)
                         for k in keys}))
        rows.append(Row(f"{w.title}: server RSS before, MiB",
                        {k: (get(k, "rss_before_kib") / 1024 if get(k, "rss_before_kib") is not None else None)
                         for k in keys}, ratio=False))
        rows.append(Row(f"{w.title}: connect + first echo, µs each (one at a time)",
                        {k: (get(k, "open_ms") * 1e3 / n if get(k, "open_ms") is not None else None) for k in keys}))
        return rows
    if w.sleeps_1s:
        beyond = "the longest sleep" if len(w.args) > 1 else "1 s"  # W4j: 1 s plus the largest jitter drawn
        rows.append(Row(f"**{w.title}: overhead (wall − {beyond}), ms**", {k: get(k, "overhead_ms") for k in keys},
                        spread="overhead_ms"))
    else:
        rows.append(Row(f"**{w.title}: ns per {w.unit}**", {k: get(k, "ns_per_op") for k in keys}, spread="ns_per_op"))
    rows.append(Row(f"{w.title}: process wall, ms", {k: get(k, "wall_ms") for k in keys}))
    rows.append(Row(f"{w.title}: peak RSS, MiB",
                    {k: (get(k, "rss_kib") / 1024 if get(k, "rss_kib") is not None else None) for k in keys}))
    if w.sleeps_1s:
        rows.append(Row(f"{w.title}: peak RSS per task, bytes",
                        {k: (get(k, "rss_kib") * 1024 / ops if get(k, "rss_kib") is not None else None)
                         for k in keys}))
    return rows


def markdown_table(workloads: list[Workload], runtimes: list[Runtime], med: dict, errors: dict, missing: dict,
                   quick: bool) -> str:
    head = "| workload, figure (median; headline figures [min–max]) | " + " | ".join(
        f"**{r.label}**" if r.key == "asyncio" else r.label for r in runtimes) + " |"
    sep = "|---|" + "---:|" * len(runtimes)
    lines = [head, sep]
    for w in workloads:
        ops = quick_ops(w) if quick else w.ops
        for row in table_rows(w, med, ops):
            ours = row.values.get("asyncio")
            cells = []
            for r in runtimes:
                v = row.values.get(r.key)
                if v is None:
                    if errors.get((w.name, r.key)):
                        cells.append("failed")
                    elif missing.get((w.name, r.key), "").startswith("not built"):
                        cells.append("not built")
                    else:
                        cells.append("–")
                else:
                    cell = f"**{fmt_num(v, row.digits)}**" if r.key == "asyncio" else \
                        fmt_num(v, row.digits) + (fmt_ratio(v, ours) if row.ratio else "")
                    lo_hi = med.get((w.name, r.key), {}).get("_spread", {}).get(row.spread) if row.spread else None
                    if lo_hi and lo_hi[0] != lo_hi[1]:
                        cell += f" [{fmt_num(lo_hi[0] * row.scale)}–{fmt_num(lo_hi[1] * row.scale)}]"
                    cells.append(cell)
            lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions(python: str) -> dict[str, str]:
    v = {}
    project = re.search(r"project\(asyncio VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    commit = COMMIT or capture(["git", "describe", "--always", "--dirty"])
    gxx = capture(["g++", "--version"]).splitlines()
    v["asyncio"] = (f"{project.group(1) if project else '?'} (git {commit or '?'}), "
                    f"{gxx[0] if gxx else 'g++'}, `bench` preset = release `-O2 -DNDEBUG`")
    v["cpython"] = f"{capture([python, '-c', 'import sys; print(sys.version.split()[0])'])} (`{shutil.which(python) or python}`)"
    if PYTHON_PROBE:
        v["cpython"] += (f", the fastest of {len(PYTHON_PROBE)} CPython 3.11+ interpreters here on a small W2 ("
                         + ", ".join(f"`{c}` {x:.0f} ns" for c, x in sorted(PYTHON_PROBE.items(), key=lambda kv: kv[1]))
                         + ")")
    v["uvloop"] = capture(["/usr/bin/python3", "-c",
                           "import sys, uvloop; print(f'uvloop {uvloop.__version__} on Python {sys.version.split()[0]}')"]) \
        + " (`/usr/bin/python3`)"
    asio_version = "?"
    cache = BUILD / "CMakeCache.txt"
    inc = "/usr/include"
    if cache.exists():
        m = re.search(r"^ASIO_INCLUDE_DIR:PATH=(.*)$", cache.read_text(), re.M)
        if m:
            inc = m.group(1)
    vh = Path(inc) / "asio" / "version.hpp"
    if vh.exists():
        m = re.search(r"#define ASIO_VERSION (\d+)", vh.read_text())
        if m:
            n = int(m.group(1))
            asio_version = f"{n // 100000}.{n // 100 % 1000}.{n % 100}"
    v["asio"] = (f"asio {asio_version} (standalone, `{inc}`: Debian's libasio-dev; newer releases may be faster), "
                 "same g++, `-O2 -std=c++20`, `io_context(ASIO_CONCURRENCY_HINT_UNSAFE)` in W1-W5")
    tokio_version = "?"
    lock = BENCH / "tokio" / "Cargo.lock"
    if lock.exists():
        m = re.search(r'name = "tokio"\nversion = "([^"]+)"', lock.read_text())
        if m:
            tokio_version = m.group(1)
    v["tokio"] = (f"tokio {tokio_version} (Debian's librust-tokio-dev; newer releases may be faster), "
                  f"{capture(['rustc', '--version']) or 'rustc ?'}, `cargo build --release`, `current_thread`")
    go_path = os.path.realpath(shutil.which("go") or "go")
    go_origin = " (Debian's golang-go; newer releases may be faster)" if go_path.startswith("/usr/lib/go") else ""
    v["go"] = f"{capture(['go', 'version']) or 'go ?'}{go_origin}, `GOMAXPROCS=1`"
    v["node"] = f"Node.js {capture(['node', '--version']) or '?'}"
    gcc = capture(["gcc", "--version"]).splitlines()
    v["c_epoll"] = (f"{gcc[0] if gcc else 'gcc'}, `-O2`: edge-triggered epoll, one thread (W5 only; "
                    "the load generator is built the same way)")
    v["asyncio_streams"] = "this library again, the W5 server written with streams (W5 only)"
    v["cpython_streams"] = "CPython again, the W5 server written with streams (W5 only)"
    v["uvloop_streams"] = "uvloop again, the W5 server written with streams (W5 only)"
    return v


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "kernel": f"{platform.system()} {platform.release()}",
            "memory": mem}


FOOTNOTES = """\
Notes on peers that cannot follow a workload exactly:

1. **asio**: `co_spawn(executor, coro, use_awaitable)` is lazy: the coroutine starts only
   when the returned awaitable is awaited. In W1 the million handles are made first, but
   each task then runs only when awaited in turn, so asio spawns-and-joins one task at a
   time instead of having a million started tasks. (Its eager alternative,
   `asio::experimental::use_promise`, is still experimental in 1.22.) In W2, W3 and W4 the
   coroutines are started eagerly with `co_spawn(ctx, coro, completion handler)`; W2 yields
   with `co_await asio::post(executor, use_awaitable)`, W3 uses
   `asio::experimental::channel` with capacity 1, trying `try_send` / `try_receive` before
   suspending in `async_send` / `async_receive` (about a quarter faster than the async calls
   alone). W1-W5 run on `io_context(ASIO_CONCURRENCY_HINT_UNSAFE)`, asio's documented hint
   for a context used from one thread only (no locking in the scheduler or the reactor).
2. **Node.js**: an `async function` runs eagerly up to its first `await`; in W1 each
   `value(i)` has already returned when it is called, so nothing is scheduled and the
   awaits only drain already-resolved promises. W2 yields to the event loop with
   `await new Promise((r) => setImmediate(r))` (the loop phase of `timers/promises`'
   `setImmediate`, without its wrapper), W4 sleeps with `new Promise((r) => setTimeout(r,
   1000))`. Node has no async queue: W3 uses a lean bounded queue written in the program,
   whose `put` and `get` return a promise only when they must wait.
3. **Go**: goroutines return nothing and have no handle: in W1 each goroutine stores its
   result in its own element of a slice and marks a `sync.WaitGroup` done, the idiom for
   joining many goroutines (a channel per goroutine was slower and larger). W2 yields with
   `runtime.Gosched()`. W3 uses buffered channels of capacity 1 (the counterpart of
   `Queue(maxsize=1)`; an unbuffered channel would be a rendezvous, not a queue). Each
   goroutine has its own growable stack (2 KiB at least), and even with `GOMAXPROCS=1` the
   runtime keeps background threads (sysmon, GC workers).
4. **Tokio**: W2 yields with `tokio::task::yield_now()` (a zero `sleep` would go through
   the timer wheel); W3 uses `tokio::sync::mpsc::channel(1)`. Tokio's own cooperative
   budget is left at its default.
5. **CPython and uvloop** run the same program (`cpython.py`, with `--uvloop` for the
   latter), but on different interpreters: CPython on the fastest CPython 3.11+ installed
   (run.py times each, the PATH's `python3`, Debian's `/usr/bin/python3` and pyenv's, on a
   small W2 before the run, and names the one it took and the others' figures under
   "Versions"), uvloop on Debian's `/usr/bin/python3`, which is where `python3-uvloop`
   installs. Their builds differ (version, PGO/LTO), so the CPython/uvloop ratio is not the
   loops' alone.
6. **W5 echo**: every server reads up to 64 KiB at a time and writes back what it read, except
   CPython's selector loop (256 KiB `recv`) and uvloop (256,000 bytes). TCP_NODELAY: CPython,
   uvloop and Go set it on every TCP connection by themselves; asio, Tokio, Node.js and the C
   server leave it off by default, so their programs set it on each accepted socket. Go runs
   one goroutine per connection with `GOMAXPROCS=1` (one thread runs Go code; the runtime's
   own threads exist beside it, pinned on the same CPU, and their CPU time counts). Node.js
   writes each `'data'` chunk back with `socket.write`, its default buffering (with one
   message in flight per connection, nothing queues). A fresh CPython server pays, until its
   first connection closes, a `mmap`, `mremap` and `munmap` (and two page faults) per
   request: its 256 KiB receive buffer is above glibc's `mmap` threshold, until the first
   end of file frees such a buffer whole and glibc raises the threshold. That costs it four
   to five times the CPU per request (28 µs against 6.4 µs at 64 B, in one run of
   `--fresh-servers` beside a full run); a server that has run for a while is past it, so the load
   generator opens and closes one connection before the measured ones, for every server
   (`run.py --fresh-servers` leaves that out).
7. **asyncio (ours)**: W1 awaits each handle with `co_await std::move(task)`, which uses
   the handle up as Tokio's `handle.await` does, so a task is freed as soon as its result is
   taken. With `co_await task` (the handles kept until the vector goes) the timed figure is
   the same, and the process runs about 18 ms longer: freeing the million tasks afterwards,
   from memory long out of the cache.
"""


def write_docs(out_dir: Path, workloads, runtimes, med, errors, missing, samples, args, quick: bool,
               chart: Path | None, date: str, load: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    v = versions(args.python)
    m = machine()
    table = markdown_table(workloads, runtimes, med, errors, missing, quick)
    sizes = ", ".join(w.sizes(quick) for w in workloads)
    echo = [w for w in workloads if w.kind == "echo"]
    text = [
        "# Benchmarks",
        "",
        "Generated by `python3 bench/run.py` (docs/design/benchmarks-method.md describes the workloads and the rules). "
        "Each workload × runtime ran as its own process, "
        f"{ {1: 'once', 2: 'twice'}.get(args.runs, f'{args.runs} times') }, interleaved (every runtime within each "
        "repetition, in an order shuffled for each repetition); every figure is the median, and the first row of each "
        "workload, the figure the program timed from inside, has the min–max of its runs in brackets; peak RSS comes from `/usr/bin/time -f '%e %M'` "
        "around the whole process, and the process wall time is that same process timed by "
        "run.py to the millisecond (`%e` has 10 ms steps, too coarse for the fastest runs; both "
        "are in the run's raw.json). In parentheses: the peer's figure "
        "divided by this library's (above 1: the peer is slower or uses more memory).",
        "",
        f"Sizes: {sizes}." + (" **Quick run: smaller sizes than docs/design/benchmarks-method.md.**" if quick else ""),
        "",
        f"![the table as a chart: one group of bars per workload, log scale]({chart.name})" if chart else "",
        "",
        table,
        "",
        "The machine is shared (other builds run beside these): absolute times mean little, "
        "and the ratios are what was measured side by side.",
        "",
    ]
    if echo:
        text += [
            "W5 is a TCP echo server on 127.0.0.1 (one loop thread; C epoll is a plain-C epoll server, the practical "
            "limit) driven by one load generator (`bench/w5_echo/loadgen.c`: one thread, epoll, 100 connections in a "
            "closed loop, every echo checked byte for byte), the server pinned on CPU 0 and the load generator on "
            "CPU 1. Its first row is the server's CPU time (user + system, all its threads, from "
            "`/proc/PID/task/*/schedstat` at the two edges of the measured window) divided by the requests served "
            "in the window: the server's own cost whichever side is the bottleneck, though higher when the server "
            "idles between requests (fewer requests per wake-up: docs/design/benchmarks-method.md). Requests/s, MB/s "
            "(payload echoed, 10^6 bytes, one direction) and latency depend on both ends and on the machine's "
            "load; \"server CPU busy\" says how near the server was to saturating its core. "
            "Peak RSS is the server's VmHWM after the load. "
            + ("**These servers were fresh (`--fresh-servers`): none had seen a connection close.**"
               if args.fresh_servers else "Before its 100 connections the load generator opens, uses and closes one, so that each server "
                    "has seen a connection come and go (footnote 6)."),
            "",
        ]
    if any(w.kind == "idle" for w in workloads):
        text += [
            "W7 holds idle connections in each W5 server (the same programs): `bench/w7_idle/idlegen.c` (CPU 1) opens "
            "them one after the other, each sends one message, checks its echo and then stays open and silent, so "
            "that every connection has been read from and answered once, as a keep-alive connection of a real "
            "server has. Its first row is the growth of the server's VmRSS (`/proc/PID/status`, read 0.5 s after "
            "READY and 0.5 s after the last connection) divided by the connections: what each held connection "
            "costs in resident memory, the kernel's socket buffers not included (they are not the process's).",
            "",
        ]
    if errors:
        text += ["Runs that failed:", ""]
        for (wn, rk), err in sorted(errors.items()):
            text.append(f"- {wn} / {rk}: {err}")
        text.append("")
    if missing:
        text += ["Not run (not counted as results):", ""]
        for (wn, rk), why in sorted(missing.items()):
            text.append(f"- {wn} / {rk}: {why}")
        text.append("")
    text += [
        "## Runtimes",
        "",
        "| runtime | version and build |",
        "|---|---|",
    ]
    for r in runtimes:
        text.append(f"| {r.label} | {v.get(r.key, '?')}{' — **' + r.note + '**' if r.note else ''} |")
    text += [
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['nproc']} cores (nproc), {m['memory']}",
        f"- Kernel: {m['kernel']}",
        f"- Date: {date}",
        f"- Load average (1 min) before and after the run: {load.get('before', float('nan')):.2f}, "
        f"{load.get('after', float('nan')):.2f} (2 cores: above 1, something else was running)",
        "",
        "## Footnotes",
        "",
        FOOTNOTES,
    ]
    sys_rows = [(w, r, s) for w in echo for r in runtimes for s in samples.get((w.name, r.key), [])
                if s.kind == "syscalls" and s.syscalls_per_op is not None]
    if sys_rows:
        text += [
            "## W5: system calls per request",
            "",
            "One extra run per server (`run.py --syscalls`), its syscalls counted over the whole load (warm-up "
            "included, with the connections' setup: a few hundred calls against hundreds of thousands) by "
            "`perf stat` on the kernel's syscall tracepoints, divided by the requests served. Its CPU figures are "
            "not used.",
            "",
            "| workload | runtime | syscalls per request | the main ones |",
            "|---|---|---:|---|",
        ]
        text += [f"| {w.title} | {r.label} | {s.syscalls_per_op:.2f} | {s.syscalls} |" for w, r, s in sys_rows]
        text.append("")
    # Where the time goes: a profile written by hand (bench/where_the_time_goes.md), kept
    # in the generated page so that a rerun does not lose it.
    profile = Path(__file__).resolve().parent / "where_the_time_goes.md"
    if profile.exists():
        text += [profile.read_text().rstrip(), ""]
    text += [
        "## Every run",
        "",
        "The internal figure of each run, in the order they ran (ns per operation; W5: the server's CPU ns per "
        "request; W7: the server's RSS growth per connection, bytes):",
        "",
        "| workload | " + " | ".join(r.label for r in runtimes) + " |",
        "|---|" + "---:|" * len(runtimes),
    ]
    for w in workloads:
        cells = []
        for r in runtimes:
            runs = [s for s in samples.get((w.name, r.key), []) if s.kind != "syscalls"]
            attr = "rss_per_conn_b" if w.kind == "idle" else "ns_per_op"
            cells.append(", ".join(fmt_num(getattr(s, attr)) if getattr(s, attr) is not None
                                   else (s.missing or "failed") for s in runs) or "–")
        text.append(f"| {w.title} | " + " | ".join(cells) + " |")
    text.append("")
    path = out_dir / "benchmarks.md"
    path.write_text("\n".join(text))
    return path


# ---------------------------------------------------------------------------------- chart

COLOURS = {   # ours saturated; the peers in muted tones, one hue per runtime
    "asyncio": "#d1495b",
    "cpython": "#a6bddb",
    "uvloop": "#74a9cf",
    "asio": "#b8d8a0",
    "tokio": "#f2c38f",
    "go": "#9fd8d6",
    "node": "#c9b3d9",
    "c_epoll": "#bdbdbd",
    "asyncio_streams": "#e8868f",
    "cpython_streams": "#d0dcec",
    "uvloop_streams": "#b3cfe3",
}


def short(x: float) -> str:
    if x >= 10_000:
        return f"{x / 1000:.0f}k"
    if x >= 1000:
        return f"{x / 1000:.1f}k"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.0f}"
    return f"{x:.1f}"


def draw_chart(path: Path, workloads, runtimes, med, quick: bool, runs: int) -> bool:
    """Two panels of grouped bars, one group per workload, log scale: the time each program
    measured (top) and the process's peak RSS (bottom); this library's bars are in red."""
    if shutil.which("gnuplot") is None:
        print("warning: gnuplot not found: no chart (bench/install.sh installs gnuplot-nox)", file=sys.stderr)
        return False
    k = len(runtimes)
    width = 0.84 / k
    panels = [  # ylabel, attribute, scale, origin y, height, tic labels, legend
        ("ns per operation (W4: overhead per task; W5: server CPU)", "ns_per_op", 1.0, 0.40, 0.54, True, True),
        ("peak RSS, MiB", "rss_kib", 1 / 1024, 0.0, 0.40, False, False),
    ]
    tmp = Path(tempfile.mkdtemp(prefix="bench-chart-"))
    title = (f"asyncio for C++ and its peers: lower is better  (median of {runs} run{'s' if runs != 1 else ''}"
             f"{', quick sizes' if quick else ''}; log scale)")
    script = [
        "set terminal pngcairo size 1400,1000 enhanced font 'DejaVu Sans,11'",
        f"set output '{path}'",
        "set multiplot",
        f"set label 1 \"{title}\" at screen 0.5, screen 0.975 center font 'DejaVu Sans,15'",
        "set style fill solid 1.0 border rgb '#555555'",
        "set logscale y",
        "set format y '%.0s%c'",
        "set grid ytics lc rgb '#dddddd'",
        "set border 3",
        "set tics nomirror",
        "set lmargin 12",
        "set rmargin 22",
        f"set xrange [-0.5:{len(workloads) - 0.5}]",
    ]
    for p, (ylabel, attr, scale, y0, height, long_tics, legend) in enumerate(panels):
        data = tmp / f"panel{p}.dat"
        rows = []
        vals = []
        for i, w in enumerate(workloads):
            for j, r in enumerate(runtimes):
                v = med.get((w.name, r.key), {}).get(attr)
                if v is None or v <= 0:
                    continue
                v *= scale
                vals.append(v)
                x = i - 0.42 + width * (j + 0.5)
                colour = int(COLOURS.get(r.key, "#999999")[1:], 16)
                ours = 1 if r.key == "asyncio" else 0
                rows.append(f"{x:.4f} {v:.6g} {width * 0.9:.4f} {colour} \"{short(v)}\" {ours}")
        data.write_text("\n".join(rows) + "\n")
        if not vals:
            continue
        if long_tics:
            tics = ", ".join(f"\"{w.title}\\nper {w.unit}\" {i}" for i, w in enumerate(workloads))
        else:
            tics = ", ".join(f"\"{w.title}\" {i}" for i, w in enumerate(workloads))
        lo, hi = min(vals), max(vals)
        script += [
            f"set origin 0, {y0}",
            f"set size 1, {height}",
            f"set bmargin {4 if long_tics else 3}",
            f"set tmargin {1 if long_tics else 1.5}",
            f"set ylabel '{ylabel}'",
            f"set yrange [{lo / 2.5:.6g}:{hi * 3:.6g}]",
            f"set xtics ({tics}) font ',12'",
            "set key outside right top vertical samplen 1.5 spacing 1.3 font ',12'" if legend else "unset key",
            "plot " + ", ".join(
                [f"'{data}' using 1:2:3:4 with boxes lc rgb variable notitle",
                 f"'{data}' using 1:($2*1.18):($6==1 ? stringcolumn(5) : '') with labels "
                 "font 'DejaVu Sans Bold,11' tc rgb '#b2182b' notitle",
                 f"'{data}' using 1:($2*1.18):($6==0 ? stringcolumn(5) : '') with labels font ',8.5' "
                 "tc rgb '#444444' notitle"]
                + [f"NaN with boxes lc rgb '{COLOURS.get(r.key, '#999999')}' title '{r.label}'" for r in runtimes]),
        ]
    script.append("unset multiplot")
    gp = tmp / "chart.gp"
    gp.write_text("\n".join(script) + "\n")
    ok = subprocess.run(["gnuplot", str(gp)]).returncode == 0
    shutil.rmtree(tmp, ignore_errors=True)
    return ok and path.exists()


# ----------------------------------------------------------------------------------- main

PYTHON_PROBE: dict[str, float] = {}  # interpreter -> best W2 ns per yield of the probe


def pick_python() -> str:
    """The fastest CPython 3.11+ on this machine for the CPython peer: the PATH's python3,
    Debian's /usr/bin/python3 and pyenv's versions, each timed on W2 at 100 x 1,000 three
    times, interleaved (the best of its three). Builds differ: Debian's is built with PGO and
    LTO, pyenv's by default without."""
    candidates: list[str] = []
    for c in [shutil.which("python3"), "/usr/bin/python3"]:
        if c and Path(c).exists():
            candidates.append(c)
    root = capture(["pyenv", "root"]) if shutil.which("pyenv") else ""
    if root:
        candidates += sorted(str(x) for x in Path(root, "versions").glob("3.*/bin/python3"))
    seen: dict[str, str] = {}
    for c in candidates:
        real = os.path.realpath(c)
        v = capture([c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        if real not in seen.values() and v and tuple(int(x) for x in v.split(".")) >= (3, 11):
            seen[c] = real
    probe = BENCH / "w2_yield_storm" / "cpython.py"
    best: dict[str, float] = {}
    for _ in range(3):
        for c in seen:
            out = subprocess.run([c, str(probe), "100", "1000"], capture_output=True, text=True, timeout=120)
            r = parse_result(out.stdout) if out.returncode == 0 else None
            x = as_float(r.get("ns_per_op")) if r else None
            if x is not None:
                best[c] = min(best.get(c, x), x)
    if not best:
        return "python3"
    PYTHON_PROBE.update(best)
    chosen = min(best, key=best.get)
    print("bench: CPython peer: " + ", ".join(f"{c} {best[c]:.0f} ns" for c in sorted(best, key=best.get))
          + f" (W2 probe, best of 3): {chosen}", flush=True)
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None,
                    help="repetitions of each workload x runtime (default 3; 1 with --quick)")
    ap.add_argument("--only", default="", help="workloads to run, as w1,w3 (default: all)")
    ap.add_argument("--runtimes", default="", help="runtimes to run, as asyncio,tokio (default: all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: sizes divided by 10, 1 run unless --runs")
    ap.add_argument("--no-build", action="store_true", help="use what is built")
    ap.add_argument("--syscalls", action="store_true",
                    help="W5: one more run per server, counting its system calls per request (perf stat, else "
                         "strace -c)")
    ap.add_argument("--fresh-servers", action="store_true",
                    help="W5: measure servers that have never seen a connection close (by default the load "
                         "generator first opens and closes one connection)")
    ap.add_argument("--python", default=None,
                    help="interpreter for the CPython peer (default: the fastest CPython 3.11+ installed, "
                         "probed with a small W2; see pick_python)")
    ap.add_argument("--docs", default=None,
                    help="where to write benchmarks.md/.png (default: docs/ for a full run, "
                         "build/bench/results/partial/ otherwise)")
    ap.add_argument("--report-only", nargs="?", const=str(RESULTS / "raw.json"), default=None, metavar="RAW",
                    help="run nothing: redraw the table, document and chart from a raw.json "
                         "(default: the last full run's, build/bench/results/raw.json)")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    workloads = WORKLOADS
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        workloads = [w for w in WORKLOADS if any(w.name == s or w.name.split("_")[0] == s for s in wanted)]
        if not workloads:
            ap.error(f"--only {args.only}: no such workload ({', '.join(w.name for w in WORKLOADS)})")
    runtimes = RUNTIMES
    if args.runtimes:
        wanted = {s.strip() for s in args.runtimes.split(",")}
        runtimes = [r for r in RUNTIMES if r.key in wanted]
        if not runtimes:
            ap.error(f"--runtimes {args.runtimes}: none of {', '.join(r.key for r in RUNTIMES)}")

    if args.report_only:
        raw_path = Path(args.report_only)
        if not raw_path.exists():
            sys.exit(f"--report-only: no {raw_path} (run the benchmark first)")
        raw = json.loads(raw_path.read_text())
        args.runs, args.quick, args.python = raw["runs"], raw["quick"], raw["python"]
        PYTHON_PROBE.update(raw.get("python_probe", {}))
        args.fresh_servers = raw.get("fresh_servers", False)
        load = raw.get("load", {})
        workloads = [w for w in WORKLOADS if w.name in raw["workloads"]]
        runtimes = [r for r in RUNTIMES if r.key in raw["runtimes"]]
        for r in runtimes:
            r.note = raw["notes"].get(r.key, "")
        samples = {tuple(k.split("/")): [Sample(**x) for x in v] for k, v in raw["samples"].items()}
        date = raw["date"]
    else:
        if not Path(TIME).exists():
            sys.exit(f"{TIME} not found: run bench/install.sh (Debian package `time`)")
        global COMMIT
        COMMIT = capture(["git", "describe", "--always", "--dirty"])
        if args.python is None:
            args.python = pick_python()
        if not args.no_build:
            build(runtimes, workloads, args.python)
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        load = {"before": os.getloadavg()[0]}
        samples = run_all(workloads, runtimes, args)
        load["after"] = os.getloadavg()[0]
        raw_path = (RESULTS if is_full(args, workloads, runtimes) else PARTIAL) / "raw.json"
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps({
            "date": date, "runs": args.runs, "quick": args.quick, "python": args.python, "python_probe": PYTHON_PROBE,
            "workloads": [w.name for w in workloads], "runtimes": [r.key for r in runtimes],
            "notes": {r.key: r.note for r in runtimes if r.note}, "load": load, "fresh_servers": args.fresh_servers,
            "samples": {f"{wn}/{rk}": [s.__dict__ for s in ss] for (wn, rk), ss in samples.items()},
        }, indent=1))

    errors = {key: s.error for key, ss in samples.items() for s in ss if s.error}
    missing = {key: s.missing for key, ss in samples.items() for s in ss if s.missing and not s.error}
    med = {key: {attr: median([getattr(s, attr) for s in ss if not s.error and not s.missing])
                 for attr in MEDIAN_ATTRS}
           for key, ss in samples.items()}
    for key, ss in samples.items():  # the min-max beside each headline median
        med[key]["_spread"] = {attr: (min(vals), max(vals)) for attr in MEDIAN_ATTRS
                               if (vals := [getattr(s, attr) for s in ss if not s.error and not s.missing
                                            and getattr(s, attr) is not None])}

    out_dir = Path(args.docs) if args.docs else (ROOT / "docs" if is_full(args, workloads, runtimes) else PARTIAL)
    chart = out_dir / "benchmarks.png"
    out_dir.mkdir(parents=True, exist_ok=True)
    have_chart = draw_chart(chart, workloads, runtimes, med, args.quick, args.runs)
    doc = write_docs(out_dir, workloads, runtimes, med, errors, missing, samples, args, args.quick,
                     chart if have_chart else None, date, load)

    print()
    print(markdown_table(workloads, runtimes, med, errors, missing, args.quick))
    print()
    rel = lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p  # noqa: E731
    print(f"wrote {rel(doc)}" + (f" and {rel(chart)}" if have_chart else ""))
    return 1 if errors else 0


def is_full(args, workloads, runtimes) -> bool:
    """Whether this is the run docs/ publishes: every workload and runtime at full size."""
    return not args.quick and len(workloads) == len(WORKLOADS) and len(runtimes) == len(RUNTIMES)


def run_all(workloads: list[Workload], runtimes: list[Runtime], args) -> dict[tuple[str, str], list[Sample]]:
    """Every workload x runtime, args.runs times: within a repetition, each workload runs on
    every runtime in turn, in an order shuffled afresh for each repetition and workload
    (seeded: the same plan every time), so that no runtime always follows the same
    neighbour, and the first repetition keeps the listed order. With --syscalls, each W5
    workload x runtime then runs once more, its syscalls counted."""
    samples: dict[tuple[str, str], list[Sample]] = {}

    def order(rep: int, wi: int) -> list[Runtime]:
        rs = list(runtimes)
        if rep > 0:
            random.Random(1000 * rep + wi).shuffle(rs)
        return rs

    plan = [(rep, w, r) for rep in range(args.runs) for wi, w in enumerate(workloads) for r in order(rep, wi)]
    if args.syscalls:
        plan += [(None, w, r) for w in workloads if w.kind == "echo" for r in runtimes]
    for done, (rep, w, r) in enumerate(plan, 1):
        wargs = w.quick_args if args.quick else w.args
        if w.kind == "idle":
            s = run_idle_workload(w, r, wargs, args.python)
        elif w.kind == "echo":
            if rep is None:  # a syscall-counting run: a short window, its CPU figures are not kept
                wargs = wargs[:2] + ["0.2", "0.5" if args.quick else "1"]
            s = run_echo_workload(w, r, wargs, args.python, count_syscalls=rep is None, fresh=args.fresh_servers)
        else:
            s = run_loop_workload(w, r, wargs, args.python)
        if s.missing == "no program":
            continue  # nothing to run: the table shows "–"
        samples.setdefault((w.name, r.key), []).append(s)
        if s.error:
            status = f"FAILED: {s.error}"
        elif s.missing:
            status = s.missing
        elif s.kind == "syscalls":
            status = f"{s.syscalls_per_op:.2f} syscalls/{w.unit} ({s.syscalls})"
        elif w.kind == "idle":
            status = (f"server RSS {s.rss_per_conn_b:,.0f} B/{w.unit} ({s.rss_before_kib / 1024:,.1f} -> "
                      f"{s.rss_held_kib / 1024:,.1f} MiB), opened in {s.open_ms:,.0f} ms")
        elif w.kind == "echo":
            status = (f"server CPU {s.ns_per_op / 1e3:,.2f} µs/{w.unit} ({s.server_cpu_pct:.0f}% busy), "
                      f"{s.rps:,.0f} req/s, {s.mb_s:,.1f} MB/s, p50 {s.p50_us:,.0f} µs, p99 {s.p99_us:,.0f} µs, "
                      f"load generator {s.loadgen_cpu_pct:.0f}% busy")
        else:
            status = (f"{s.ns_per_op:,.1f} ns/{w.unit}, wall {s.wall_ms:,.0f} ms, "
                      f"RSS {s.rss_kib / 1024:,.1f} MiB")
        run = f"run {rep + 1}" if rep is not None else "syscalls"
        print(f"[{done}/{len(plan)}] {run} {w.name:15} {r.key:8} {status}", file=sys.stderr, flush=True)
    return samples


if __name__ == "__main__":
    sys.exit(main())
