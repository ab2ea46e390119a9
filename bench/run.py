#!/usr/bin/env python3
"""bench/run.py: builds and runs the benchmark of docs/design/benchmarks-method.md, and prints its one table.

    python3 bench/run.py                 # build all, run W1-W4 x every runtime, 3 times
    python3 bench/run.py --quick         # smoke run: N divided by 10, one repetition
    python3 bench/run.py --only w1,w3 --runs 5 --runtimes asyncio,tokio

Each workload x runtime runs as its own process under `/usr/bin/time -f '%e %M'` (whole
process wall time, peak RSS), interleaved: within each repetition, every runtime runs a
workload before the next workload starts. Medians are taken over the repetitions. Each
program prints one line `RESULT workload=... runtime=... n=... ns_per_op=...` with the
figure it timed from inside and checks its own result (it exits non-zero if wrong).

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
import re
import shutil
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


# ------------------------------------------------------------------------------ workloads

@dataclass
class Workload:
    name: str          # directory under bench/
    title: str         # for the table and chart
    unit: str          # what the internal figure is per
    args: list[str]    # command-line arguments at the size docs/design/benchmarks-method.md fixes
    quick_args: list[str]
    ops: int           # operations at full size: W4's peak RSS is divided by this
    sleeps_1s: bool = False  # W4: the internal figure is the overhead beyond 1 s


WORKLOADS = [
    Workload("w1_spawn_join", "W1 spawn-join", "task", ["1000000"], ["100000"], 1_000_000),
    Workload("w2_yield_storm", "W2 yield storm", "yield", ["1000", "1000"], ["100", "1000"], 1_000_000),
    Workload("w3_ping_pong", "W3 ping-pong", "round trip", ["1000000"], ["100000"], 1_000_000),
    Workload("w4_sleepers", "W4 sleepers", "task", ["1000000"], ["100000"], 1_000_000, sleeps_1s=True),
    Workload("w6_offload", "W6 to_thread round trip", "round trip", ["100000"], ["10000"], 100_000),
    Workload("w6_threadsafe", "W6 call_soon_threadsafe, 4 threads", "callback", ["250000"], ["25000"], 1_000_000),
    # W5 (TCP echo) needs a server, a load generator and taskset: it will get its own runner
    # beside run_loop_workload(), and its rows join the same table.
]


def quick_ops(w: Workload) -> int:
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

    def command(self, w: Workload, args: list[str], python: str) -> list[str] | None:
        src = BENCH / w.name / self.source
        if not src.exists():
            return None
        if self.key == "asyncio":
            exe = CMAKE_BIN / w.name / "asyncio"
        elif self.key == "asio":
            exe = CMAKE_BIN / w.name / "asio"
        elif self.key == "tokio":
            exe = TOKIO_BIN / w.name
        elif self.key == "go":
            exe = GO_BIN / w.name
        elif self.key == "cpython":
            return [python, str(src), *args]
        elif self.key == "uvloop":
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
]


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
    keys = {r.key for r in runtimes}
    failed: dict[str, str] = {}

    cmake_keys = sorted(keys & {"asyncio", "asio"})
    if cmake_keys:
        try:
            sh(["cmake", "--preset", "bench"])
        except (OSError, subprocess.CalledProcessError) as e:
            for k in cmake_keys:
                failed[k] = f"cmake --preset bench failed ({e})"
        else:
            for k in cmake_keys:  # one target each, so that a failure on one side spares the other
                try:
                    sh(["cmake", "--build", "--preset", "bench", "--target", f"bench_{k}"])
                except (OSError, subprocess.CalledProcessError) as e:
                    failed[k] = f"CMake build of bench_{k} failed ({e})"

    if "tokio" in keys:
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
            for w in workloads:
                src = BENCH / w.name / "go.go"
                if src.exists():
                    try:
                        sh(["go", "build", "-o", str(GO_BIN / w.name), str(src)])
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

    for r in runtimes:
        if r.key in failed:
            r.note = failed[r.key]
            print(f"warning: {r.label}: {r.note}", file=sys.stderr)


# ------------------------------------------------------------------------------------ run

@dataclass
class Sample:
    ns_per_op: float | None = None
    overhead_ms: float | None = None
    wall_s: float | None = None     # /usr/bin/time's %e (10 ms resolution)
    wall_ms: float | None = None    # the same process timed by this script (around /usr/bin/time)
    rss_kib: int | None = None      # /usr/bin/time's %M
    error: str = ""


def run_loop_workload(w: Workload, r: Runtime, args: list[str], python: str) -> Sample:
    if r.note:  # its build failed: never run a stale binary
        return Sample(error=r.note)
    cmd = r.command(w, args, python)
    if cmd is None:
        return Sample(error="not built")
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


def table_rows(w: Workload, med: dict, ops: int) -> list[Row]:
    """The rows of one workload: the internal figure, whole-process wall time, peak RSS."""
    get = lambda key, attr: med.get((w.name, key), {}).get(attr)  # noqa: E731
    keys = [r.key for r in RUNTIMES]
    rows = []
    if w.sleeps_1s:
        rows.append(Row(f"**{w.title}: overhead (wall − 1 s), ms**", {k: get(k, "overhead_ms") for k in keys}))
    else:
        rows.append(Row(f"**{w.title}: ns per {w.unit}**", {k: get(k, "ns_per_op") for k in keys}))
    rows.append(Row(f"{w.title}: process wall, ms", {k: get(k, "wall_ms") for k in keys}))
    rows.append(Row(f"{w.title}: peak RSS, MiB",
                    {k: (get(k, "rss_kib") / 1024 if get(k, "rss_kib") is not None else None) for k in keys}))
    if w.sleeps_1s:
        rows.append(Row(f"{w.title}: peak RSS per task, bytes",
                        {k: (get(k, "rss_kib") * 1024 / ops if get(k, "rss_kib") is not None else None)
                         for k in keys}))
    return rows


def markdown_table(workloads: list[Workload], runtimes: list[Runtime], med: dict, errors: dict, quick: bool) -> str:
    head = "| workload, figure (median) | " + " | ".join(
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
                    err = errors.get((w.name, r.key))
                    cells.append("failed" if err else "–")
                elif r.key == "asyncio":
                    cells.append(f"**{fmt_num(v, row.digits)}**")
                else:
                    cells.append(fmt_num(v, row.digits) + (fmt_ratio(v, ours) if row.ratio else ""))
            lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions(python: str) -> dict[str, str]:
    v = {}
    project = re.search(r"project\(asyncio VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    commit = capture(["git", "describe", "--always", "--dirty"])
    gxx = capture(["g++", "--version"]).splitlines()
    v["asyncio"] = (f"{project.group(1) if project else '?'} (git {commit or '?'}), "
                    f"{gxx[0] if gxx else 'g++'}, `bench` preset = release `-O2 -DNDEBUG`")
    v["cpython"] = f"{capture([python, '-c', 'import sys; print(sys.version.split()[0])'])} (`{shutil.which(python) or python}`)"
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
    v["asio"] = f"asio {asio_version} (standalone, `{inc}`), same g++, `-O2 -std=c++20`, `io_context(1)`"
    tokio_version = "?"
    lock = BENCH / "tokio" / "Cargo.lock"
    if lock.exists():
        m = re.search(r'name = "tokio"\nversion = "([^"]+)"', lock.read_text())
        if m:
            tokio_version = m.group(1)
    v["tokio"] = (f"tokio {tokio_version} (Debian librust-tokio-dev), {capture(['rustc', '--version']) or 'rustc ?'}, "
                  "`cargo build --release`, `current_thread`")
    v["go"] = f"{capture(['go', 'version']) or 'go ?'}, `GOMAXPROCS=1`"
    v["node"] = f"Node.js {capture(['node', '--version']) or '?'}"
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
   `asio::experimental::channel` with capacity 1.
2. **Node.js**: an `async function` runs eagerly up to its first `await`; in W1 each
   `value(i)` has already returned when it is called, so nothing is scheduled and the
   awaits only drain already-resolved promises. W2 yields to the event loop with
   `await setImmediate()` (`node:timers/promises`). Node has no async queue: W3 uses a
   small promise-based bounded queue written in the program.
3. **Go**: goroutines return nothing and have no handle: in W1 each goroutine's handle is a
   channel of its own (buffered, capacity 1) that it sends its result on. W2 yields with
   `runtime.Gosched()`. W3 uses buffered channels of capacity 1 (the counterpart of
   `Queue(maxsize=1)`; an unbuffered channel would be a rendezvous, not a queue). Each
   goroutine has its own growable stack (2 KiB at least), and even with `GOMAXPROCS=1` the
   runtime keeps background threads (sysmon, GC workers).
4. **Tokio**: W2 yields with `tokio::task::yield_now()` (a zero `sleep` would go through
   the timer wheel); W3 uses `tokio::sync::mpsc::channel(1)`. Tokio's own cooperative
   budget is left at its default.
5. **CPython and uvloop** run the same program (`cpython.py`, with `--uvloop` for the
   latter), but on different interpreters: CPython on `python3` from the PATH, uvloop on
   Debian's `/usr/bin/python3`, which is where `python3-uvloop` installs. Both are 3.11;
   their builds differ (PGO/LTO), so the CPython/uvloop ratio is not the loops' alone.
6. **asyncio (ours)**: W1 awaits each handle with `co_await std::move(task)`, which uses
   the handle up as Tokio's `handle.await` does, so a task is freed as soon as its result is
   taken. With `co_await task` (the handles kept until the vector goes) the timed figure is
   the same, and the process runs about 18 ms longer: freeing the million tasks afterwards,
   from memory long out of the cache.
"""


def write_docs(out_dir: Path, workloads, runtimes, med, errors, samples, args, quick: bool,
               chart: Path | None, date: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    v = versions(args.python)
    m = machine()
    table = markdown_table(workloads, runtimes, med, errors, quick)
    sizes = ", ".join(f"{w.title} " + " × ".join(f"{int(a):,}" for a in (w.quick_args if quick else w.args))
                      for w in workloads)
    text = [
        "# Benchmarks",
        "",
        "Generated by `python3 bench/run.py` (docs/design/benchmarks-method.md describes the workloads and the rules). "
        "Each workload × runtime ran as its own process, "
        f"{ {1: 'once', 2: 'twice'}.get(args.runs, f'{args.runs} times') }, interleaved (round-robin over the runtimes "
        "within each repetition); every figure is the median. The first row of each workload is "
        "the figure the program timed from inside; peak RSS comes from `/usr/bin/time -f '%e %M'` "
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
    if errors:
        text += ["Runs that failed:", ""]
        for (wn, rk), err in sorted(errors.items()):
            text.append(f"- {wn} / {rk}: {err}")
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
        "",
        "## Footnotes",
        "",
        FOOTNOTES,
    ]
    # Where the time goes: a profile written by hand (bench/where_the_time_goes.md), kept
    # in the generated page so that a rerun does not lose it.
    profile = Path(__file__).resolve().parent / "where_the_time_goes.md"
    if profile.exists():
        text += [profile.read_text().rstrip(), ""]
    text += [
        "## Every run",
        "",
        "The internal figure of each run, in the order they ran (ns per operation):",
        "",
        "| workload | " + " | ".join(r.label for r in runtimes) + " |",
        "|---|" + "---:|" * len(runtimes),
    ]
    for w in workloads:
        cells = []
        for r in runtimes:
            runs = [s.ns_per_op for s in samples.get((w.name, r.key), [])]
            cells.append(", ".join(fmt_num(x) if x is not None else "failed" for x in runs) or "–")
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
        ("ns per operation (W4: overhead per task)", "ns_per_op", 1.0, 0.40, 0.54, True, True),
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

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=None,
                    help="repetitions of each workload x runtime (default 3; 1 with --quick)")
    ap.add_argument("--only", default="", help="workloads to run, as w1,w3 (default: all)")
    ap.add_argument("--runtimes", default="", help="runtimes to run, as asyncio,tokio (default: all)")
    ap.add_argument("--quick", action="store_true", help="smoke run: sizes divided by 10, 1 run unless --runs")
    ap.add_argument("--no-build", action="store_true", help="use what is built")
    ap.add_argument("--python", default="python3", help="interpreter for the CPython peer (default python3)")
    ap.add_argument("--docs", default=None,
                    help="where to write benchmarks.md/.png (default: docs/ for a full run, "
                         "build/bench/results/partial/ otherwise)")
    ap.add_argument("--report-only", nargs="?", const=str(RESULTS / "raw.json"), default=None, metavar="RAW",
                    help="run nothing: redraw the table, document and chart from a raw.json "
                         "(default: the last full run's, build/bench/results/raw.json)")
    args = ap.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 3
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
        workloads = [w for w in WORKLOADS if w.name in raw["workloads"]]
        runtimes = [r for r in RUNTIMES if r.key in raw["runtimes"]]
        for r in runtimes:
            r.note = raw["notes"].get(r.key, "")
        samples = {tuple(k.split("/")): [Sample(**x) for x in v] for k, v in raw["samples"].items()}
        date = raw["date"]
    else:
        if not Path(TIME).exists():
            sys.exit(f"{TIME} not found: run bench/install.sh (Debian package `time`)")
        if not args.no_build:
            build(runtimes, workloads, args.python)
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        samples = run_all(workloads, runtimes, args)
        raw_path = (RESULTS if is_full(args, workloads, runtimes) else PARTIAL) / "raw.json"
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps({
            "date": date, "runs": args.runs, "quick": args.quick, "python": args.python,
            "workloads": [w.name for w in workloads], "runtimes": [r.key for r in runtimes],
            "notes": {r.key: r.note for r in runtimes if r.note},
            "samples": {f"{wn}/{rk}": [s.__dict__ for s in ss] for (wn, rk), ss in samples.items()},
        }, indent=1))

    errors = {key: s.error for key, ss in samples.items() for s in ss if s.error}
    med = {key: {attr: median([getattr(s, attr) for s in ss if not s.error])
                 for attr in ("ns_per_op", "overhead_ms", "wall_s", "wall_ms", "rss_kib")}
           for key, ss in samples.items()}

    out_dir = Path(args.docs) if args.docs else (ROOT / "docs" if is_full(args, workloads, runtimes) else PARTIAL)
    chart = out_dir / "benchmarks.png"
    out_dir.mkdir(parents=True, exist_ok=True)
    have_chart = draw_chart(chart, workloads, runtimes, med, args.quick, args.runs)
    doc = write_docs(out_dir, workloads, runtimes, med, errors, samples, args, args.quick,
                     chart if have_chart else None, date)

    print()
    print(markdown_table(workloads, runtimes, med, errors, args.quick))
    print()
    rel = lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p  # noqa: E731
    print(f"wrote {rel(doc)}" + (f" and {rel(chart)}" if have_chart else ""))
    return 1 if errors else 0


def is_full(args, workloads, runtimes) -> bool:
    """Whether this is the run docs/ publishes: every workload and runtime at full size."""
    return not args.quick and len(workloads) == len(WORKLOADS) and len(runtimes) == len(RUNTIMES)


def run_all(workloads: list[Workload], runtimes: list[Runtime], args) -> dict[tuple[str, str], list[Sample]]:
    """Every workload x runtime, args.runs times: within a repetition, each workload runs on
    every runtime in turn (round-robin, starting one runtime further along each time)."""
    samples: dict[tuple[str, str], list[Sample]] = {}
    total = args.runs * len(workloads) * len(runtimes)
    done = 0
    for rep in range(args.runs):
        for w in workloads:
            order = runtimes[rep % len(runtimes):] + runtimes[:rep % len(runtimes)]
            for r in order:
                done += 1
                s = run_loop_workload(w, r, w.quick_args if args.quick else w.args, args.python)
                samples.setdefault((w.name, r.key), []).append(s)
                if s.error:
                    status = f"FAILED: {s.error}"
                else:
                    status = (f"{s.ns_per_op:,.1f} ns/{w.unit}, wall {s.wall_ms:,.0f} ms, "
                              f"RSS {s.rss_kib / 1024:,.1f} MiB")
                print(f"[{done}/{total}] run {rep + 1} {w.name:15} {r.key:8} {status}", file=sys.stderr, flush=True)
    return samples


if __name__ == "__main__":
    sys.exit(main())
