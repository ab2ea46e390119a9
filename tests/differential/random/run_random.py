#!/usr/bin/env python3
"""tests/differential/random/run_random.py: generate programs for seeds FIRST..LAST-1
(gen.py), run each on CPython (interp.py) and in C++ (differential_programs --interpret),
and compare the traces line by line; fail with the program and a diff on the first seed
that disagrees.

    run_random.py --python PY --cxx BIN FIRST LAST
"""
import argparse
import difflib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 0:
        return None, f"{' '.join(cmd)} exited with {p.returncode}\n{p.stdout}{p.stderr}"
    return p.stdout.splitlines(), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("first", type=int)
    ap.add_argument("last", type=int)
    a = ap.parse_args()
    parent = os.path.dirname(HERE)
    env = dict(os.environ, PYTHONPATH=parent)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.first, a.last):
            prog = gen.generate(seed)
            path = os.path.join(tmp, f"{seed}.txt")
            with open(path, "w") as f:
                f.write(prog)
            py, err = run([a.python, os.path.join(parent, "interp.py"), path], env)
            if err:
                print(f"seed {seed}: CPython failed\n{err}\n{prog}")
                return 1
            cxx, err = run([a.cxx, "--interpret", path])
            if err:
                print(f"seed {seed}: C++ failed\n{err}\n{prog}")
                return 1
            if py != cxx:
                print(f"seed {seed} disagrees:\n{prog}")
                sys.stdout.write("".join(difflib.unified_diff([l + "\n" for l in py], [l + "\n" for l in cxx],
                                                              "CPython", "C++")))
                return 1
    print(f"seeds {a.first}..{a.last - 1}: all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
