#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh - install what qarray needs to build and test, if it is missing.
# Idempotent: packages already installed are left alone and nothing is
# downloaded when everything is present. Uses sudo when not root.
set -euo pipefail

# Debian packages: compilers, simulators, zlib for FST traces, Python for the
# test scripts' JSON checks; libftdi1 and libusb for the USB transports,
# umockdev for the emulated board; gnuplot for the demo's plot.
DEB_PKGS=(make gcc g++ verilator iverilog zlib1g-dev python3 valgrind
	pkg-config libftdi1-dev libusb-1.0-0-dev umockdev libumockdev-dev
	gnuplot-nox)

# shellcheck source=mk/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"
deps_apt deps "${DEB_PKGS[@]}"
