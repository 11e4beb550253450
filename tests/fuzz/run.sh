#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - the driver behind `make fuzz` and `make fuzz-cmin` (mk/fuzz.mk).
#
# usage: tests/fuzz/run.sh fuzz|cmin FUZZ_DIR CORPUS SECONDS HARNESS...
#
# fuzz: for each harness, one after the other, run FUZZ_DIR/fuzz_HARNESS for
#   SECONDS on CORPUS/HARNESS (read only) with a fresh scratch corpus
#   FUZZ_DIR/work/HARNESS for what it finds, then merge into CORPUS/HARNESS
#   only the scratch inputs that reach code the corpus does not (libFuzzer
#   -set_cover_merge=1 -use_counters=0: a small set of inputs covering the
#   new edges, not new hit counts; files named by their SHA-1), which keeps
#   the committed corpus small. Crash, leak, timeout and out-of-memory
#   inputs go to FUZZ_DIR/crashes/HARNESS/ (emptied first); logs to
#   FUZZ_DIR/logs/. Prints one line per harness and exits 1 if any crashed.
# cmin: rebuild each CORPUS/HARNESS as a small set of its inputs with the
#   same edge coverage (libFuzzer's greedy set cover, -set_cover_merge);
#   seed-* and regress-* files are always kept.
#
# Environment: FUZZ_NICE (default "nice -n 10"; the machine is shared),
# FUZZ_OPTS (more libFuzzer options). A tests/fuzz/HARNESS.dict is passed
# as the harness's dictionary when it exists.
set -u
if (($# < 5)); then
	echo "usage: $0 fuzz|cmin FUZZ_DIR CORPUS SECONDS HARNESS..." >&2
	exit 2
fi
mode=$1 dir=$2 corpus=$3 secs=$4
shift 4
read -r -a nice_cmd <<<"${FUZZ_NICE-nice -n 10}"
read -r -a opts <<<"${FUZZ_OPTS-}"
here=$(dirname "$0")
mkdir -p "$dir/logs"
total_crashes=0

count_files() { find "$1" -maxdepth 1 -type f | wc -l; }
sum_bytes() { find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

for h in "$@"; do
	bin=$dir/fuzz_$h
	dict=()
	[[ -f "$here/$h.dict" ]] && dict=("-dict=$here/$h.dict")
	mkdir -p "$corpus/$h"
	log=$dir/logs/$h.log

	if [[ $mode == cmin ]]; then
		out=$dir/cmin/$h
		rm -rf "$out"
		mkdir -p "$out"
		before=$(count_files "$corpus/$h")
		"${nice_cmd[@]}" "$bin" -set_cover_merge=1 -use_counters=0 "${dict[@]}" "$out" "$corpus/$h" >"$log" 2>&1 ||
			{ echo "cmin $h: merge failed, see $log"; exit 1; }
		# keep seeds and regression inputs under their names
		declare -A keep=()
		for f in "$corpus/$h"/seed-* "$corpus/$h"/regress-*; do
			[[ -f "$f" ]] && keep[$(sha1sum <"$f" | cut -d' ' -f1)]=1
		done
		for f in "$corpus/$h"/*; do
			case ${f##*/} in seed-* | regress-*) ;; *) rm -f "$f" ;; esac
		done
		for f in "$out"/*; do
			[[ -f "$f" && -z "${keep[${f##*/}]:-}" ]] && cp "$f" "$corpus/$h/"
		done
		unset keep
		echo "cmin $h: $before -> $(count_files "$corpus/$h") files, $(sum_bytes "$corpus/$h") bytes"
		continue
	fi

	work=$dir/work/$h
	crashes=$dir/crashes/$h
	rm -rf "$work" "$crashes"
	mkdir -p "$work" "$crashes"
	before=$(count_files "$corpus/$h")
	start=$(date +%s)
	"${nice_cmd[@]}" "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=10 -artifact_prefix="$crashes/" "${dict[@]}" "${opts[@]}" \
		"$work" "$corpus/$h" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n 1 | awk '{print $2}')
	rss=$(grep -E '^stat::peak_rss_mb:' "$log" | tail -n 1 | awk '{print $2}')
	crashed=$(count_files "$crashes")
	if ((rc != 0 && crashed == 0)); then crashed=1; fi
	total_crashes=$((total_crashes + crashed))
	# only what adds coverage goes into the committed corpus
	"${nice_cmd[@]}" "$bin" -set_cover_merge=1 -use_counters=0 "${dict[@]}" "$corpus/$h" "$work" >"$dir/logs/$h.merge.log" 2>&1 ||
		echo "fuzz $h: merge failed, see $dir/logs/$h.merge.log"
	after=$(count_files "$corpus/$h")
	printf 'fuzz %-9s %10s executions in %4ss (%s/s), peak RSS %s MB, %d crashes, corpus %d -> %d files (%s bytes)\n' \
		"$h:" "${execs:-?}" "$took" "$(( ${execs:-0} / (took > 0 ? took : 1) ))" \
		"${rss:-?}" "$crashed" "$before" "$after" "$(sum_bytes "$corpus/$h")"
	if ((crashed)); then
		echo "  crash inputs in $crashes/, log $log:"
		grep -E 'ERROR: |check failed|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
	fi
done
if ((total_crashes)); then
	echo "fuzz: $total_crashes crashes; reproduce with $dir/fuzz_HARNESS FILE or $dir/replay_HARNESS FILE"
	exit 1
fi
