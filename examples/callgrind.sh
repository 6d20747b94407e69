#!/usr/bin/env bash
# Instructions per event of detsim's workloads, counted by callgrind: noise-free,
# so a change can be judged on a busy machine. Each workload runs once
# (`detsim-bench --once`, no baseline, no repeats); the count of a run that does
# nothing (`--once startup`: process start-up, argument parsing) is subtracted.
#
#   examples/callgrind.sh                     # W1–W5
#   examples/callgrind.sh pingpong seeds      # some of them (see `detsim-bench --help`)
#
# Prints one JSON line per workload, with the bare event loop doing the same
# events (`--once bare-W`, counted the same way) and detsim's ratio to it:
#   {"workload":"pingpong","unit":"message","events":400000,"instructions":…,
#    "instr_per_event":…,"bare_instr_per_event":…,"ratio_to_bare":…}
# CALLGRIND_BARE=0 skips the bare loops.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: installing valgrind" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y valgrind >&2 || { apt-get update >&2 && apt-get install -y valgrind >&2; }
    else
        sudo apt-get install -y valgrind >&2 || { sudo apt-get update >&2 && sudo apt-get install -y valgrind >&2; }
    fi
fi

cargo build --release -q -p examples --bin detsim-bench
bin="${CARGO_TARGET_DIR:-target}/release/detsim-bench"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Runs `detsim-bench --once $1` under callgrind; prints "<instructions> <json>".
count() {
    local json
    json="$(valgrind --tool=callgrind --callgrind-out-file="$out/$1" "$bin" --once "$1" 2>"$out/$1.log")" \
        || { cat "$out/$1.log" >&2; exit 1; }
    local total
    total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$out/$1" | head -n1)"
    echo "$total $json"
}

workloads=("$@")
if [ ${#workloads[@]} -eq 0 ]; then
    workloads=(pingpong timers-node broadcast seeds worlds-net)
fi

# Instructions per event of `detsim-bench --once $1`, start-up subtracted;
# prints "<events> <unit> <instructions> <per event>".
per_event() {
    local total json events unit instructions
    read -r total json < <(count "$1")
    events="$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' <<<"$json")"
    unit="$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$json")"
    instructions=$((total - startup))
    echo "$events $unit $instructions $(awk -v i="$instructions" -v e="$events" 'BEGIN { printf "%.0f", (e > 0 ? i / e : i) }')"
}

read -r startup _ < <(count startup)
for workload in "${workloads[@]}"; do
    read -r events unit instructions per < <(per_event "$workload")
    bare=""
    if [ "${CALLGRIND_BARE:-1}" != 0 ] && "$bin" --once "bare-$workload" >/dev/null 2>&1; then
        read -r _ _ _ bare_per < <(per_event "bare-$workload")
        ratio="$(awk -v d="$per" -v b="$bare_per" 'BEGIN { printf "%.2f", (b > 0 ? d / b : 0) }')"
        bare=",\"bare_instr_per_event\":$bare_per,\"ratio_to_bare\":$ratio"
    fi
    printf '{"workload":"%s","unit":"%s","events":%s,"instructions":%s,"instr_per_event":%s%s}\n' \
        "$workload" "$unit" "$events" "$instructions" "$per" "$bare"
done
