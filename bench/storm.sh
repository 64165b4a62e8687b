#!/usr/bin/env bash
# bench/storm.sh: promptgrid's whole `run` command against `promptgrid sim` in its
# own process, fault-free, with a share of requests refused 429 at random (no
# Retry-After, no rate cap), and against a hard cap of R requests/s (issue 13,
# "429 storms": the storm at >= 1/2 x fault-free x 2/3, the cap at >= 90% of R,
# nothing lost in either).
#
# Usage (from anywhere; needs bash, go, awk; nothing is written to the repo):
#
#   bench/storm.sh
#
# Environment knobs (defaults in brackets):
#   CASES        inline cases x 2 temperatures in the storm suite [10000]
#   CONCURRENCY  promptgrid --concurrency [16]
#   FAULT        share of requests the simulator refuses with 429 [0.3333]
#   CAP          the hard cap's requests/s (--max-rate of the simulator) [50]
#   CAP_TRIALS   trials of the hard-cap run [1000]
#   ROUNDS       fault-free / storm pairs [3]
#
# Each line it prints: samples journaled, samples with an error, wall time and
# samples/s of the whole command (load, run, report); for the cap, the attempts
# (from the journal) per second and as a share of CAP.
set -euo pipefail

CASES=${CASES:-10000}
CONCURRENCY=${CONCURRENCY:-16}
FAULT=${FAULT:-0.3333}
CAP=${CAP:-50}
CAP_TRIALS=${CAP_TRIALS:-1000}
ROUNDS=${ROUNDS:-3}
KEY=benchStormKey0123456789abcdefghij # 32 alphanumerics, like a Runware key

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pg-storm.XXXXXX")
SIM_PID=""
cleanup() {
	[[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

suite() { # suite N OUT
	{
		printf 'name: storm\nmodel: moonshotai:kimi@k2.6\nrequest:\n  deliveryMethod: sync\n  includeCost: true\n  includeUsage: true\n  settings: {maxTokens: 64}\n'
		printf 'grid:\n  settings.temperature: [0.2, 1.0]\ncases:\n'
		awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "  - {id: c%d, prompt: \"question %d\", checks: [{contains: Simulated}, {regex: \"answer\"}]}\n", i, i }'
	} >"$2"
}

sim() { # sim ARGS...: starts the simulator, sets URL
	[[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null || true
	"$TMP/promptgrid" sim --addr 127.0.0.1:0 --time-scale 0 --api-key "$KEY" "$@" >"$TMP/sim.log" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 50); do
		URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/v1' "$TMP/sim.log" | head -1 || true)
		[[ -n "$URL" ]] && return
		sleep 0.1
	done
	echo "simulator did not start: $(cat "$TMP/sim.log")" >&2
	exit 1
}

measure() { # measure TAG SUITE: one whole run command; prints its line
	local tag=$1 suite=$2 start end
	rm -rf "$TMP/out"
	start=$(date +%s.%N)
	RUNWARE_API_KEY=$KEY "$TMP/promptgrid" run --endpoint "$URL" --concurrency "$CONCURRENCY" --quiet \
		--out "$TMP/out" "$suite" >"$TMP/pg.out" 2>"$TMP/pg.err" || true
	end=$(date +%s.%N)
	awk -v tag="$tag" -v t="$(echo "$end - $start" | bc)" -v cap="$3" '
		{ n++; if ($0 ~ /"error":/) e++; if (match($0, /"attempts":[0-9]+/)) a += substr($0, RSTART + 11, RLENGTH - 11) }
		END {
			printf "%-10s %6d samples, %d errors, %.2f s, %.0f samples/s", tag, n, e, t, n / t
			if (cap > 0) printf ", %d attempts (%.1f%% 429s), %.1f attempts/s = %.0f%% of R=%d", a, 100 * (a - n) / a, a / t, 100 * a / t / cap, cap
			printf "\n"
		}' "$TMP/out/journal.jsonl"
}

(cd "$REPO" && go build -o "$TMP/promptgrid" ./cmd/promptgrid)
suite "$CASES" "$TMP/storm.yaml"
suite "$((CAP_TRIALS / 2))" "$TMP/cap.yaml"
for r in $(seq "$ROUNDS"); do
	sim
	measure "clean.$r" "$TMP/storm.yaml" 0
	sim --fault-429 "$FAULT"
	measure "storm.$r" "$TMP/storm.yaml" 0
done
sim --max-rate "$CAP"
measure cap "$TMP/cap.yaml" "$CAP"
