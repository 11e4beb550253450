# SPDX-License-Identifier: Apache-2.0
# deps-lib.sh - sourced by mk/deps.sh, fpga-deps.sh, formal-deps.sh and
# fuzz-deps.sh: install the Debian and PyPI packages of a list that are not
# installed yet, and nothing when all are there.
#
#   deps_apt TAG PKG...  apt-get the Debian packages among PKG... that dpkg
#                        does not list as installed (through sudo when not
#                        root); with DEPS_APT_OPTIONAL=1, packages the archive
#                        lacks are skipped with a note instead of failing
#   deps_pip TAG PKG...  pip-install, with $PYTHON (default python3), the
#                        PyPI packages among PKG... that pip does not show
#
# TAG starts every message. Both return non-zero when installing fails.

deps_apt() {
	local tag=$1 p status sudo=""
	shift
	local missing=() avail=()
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ "$status" == "install ok installed" ]] || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		echo "$tag: all Debian packages present ($*)"
		return 0
	fi
	echo "$tag: installing Debian packages: ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		if ! command -v sudo >/dev/null; then
			echo "$tag: need root or sudo to install ${missing[*]}" >&2
			return 1
		fi
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q || return 1
	if [[ ${DEPS_APT_OPTIONAL:-0} == 1 ]]; then
		for p in "${missing[@]}"; do
			if apt-cache show "$p" >/dev/null 2>&1; then
				avail+=("$p")
			else
				echo "$tag: Debian has no package $p, skipped" >&2
			fi
		done
		((${#avail[@]})) || return 0
		missing=("${avail[@]}")
	fi
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

deps_pip() {
	local tag=$1 p
	shift
	local missing=()
	for p in "$@"; do
		"${PYTHON:-python3}" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		echo "$tag: all PyPI packages present ($*)"
		return 0
	fi
	echo "$tag: installing from PyPI: ${missing[*]}"
	"${PYTHON:-python3}" -m pip install -q "${missing[@]}"
}
