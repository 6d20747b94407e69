#!/usr/bin/env bash
# Instructions per event of detsim's workloads, counted by callgrind: noise-free,
# so a change can be judged on a busy machine. Each workload runs once
# (`detsim-bench --once`, no baseline, no repeats); the count of a run that does
# nothing (`--once startup`: process start-up, argument parsing) is subtracted.
#
#   examples/callgrind.sh                     # W1–W5
#   examples/callgrind.sh pingpong seeds      # some of them (see `detsim-bench --help`)
#
# Prints one JSON line per workload:
#   {"workload":"pingpong","unit":"message","events":400000,"instructions":…,"instr_per_event":…}
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

read -r startup _ < <(count startup)
for workload in "${workloads[@]}"; do
    read -r total json < <(count "$workload")
    events="$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' <<<"$json")"
    unit="$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$json")"
    instructions=$((total - startup))
    per_event="$(awk -v i="$instructions" -v e="$events" 'BEGIN { printf "%.0f", (e > 0 ? i / e : i) }')"
    printf '{"workload":"%s","unit":"%s","events":%s,"instructions":%s,"instr_per_event":%s}\n' \
        "$workload" "$unit" "$events" "$instructions" "$per_event"
done
