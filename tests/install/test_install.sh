#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/run_model against the *installed* package, three
# ways (find_package with libnpukit.so, with libnpukit.a, and pkg-config), runs each on a model and checks they
# print the same outputs; checks the installed headers include nothing but <npukit/...> and the standard
# library, the shared library's SONAME, and that the installed Python package imports.
#   tests/install/test_install.sh BUILD_DIR SOURCE_DIR MODEL [PYTHON_DIR]
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
model=$3
python_dir=${4:-}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/npukit-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(cd "$prefix" && ls -d lib*/ | head -1); libdir=${libdir%/}
for file in include/npukit/session.h include/npukit/check.h include/npukit/version.h bin/npukit \
            "$libdir/libnpukit.a" "$libdir/libnpukit.so" "$libdir/npukit/npukit-validate" \
            "$libdir/cmake/npukit/npukit-config.cmake" "$libdir/pkgconfig/npukit.pc"; do
  [ -e "$prefix/$file" ] || { echo "FAIL: cmake --install did not install $file"; exit 1; }
done
# The public headers see only each other: no src/ header, no nlohmann, no protobuf.
if grep -h '#include' "$prefix"/include/npukit/*.h | grep -v -E '#include (<[a-z_]+>|"npukit/[a-z_]+\.h")'; then
  echo "FAIL: an installed header includes something outside npukit/ and the standard library"; exit 1
fi
soname=$(readelf -d "$prefix/$libdir/libnpukit.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ "$soname" == libnpukit.so.* ]] || { echo "FAIL: libnpukit.so has SONAME '$soname'"; exit 1; }

outputs=()
for variant in shared static; do
  static=OFF; [ "$variant" = static ] && static=ON
  cmake -S "$source/examples/run_model" -B "$prefix/example-$variant" -DCMAKE_PREFIX_PATH="$prefix" \
        -DRUN_MODEL_STATIC=$static -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$prefix/example-$variant" >/dev/null
  outputs+=("$("$prefix/example-$variant/run_model" "$model")")
done
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
# shellcheck disable=SC2046
c++ -std=c++20 "$source/examples/run_model/run_model.cpp" -o "$prefix/run_model_pkgconfig" \
    $(pkg-config --cflags --libs npukit) -Wl,-rpath,"$(pkg-config --variable=libdir npukit)"
outputs+=("$("$prefix/run_model_pkgconfig" "$model")")

echo "${outputs[0]}"
grep -q '^output ' <<<"${outputs[0]}" || { echo "FAIL: the example printed no output"; exit 1; }
for output in "${outputs[@]:1}"; do
  [ "$output" = "${outputs[0]}" ] || { echo "FAIL: the builds print different outputs:"; echo "$output"; exit 1; }
done
# The static build carries the library; the shared build really uses the installed libnpukit.so.
# (ldd's output is read whole first: grep -q stops early, and under pipefail ldd's SIGPIPE would count as a failure.)
static_libraries=$(ldd "$prefix/example-static/run_model")
shared_libraries=$(ldd "$prefix/example-shared/run_model")
if grep -q libnpukit.so <<<"$static_libraries"; then
  echo "FAIL: the static build of run_model loads libnpukit.so"; exit 1
fi
grep -q "$prefix/$libdir/libnpukit.so" <<<"$shared_libraries" ||
  { echo "FAIL: run_model does not load the installed libnpukit.so"; echo "$shared_libraries"; exit 1; }

if [ -n "$python_dir" ]; then
  PYTHONPATH="$prefix/$python_dir" /usr/bin/python3 -c "
import npukit, sys
assert npukit.__file__.startswith('$prefix'), npukit.__file__
print('python: npukit', npukit.version(), 'from', npukit.__file__)"
fi
echo "install test passed: find_package (shared, static) and pkg-config builds agree"
