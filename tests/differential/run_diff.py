#!/usr/bin/env python3
"""tests/differential/run_diff.py: run one program in CPython (on vloop.py's virtual clock)
and in C++ (differential_programs NAME), compare the `t=<time> <event>` traces line by line,
and fail with a unified diff if they differ.

    run_diff.py --python PY --cxx BIN NAME
"""
import argparse
import difflib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 0:
        sys.stderr.write(f"{' '.join(cmd)} exited with {p.returncode}\n{p.stdout}{p.stderr}")
        sys.exit(1)
    return p.stdout.splitlines()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("name")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE)
    py = run([a.python, os.path.join(HERE, "programs", a.name + ".py")], env)
    cxx = run([a.cxx, a.name])
    if py == cxx:
        print(f"{a.name}: {len(py)} lines agree")
        return 0
    sys.stdout.write("".join(difflib.unified_diff([l + "\n" for l in py], [l + "\n" for l in cxx],
                                                  "CPython", "C++")))
    return 1


if __name__ == "__main__":
    sys.exit(main())
