#!/usr/bin/env bash
# bench/throughput.sh: promptgrid's whole `run` command vs vegeta, side by side,
# against the same `promptgrid sim` server (issue 13, throughput target: promptgrid
# at >= 75% of vegeta's request rate at the same concurrency and body).
#
# Usage (from anywhere; needs bash, go, curl, awk; nothing is written to the repo):
#
#   bench/throughput.sh                     # build from the working tree
#   PG_SRC=head bench/throughput.sh         # build from a `git archive HEAD` export
#   PG_SRC=/path/to/src bench/throughput.sh # build from another source tree
#
# Environment knobs (defaults in brackets):
#   PG_SRC           worktree | head | DIR: what promptgrid is built from [worktree]
#   CASES            inline cases in the generated suite, x 2 temperatures [10000]
#   CONCURRENCY      promptgrid --concurrency and vegeta -workers/-max-workers [50]
#   VEGETA_DURATION  length of the vegeta attack [10s]
#   VEGETA_VERSION   vegeta module version, installed with go install [v12.13.0]
#   PG_QUIET         1 passes --quiet to promptgrid run (no progress lines) [0]
#   ROUNDS           vegeta/promptgrid pairs, interleaved; >1 adds the medians [1]
#   N_TARGETS        distinct taskUUIDs vegeta cycles through [10000]
#   KEEP             1 keeps the temp dir (suite, journal, vegeta results) [0]
#   PG_CPUPROFILE    FILE: build promptgrid with a `go build -overlay` (temp files
#                    only: main.go with os.Exit(mainRun()) wrapped) that writes a CPU
#                    profile of the whole measured run command to FILE (FILE.R for
#                    round R when ROUNDS > 1); read it with
#                    `go tool pprof -top -cum FILE` [unset]
#
# What it does, all in one temp dir (mktemp -d) and on 127.0.0.1 only:
#   1. go build promptgrid once; go install vegeta into a temp GOBIN.
#   2. starts `promptgrid sim --addr 127.0.0.1:0 --time-scale 0` in its own process
#      (zero simulated latency, a fixed API key), so the server is not inside the
#      measured process.
#   3. vegeta: `attack -rate=0 -workers=C -max-workers=C` for VEGETA_DURATION with
#      one native textInference task array as promptgrid sends it (sync delivery,
#      maxTokens 64, includeCost, includeUsage, numberResults 1, a seed), same
#      headers; requests/s = vegeta's throughput (successful requests / time).
#   4. promptgrid: generates a suite of CASES inline cases x 2 temperatures
#      (settings.temperature [0.2, 1.0]), 2 cheap checks (contains + regex), no rate
#      limit, and times the whole `promptgrid run --endpoint URL --concurrency C`
#      command (load, run, report printed as the table); requests/s = HTTP
#      requests the server counted during the command / wall time of the command.
#   5. prints both rates, promptgrid/vegeta, and CPU per request of each client and
#      of the simulator (robust to other load on the machine); with ROUNDS > 1
#      repeats 3-4 interleaved and prints the medians. A trap stops the simulator
#      and removes the temp dir on exit.
set -euo pipefail

CASES=${CASES:-10000}
CONCURRENCY=${CONCURRENCY:-50}
VEGETA_DURATION=${VEGETA_DURATION:-10s}
VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0}
PG_SRC=${PG_SRC:-worktree}
PG_QUIET=${PG_QUIET:-0}
KEEP=${KEEP:-0}
ROUNDS=${ROUNDS:-1}
KEY=benchThroughputKey0123456789abcd  # 32 alphanumerics, like a Runware key

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pg-throughput.XXXXXX")
SIM_PID=""

cleanup() {
	local rc=$?
	if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	if [[ "$KEEP" == 1 ]]; then
		echo "kept $TMP" >&2
	else
		chmod -R u+w "$TMP" 2>/dev/null || true
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "== $*" >&2; }
# timefmt FILE / timecpu FILE read /usr/bin/time's "%e %U %S %M" (absent: "?").
timefmt() { [[ -s "$1" ]] && awk '{printf "%.2f s wall, %.2f s user+sys CPU, %.0f MB max RSS", $1, $2 + $3, $4 / 1024}' "$1" || echo "?"; }
timecpu() { [[ -s "$1" ]] && awk '{printf "%.2f", $2 + $3}' "$1" || echo 0; }
now_ns() { date +%s%N; }

# --- 1. build ---------------------------------------------------------------
mkdir -p "$TMP/bin" "$TMP/src"
case "$PG_SRC" in
worktree) SRC=$REPO ;;
head)
	SRC=$TMP/src
	git -C "$REPO" archive HEAD | tar -x -C "$SRC"
	PG_SRC="head = $(git -C "$REPO" rev-parse --short HEAD)"
	;;
*) SRC=$PG_SRC ;;
esac
BUILD_FLAGS=()
if [[ -n "${PG_CPUPROFILE:-}" ]]; then
	PG_CPUPROFILE=$(cd "$(dirname "$PG_CPUPROFILE")" && pwd)/$(basename "$PG_CPUPROFILE")
	mkdir -p "$TMP/overlay"
	grep -q 'os.Exit(mainRun())' "$SRC/cmd/promptgrid/main.go" ||
		{ echo "PG_CPUPROFILE: cmd/promptgrid/main.go no longer calls os.Exit(mainRun())" >&2; exit 1; }
	sed 's/os.Exit(mainRun())/os.Exit(benchProfiled(mainRun))/' "$SRC/cmd/promptgrid/main.go" >"$TMP/overlay/main.go"
	cat >"$TMP/overlay/benchprof.go" <<'EOF'
package main

import (
	"os"
	"runtime/pprof"
)

// benchProfiled runs f under a CPU profile written to $BENCH_CPUPROFILE, if set.
func benchProfiled(f func() int) int {
	path := os.Getenv("BENCH_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		panic(err)
	}
	code := f()
	pprof.StopCPUProfile()
	out.Close()
	return code
}
EOF
	printf '{"Replace":{"%s":"%s","%s":"%s"}}\n' \
		"$SRC/cmd/promptgrid/main.go" "$TMP/overlay/main.go" \
		"$SRC/cmd/promptgrid/benchprof.go" "$TMP/overlay/benchprof.go" >"$TMP/overlay/overlay.json"
	BUILD_FLAGS=(-overlay "$TMP/overlay/overlay.json")
fi
log "building promptgrid from $SRC ($PG_SRC)${BUILD_FLAGS:+ with the CPU-profile overlay}"
(cd "$SRC" && go build "${BUILD_FLAGS[@]}" -o "$TMP/bin/promptgrid" ./cmd/promptgrid)
log "installing vegeta $VEGETA_VERSION"
(cd "$TMP" && GOBIN=$TMP/bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION")
PG=$TMP/bin/promptgrid
VEGETA=$TMP/bin/vegeta

# --- 2. simulator in its own process ----------------------------------------
"$PG" sim --addr 127.0.0.1:0 --time-scale 0 --api-key "$KEY" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
URL=""
for _ in $(seq 1 100); do
	URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/v1' "$TMP/sim.log" | head -n 1 || true)
	[[ -n "$URL" ]] && break
	kill -0 "$SIM_PID" 2>/dev/null || { cat "$TMP/sim.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n "$URL" ]] || { echo "simulator did not start" >&2; cat "$TMP/sim.log" >&2; exit 1; }
STATS=${URL%/v1}/stats
log "simulator (pid $SIM_PID) at $URL"

# posts counts the native POSTs the simulator has answered so far.
posts() { curl -fsS "$STATS" | grep -o '"POST /v1":[0-9]*' | cut -d: -f2 || echo 0; }
# sim_cpu prints the simulator's user+sys CPU so far in clock ticks.
CLK_TCK=$(getconf CLK_TCK)
sim_cpu() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$SIM_PID/stat"; }
# cpu_s TICKS prints ticks as seconds.
cpu_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}'; }

# --- 3. what both send ----------------------------------------------------------
# The body promptgrid sends for one trial of the suite below (captured from a
# run; seed fixed). The simulator refuses (400) a taskUUID already in flight, and
# promptgrid sends a fresh one per request, so vegeta gets N_TARGETS copies of
# the body that differ only in their taskUUID (same length), used round-robin.
N_TARGETS=${N_TARGETS:-10000}
mkdir -p "$TMP/bodies"
awk -v n="$N_TARGETS" -v dir="$TMP/bodies" -v url="$URL" -v key="$KEY" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = sprintf("%s/%d.json", dir, i)
		printf "[{\"taskType\":\"textInference\",\"taskUUID\":\"ee9e31a4-aa9d-4ec3-b76b-%012x\",\"model\":\"moonshotai:kimi@k2.6\",\"messages\":[{\"role\":\"user\",\"content\":\"question 0\"}],\"settings\":{\"temperature\":0.2,\"maxTokens\":64},\"deliveryMethod\":\"sync\",\"includeCost\":true,\"includeUsage\":true,\"numberResults\":1,\"seed\":707632555}]", i > f
		close(f)
		printf "POST %s\nAuthorization: Bearer %s\nContent-Type: application/json\nAccept: application/json\nUser-Agent: promptgrid-runware/1\n@%s\n\n", url, key, f
	}
}' >"$TMP/targets.txt"
code=$(curl -s -o "$TMP/probe.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' --data-binary "@$TMP/bodies/0.json" "$URL")
[[ "$code" == 200 ]] || { echo "probe request: HTTP $code: $(cat "$TMP/probe.json")" >&2; exit 1; }

SUITE=$TMP/suite/throughput.yaml
mkdir -p "$(dirname "$SUITE")"
{
	cat <<'EOF'
name: throughput
model: moonshotai:kimi@k2.6
request:
  deliveryMethod: sync
  includeCost: true
  includeUsage: true
  settings: {maxTokens: 64}
grid:
  settings.temperature: [0.2, 1.0]
cases:
EOF
	awk -v n="$CASES" 'BEGIN { for (i = 0; i < n; i++)
		printf "  - {id: c%d, prompt: \"question %d\", checks: [{contains: Simulated}, {regex: \"answer\"}]}\n", i, i }'
} >"$SUITE"
TRIALS=$((CASES * 2))

# --- 4. vegeta ------------------------------------------------------------------
# run_vegeta R sets V_TOTAL, V_RATE, V_THR (successful requests/s), V_CPU (its
# user+sys CPU) and V_SIMCPU (the simulator's CPU meanwhile).
run_vegeta() {
	local r=$1 vt=()
	log "round $r: vegeta attack -rate=0 -workers=$CONCURRENCY -max-workers=$CONCURRENCY -duration=$VEGETA_DURATION"
	[[ -x /usr/bin/time ]] && vt=(/usr/bin/time -o "$TMP/vtime.$r.txt" -f '%e %U %S %M')
	local sc0 sc1
	sc0=$(sim_cpu)
	"${vt[@]}" "$VEGETA" attack -targets="$TMP/targets.txt" -rate=0 -workers="$CONCURRENCY" \
		-max-workers="$CONCURRENCY" -duration="$VEGETA_DURATION" -keepalive=true \
		>"$TMP/vegeta.$r.bin"
	sc1=$(sim_cpu)
	"$VEGETA" report -type=text <"$TMP/vegeta.$r.bin" >"$TMP/vegeta.$r.txt"
	sed 's/^/   vegeta | /' "$TMP/vegeta.$r.txt" >&2
	V_SIMCPU=$(cpu_s $((sc1 - sc0)))
	V_CPU=$(timecpu "$TMP/vtime.$r.txt")
	echo "   vegeta | attack: $(timefmt "$TMP/vtime.$r.txt"); simulator CPU meanwhile $V_SIMCPU s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	# "Requests      [total, rate, throughput]  N, R, T"
	read -r V_TOTAL V_RATE V_THR < <(awk -F'  +' '/^Requests/ {split($NF, a, /, */); print a[1], a[2], a[3]}' "$TMP/vegeta.$r.txt")
	local ok
	ok=$(awk '/^Success/ {print $NF}' "$TMP/vegeta.$r.txt")
	[[ "$ok" == "100.00%" ]] || echo "warning: vegeta success ratio $ok" >&2
}

# --- 5. promptgrid --------------------------------------------------------------
# run_promptgrid R sets P_REQ (requests the simulator counted), P_WALL (s),
# P_CPU and P_SIMCPU.
run_promptgrid() {
	local r=$1 tv=() args=(run --endpoint "$URL" --concurrency "$CONCURRENCY" --out "$TMP/run.$r")
	[[ "$PG_QUIET" == 1 ]] && args+=(--quiet)
	log "round $r: promptgrid ${args[*]} $SUITE   ($CASES cases x 2 temperatures = $TRIALS trials)"
	[[ -x /usr/bin/time ]] && tv=(/usr/bin/time -o "$TMP/time.$r.txt" -f '%e %U %S %M')
	local before after sc0 sc1 t0 t1 rc prof=""
	[[ -n "${PG_CPUPROFILE:-}" ]] && prof=$PG_CPUPROFILE && ((ROUNDS > 1)) && prof=$PG_CPUPROFILE.$r
	before=$(posts)
	sc0=$(sim_cpu)
	t0=$(now_ns)
	set +e
	RUNWARE_API_KEY=$KEY BENCH_CPUPROFILE=$prof "${tv[@]}" "$PG" "${args[@]}" "$SUITE" >"$TMP/pg.$r.out" 2>"$TMP/pg.$r.err"
	rc=$?
	set -e
	t1=$(now_ns)
	after=$(posts)
	sc1=$(sim_cpu)
	tail -n 2 "$TMP/pg.$r.err" | sed 's/^/   promptgrid | /' >&2
	if [[ $rc != 0 ]]; then
		echo "promptgrid run exited $rc" >&2
		cat "$TMP/pg.$r.out" "$TMP/pg.$r.err" >&2
		exit 1
	fi
	P_SIMCPU=$(cpu_s $((sc1 - sc0)))
	P_CPU=$(timecpu "$TMP/time.$r.txt")
	P_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
	echo "   promptgrid | command: $(timefmt "$TMP/time.$r.txt"); simulator CPU meanwhile $P_SIMCPU s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	P_REQ=$((after - before))
	local lines
	lines=$(wc -l <"$TMP/run.$r/journal.jsonl")
	[[ "$P_REQ" == "$TRIALS" ]] || echo "warning: the simulator counted $P_REQ requests, expected $TRIALS" >&2
	[[ "$lines" -ge "$TRIALS" ]] || echo "warning: $lines journal lines for $TRIALS trials" >&2
	if grep -q '"error"' "$TMP/run.$r/journal.jsonl"; then echo "warning: the journal holds errored samples" >&2; fi
}

# --- 6. rounds and results ------------------------------------------------------
# Each round runs vegeta, then promptgrid. On a shared machine other load moves
# both rates a lot between phases; ROUNDS > 1 interleaves and adds the median.
# CPU/request (client, simulator) is much less sensitive to that load; the "CPU
# ratio" is the rate ratio to expect when both client and simulator are CPU-bound
# on the same cores: (vegeta + simulator CPU per request) / (promptgrid + simulator).
: >"$TMP/rounds.tsv"
for r in $(seq 1 "$ROUNDS"); do
	run_vegeta "$r"
	run_promptgrid "$r"
	awk -v r="$r" -v vt="$V_TOTAL" -v vr="$V_RATE" -v vthr="$V_THR" -v preq="$P_REQ" -v wall="$P_WALL" -v c="$CONCURRENCY" \
		-v vcpu="$V_CPU" -v vsim="$V_SIMCPU" -v pcpu="$P_CPU" -v psim="$P_SIMCPU" -v tsv="$TMP/rounds.tsv" 'BEGIN {
		prate = preq / wall
		printf "round %d\n", r
		printf "  vegeta      %8.0f requests/s  (%d requests, attack rate %.0f/s, concurrency %d)\n", vthr, vt, vr, c
		printf "  promptgrid  %8.0f requests/s  (%d requests in %.2f s, whole command, concurrency %d)\n", prate, preq, wall, c
		printf "  ratio       %8.1f %%  promptgrid / vegeta (target >= 75 %%)\n", 100 * prate / vthr
		cr = 0
		if (vcpu > 0 && pcpu > 0) {
			vc = 1e6 * vcpu / vt; pc = 1e6 * pcpu / preq; vs = 1e6 * vsim / vt; ps = 1e6 * psim / preq
			cr = 100 * (vc + vs) / (pc + ps)
			printf "  CPU/request client: vegeta %.0f us, promptgrid %.0f us; simulator: %.0f us, %.0f us; CPU ratio %.1f %%\n", vc, pc, vs, ps, cr
		}
		printf "%d\t%.0f\t%.0f\t%.1f\t%.1f\n", r, vthr, prate, 100 * prate / vthr, cr >> tsv
	}'
done
if ((ROUNDS > 1)); then
	sort -t$'\t' -k4,4n "$TMP/rounds.tsv" | awk -F'\t' '{v[NR] = $2; p[NR] = $3; q[NR] = $4; c[NR] = $5}
	END {
		m = int((NR + 1) / 2)
		printf "median round by ratio: vegeta %.0f/s, promptgrid %.0f/s, ratio %.1f %% (min %.1f %%, max %.1f %%)\n", v[m], p[m], q[m], q[1], q[NR]
	}'
	sort -t$'\t' -k5,5n "$TMP/rounds.tsv" | awk -F'\t' '{c[NR] = $5} END {m = int((NR + 1) / 2); printf "median CPU ratio: %.1f %%\n", c[m]}'
fi
