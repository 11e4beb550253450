#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fuzz-deps.sh - install what `make fuzz` needs (clang with libFuzzer and the
# sanitizer runtimes), if it is missing, then check that it links a fuzzer.
# Idempotent like deps.sh: nothing is downloaded when everything is present.
# Uses sudo when not root. `make fuzz-replay` needs none of this (gcc only).
#
# Debian 12 ships clang 14; its libFuzzer and ASan/UBSan runtimes
# (libclang_rt.fuzzer-x86_64.a, ...) are in libclang-rt-14-dev, which plain
# `apt-get install clang --no-install-recommends` does not bring.
set -euo pipefail

DEB_PKGS=(clang libclang-rt-14-dev)
CLANG=${CLANG:-clang}

# shellcheck source=mk/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"
deps_apt fuzz-deps "${DEB_PKGS[@]}"

# The proof: a trivial harness must compile and link with libFuzzer, ASan
# and UBSan, and run.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/t.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return size > 0 && data[0] == 1 ? 0 : 0;
}
C
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" 2>"$tmp/err" ||
	! "$tmp/t" -runs=10 >/dev/null 2>&1; then
	cat "$tmp/err" >&2
	echo "fuzz-deps: $CLANG cannot build a libFuzzer program with ASan and UBSan" >&2
	exit 1
fi
echo "fuzz-deps: $CLANG $("$CLANG" -dumpversion) builds libFuzzer programs with ASan and UBSan"
