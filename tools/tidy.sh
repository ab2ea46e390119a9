#!/usr/bin/env bash
# tools/tidy.sh [-p BUILD_DIR] [-j JOBS] [--base REV | FILE...]: runs clang-tidy with the
# repository's .clang-tidy on translation units of BUILD_DIR/compile_commands.json (default
# build/dev, which `cmake --preset dev` configures; every preset exports one).
#   no argument:  the library's sources, src/*.cpp (and through them the headers of include/
#                 and src/, which .clang-tidy's HeaderFilterRegex reports on);
#   FILE...:      those files: a .cpp is checked itself, a header through the files that
#                 include it by name (and, for a header of include/ or src/, src/*.cpp);
#   --base REV:   the C++ files changed since the merge base of REV and HEAD, committed or
#                 not, treated as FILE....
# Fails if clang-tidy reports anything (.clang-tidy makes every warning an error).
# Checked with Debian bookworm's clang-tidy 14, what CI installs: set CLANG_TIDY to pick the
# binary. docs/design/toolchain.md explains the check list.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

clang_tidy=${CLANG_TIDY:-clang-tidy}
build=build/dev
jobs=2
base=
while (($#)); do
    case $1 in
        -p) build=$2; shift 2 ;;
        -j) jobs=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --) shift; break ;;
        -*) echo "tidy.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done

db=${build}/compile_commands.json
if [[ ! -f ${db} ]]; then
    echo "tidy.sh: no ${db}: configure first (cmake --preset dev)" >&2
    exit 2
fi

# CMake's precompiled headers (ASYNCIO_PCH, on in most presets) are GCC's .gch files, which
# clang-tidy cannot read: it gets a copy of the compilation database without them, so that
# each file is checked with the headers it includes itself.
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
python3 -c '
import json, shlex, sys
db = json.load(open(sys.argv[1]))
for e in db:
    args = e.pop("arguments", None) or shlex.split(e.pop("command"))
    kept = []
    for a in args:
        if a == "-Winvalid-pch": continue
        if a.endswith("/cmake_pch.hxx") and kept and kept[-1] == "-include": kept.pop(); continue
        kept.append(a)
    e["arguments"] = kept
json.dump(db, open(sys.argv[2], "w"), indent=1)
' "${db}" "${tmp}/compile_commands.json"

# The translation units the build knows, as paths relative to the repository.
mapfile -t units < <(python3 -c '
import json, os, sys
top = os.getcwd()
for e in json.load(open(sys.argv[1])):
    f = os.path.relpath(os.path.join(e["directory"], e["file"]), top)
    if not f.startswith(".."): print(f)
' "${db}" | sort -u)
is_unit() {
    local u
    for u in "${units[@]}"; do [[ $u == "$1" ]] && return 0; done
    return 1
}

given=()
if [[ -n ${base} ]]; then
    mapfile -t given < <(git diff --name-only --diff-filter=d "$(git merge-base "${base}" HEAD)" -- '*.hpp' '*.cpp')
    if ((${#given[@]} == 0)); then
        echo "tidy.sh: no C++ file changed since ${base}"
        exit 0
    fi
elif (($#)); then
    given=("$@")
else
    given=(src/*.cpp)
fi

declare -A chosen=()
for f in "${given[@]}"; do
    case $f in
        *.cpp)
            if is_unit "$f"; then
                chosen[$f]=1
            else
                echo "tidy.sh: skipping $f: not in ${db}"
            fi
            ;;
        *.hpp)
            # A header: the units that include it by name, and the library's sources for a
            # header of the library (they include most of them, directly or not).
            if [[ $f == include/* || $f == src/* ]]; then
                for u in src/*.cpp; do chosen[$u]=1; done
            fi
            name=$(basename "$f")
            for u in "${units[@]}"; do
                if grep -Eq "#include [<\"](.*/)?${name//./\\.}[>\"]" "$u"; then chosen[$u]=1; fi
            done
            ;;
    esac
done
if ((${#chosen[@]} == 0)); then
    echo "tidy.sh: nothing to check"
    exit 0
fi

echo "tidy.sh: $("${clang_tidy}" --version | grep -m1 version | sed 's/^ *//'), ${#chosen[@]} files, ${jobs} jobs"
# clang-tidy counts the warnings it generated and suppressed in each file (the standard
# library's, mostly): that line is noise.
set +e
printf '%s\n' "${!chosen[@]}" | sort |
    xargs -P "${jobs}" -n 1 "${clang_tidy}" -p "${tmp}" --quiet 2>&1 |
    grep -v '^[0-9]* warnings\? generated\.$'
status=("${PIPESTATUS[@]}")
set -e
if ((status[2])); then
    echo "tidy.sh: clang-tidy found problems (above)" >&2
    exit 1
fi
echo "tidy.sh: clean"
