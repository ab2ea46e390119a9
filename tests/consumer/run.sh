#!/usr/bin/env bash
# tests/consumer/run.sh: builds and runs the four consumer projects of tests/consumer/ and the
# pkg-config consumer against one source tree and one compiler, as a user of the library
# would: (a) the installed package through find_package, (b) add_subdirectory, (c)
# FetchContent from the local clone (no network), (d) a consumer's shared library linking
# the library, and (e) a plain compiler command line from `pkg-config --cflags --libs`.
# Each consumer compiles with -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion
# -Wsign-conversion, the library's headers read as the consumer's own (not system headers),
# and runs a program that checks its results (exit code non-zero on a mismatch).
#
# usage: tests/consumer/run.sh [-s SOURCE] [-w WORKDIR] [-i BUILD_TREE] [-c CONFIG] [-S] [-j N] CXX
#   CXX            the compiler (g++, clang++, or a path)
#   -s SOURCE      the source tree under test (default: the one holding this script)
#   -w WORKDIR     where to build (default: SOURCE/build/consumer-<compiler>[-shared]); it
#                  must be empty or an earlier WORKDIR, whose contents are removed
#   -i BUILD_TREE  install the library from this already built tree (built by CXX, without
#                  sanitizers) instead of building it again; (b) and (c) build it anyway
#   -c CONFIG      CMAKE_BUILD_TYPE of every build (default: Release)
#   -S             the library as a shared library (BUILD_SHARED_LIBS=ON)
#   -j N           parallel jobs (default: 2)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "${here}/../.." && pwd)
work=""
from_build=""
config=Release
shared=OFF
jobs=2
usage() { sed -n '/^# usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while getopts "s:w:i:c:Sj:h" opt; do
    case ${opt} in
        s) source_dir=$(cd "${OPTARG}" && pwd) ;;
        w) work=${OPTARG} ;;
        i) from_build=$(cd "${OPTARG}" && pwd) ;;
        c) config=${OPTARG} ;;
        S) shared=ON ;;
        j) jobs=${OPTARG} ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
(($# == 1)) || usage
cxx=$1
command -v "${cxx}" >/dev/null || { echo "run.sh: no compiler ${cxx}" >&2; exit 2; }
cxx=$(command -v "${cxx}")
suffix=$(basename "${cxx}")
[[ ${shared} == ON ]] && suffix+=-shared
work=${work:-${source_dir}/build/consumer-${suffix}}
mkdir -p "${work}"
work=$(cd "${work}" && pwd)
# Emptied first, but only if it is empty already or one of ours (marked).
if [[ -n $(ls -A "${work}") && ! -f ${work}/.consumer-run ]]; then
    echo "run.sh: ${work} is not empty and not a work directory of run.sh: not removing it" >&2
    exit 2
fi
rm -rf "${work:?}"/*
touch "${work}/.consumer-run"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
common=("${generator[@]}" -DCMAKE_CXX_COMPILER="${cxx}" -DCMAKE_BUILD_TYPE="${config}")
prefix=${work}/prefix
failed=()

step() { echo; echo "==== consumer: $*"; }
# build NAME SOURCE_SUBDIR CMAKE_ARGS...: configures and builds one consumer project.
build() {
    local name=$1 dir=$2
    shift 2
    cmake -S "${here}/${dir}" -B "${work}/${name}" "${common[@]}" "$@" >"${work}/${name}.configure.log" ||
        { cat "${work}/${name}.configure.log"; return 1; }
    cmake --build "${work}/${name}" -j "${jobs}"
}
# check NAME COMMAND...: runs a consumer program; a failure is recorded, the others still run.
check() {
    local name=$1
    shift
    if "$@"; then echo "==== consumer ${name}: ok"; else echo "==== consumer ${name}: FAILED"; failed+=("${name}"); fi
}

# ---- the library, installed into WORKDIR/prefix
if [[ -n ${from_build} ]]; then
    step "installing ${from_build} into ${prefix}"
    cmake --install "${from_build}" --prefix "${prefix}" >/dev/null
else
    step "building the library (${config}, BUILD_SHARED_LIBS=${shared}) and installing it into ${prefix}"
    cmake -S "${source_dir}" -B "${work}/asyncio" "${common[@]}" -DBUILD_SHARED_LIBS="${shared}" \
        -DASYNCIO_BUILD_TESTS=OFF -DASYNCIO_BUILD_EXAMPLES=OFF >"${work}/asyncio.configure.log" ||
        { cat "${work}/asyncio.configure.log"; exit 1; }
    cmake --build "${work}/asyncio" -j "${jobs}"
    cmake --install "${work}/asyncio" --prefix "${prefix}" >/dev/null
fi
libdir=$(dirname "$(find "${prefix}" -name asyncio.pc -path '*/pkgconfig/*' | head -n1)")
libdir=$(dirname "${libdir}")
installed_files() {
    local f
    for f in include/asyncio.hpp include/asyncio/version.hpp include/asyncio/testing.hpp \
        include/asyncio/testing/gtest.hpp "${libdir#"${prefix}"/}/cmake/asyncio/asyncioConfig.cmake" \
        "${libdir#"${prefix}"/}/pkgconfig/asyncio.pc" share/doc/asyncio/LICENSE; do
        [[ -f ${prefix}/${f} ]] || { echo "not installed: ${f}"; return 1; }
    done
    compgen -G "${libdir}/libasyncio.*" >/dev/null || { echo "not installed: ${libdir}/libasyncio.*"; return 1; }
    echo "installed: $(cd "${prefix}" && find . -type f | wc -l) files, $(cd "${libdir}" && ls libasyncio.*)"
}
check install installed_files

# ---- (a) find_package
step "(a) find_package(asyncio)"
build find_package find_package -DCMAKE_PREFIX_PATH="${prefix}"
check find_package "${work}/find_package/consumer"
if [[ -x ${work}/find_package/ask_test ]]; then
    # docs/testing.md's example: 90 s of virtual time, in milliseconds of wall time.
    check find_package.asyncio_testing timeout 20 "${work}/find_package/ask_test"
else
    echo "==== consumer find_package.asyncio_testing: skipped (no GoogleTest found)"
fi

# ---- (d) a consumer's shared library
step "(d) a consumer's shared library linking the library"
build shared_library shared_library -DCMAKE_PREFIX_PATH="${prefix}"
check shared_library.linked "${work}/shared_library/uses_lib"
check shared_library.dlopen "${work}/shared_library/dlopens_lib"

# ---- (e) pkg-config
step "(e) pkg-config --cflags --libs asyncio"
export PKG_CONFIG_PATH=${libdir}/pkgconfig${PKG_CONFIG_PATH:+:${PKG_CONFIG_PATH}}
pc_version=$(pkg-config --modversion asyncio)
# shellcheck disable=SC2046  # pkg-config's flags are words
(
    set -x
    "${cxx}" -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wsign-conversion -O1 \
        -DCONSUMER_EXPECT_VERSION="\"${pc_version}\"" -I"${here}/common" \
        $(pkg-config --cflags asyncio) "${here}/common/consumer.cpp" \
        $(pkg-config --libs asyncio) -Wl,-rpath,"$(pkg-config --variable=libdir asyncio)" \
        -o "${work}/pkg_config_consumer"
)
check pkg_config "${work}/pkg_config_consumer"

# ---- (b) add_subdirectory
step "(b) add_subdirectory(${source_dir})"
build add_subdirectory add_subdirectory -DASYNCIO_SOURCE_DIR="${source_dir}" -DBUILD_SHARED_LIBS="${shared}"
check add_subdirectory "${work}/add_subdirectory/consumer"
if [[ -x ${work}/add_subdirectory/ask_test ]]; then
    check add_subdirectory.asyncio_testing timeout 20 "${work}/add_subdirectory/ask_test"
else
    echo "==== consumer add_subdirectory.asyncio_testing: skipped (no GoogleTest found)"
fi
only_the_consumer_installed() {
    cmake --install "${work}/add_subdirectory" --prefix "${work}/add_subdirectory-prefix" >/dev/null
    local files
    files=$(cd "${work}/add_subdirectory-prefix" && find . -type f -o -type l | sort)
    [[ ${files} == "./bin/consumer" ]] || { echo "the parent's install tree holds more than its program:"; echo "${files}"; return 1; }
    echo "the parent's install tree holds its program only"
}
# (With -S the parent would have to install libasyncio.so itself, or turn ASYNCIO_INSTALL on.)
if [[ ${shared} == OFF ]]; then
    check add_subdirectory.install only_the_consumer_installed
fi

# ---- (c) FetchContent
git_tag=""
if git -C "${source_dir}" rev-parse --git-dir >/dev/null 2>&1 &&
    [[ -z $(git -C "${source_dir}" status --porcelain --untracked-files=no) ]]; then
    git_tag=$(git -C "${source_dir}" rev-parse HEAD)
    step "(c) FetchContent: git clone of ${source_dir} at ${git_tag}"
else
    step "(c) FetchContent: SOURCE_DIR ${source_dir} (uncommitted changes: not cloned)"
fi
build fetchcontent fetchcontent -DASYNCIO_SOURCE_DIR="${source_dir}" -DCONSUMER_GIT_TAG="${git_tag}" \
    -DBUILD_SHARED_LIBS="${shared}"
check fetchcontent "${work}/fetchcontent/consumer"

echo
if ((${#failed[@]})); then
    echo "==== consumer (${suffix}): FAILED: ${failed[*]}"
    exit 1
fi
echo "==== consumer (${suffix}): all passed"
