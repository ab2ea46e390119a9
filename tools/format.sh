#!/usr/bin/env bash
# tools/format.sh [--check] [FILE...]: formats the C++ files with clang-format and the
# repository's .clang-format: FILE... if given, else every tracked .hpp and .cpp file.
# In place by default; with --check, changes nothing, prints the diff clang-format would
# make and fails if there is one (CI runs it so, .ci/run).
#
# The style is pinned to the clang-format CI installs, Debian bookworm's clang-format 14
# (another version formats some constructs differently): set CLANG_FORMAT to pick the binary.
# docs/design/toolchain.md explains the configuration.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

clang_format=${CLANG_FORMAT:-clang-format}
check=0
if [[ ${1-} == --check ]]; then
    check=1
    shift
fi

files=()
if (($#)); then
    # Given files (a list of changed files, say): the C++ ones that still exist.
    for f in "$@"; do
        if [[ $f == *.hpp || $f == *.cpp ]] && [[ -f $f ]]; then files+=("$f"); fi
    done
else
    mapfile -t files < <(git ls-files -- '*.hpp' '*.cpp')
fi
if ((${#files[@]} == 0)); then
    echo "format.sh: no C++ file to format"
    exit 0
fi

version=$("${clang_format}" --version)
if [[ ${version} != *"version 14."* ]]; then
    echo "format.sh: warning: ${version} is not the clang-format 14 the style is checked with" >&2
fi

if ((!check)); then
    "${clang_format}" -i --style=file "${files[@]}"
    exit 0
fi

status=0
changed=0
for f in "${files[@]}"; do
    if ! "${clang_format}" --style=file "$f" | diff -u --label "a/$f" --label "b/$f" "$f" -; then
        status=1
        changed=$((changed + 1))
    fi
done
if ((status)); then
    echo "format.sh: ${changed} of ${#files[@]} files are not formatted; run tools/format.sh" >&2
else
    echo "format.sh: ${#files[@]} files formatted"
fi
exit "${status}"
