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

missing=()
for p in "${DEB_PKGS[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
	echo "deps: installing Debian packages: ${missing[*]}"
	SUDO=""
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
		SUDO=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "deps: all Debian packages present (${DEB_PKGS[*]})"
fi
