#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - run qarray's test programs and add up their results.
#
# usage: tests/run.sh NAME=COMMAND...
# Each COMMAND runs with its output kept in build/test-logs/NAME.log and
# shown; a program's own closing line "N passed, N failed" is added to the
# totals (a command without one counts as one check, by its exit status). A
# non-zero exit counts as a failure even when its summary says otherwise.
# Prints "N passed, N failed" last and exits non-zero if anything failed.
set -u
logdir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$logdir"
total_pass=0
total_fail=0
failed_names=()
for spec in "$@"; do
	name=${spec%%=*}
	cmd=${spec#*=}
	log="$logdir/$name.log"
	echo "=== $name: $cmd"
	start=$(date +%s)
	bash -c "$cmd" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# show failures in full, otherwise the last lines
	if ((rc != 0)); then cat "$log"; else grep -vE '^PASS ' "$log" | tail -n 8; fi
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [[ -n "$summary" ]]; then
		p=$(echo "$summary" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	else
		p=$((rc == 0 ? 1 : 0))
		f=$((rc == 0 ? 0 : 1))
	fi
	if ((rc != 0 && f == 0)); then f=1; fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	((f > 0)) && failed_names+=("$name")
	echo "--- $name: $p passed, $f failed, exit $rc, ${secs}s"
done
echo
if ((${#failed_names[@]})); then echo "failed: ${failed_names[*]}"; fi
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
