#!/usr/bin/env bash
# Instructions per event of detsim's five workloads (W1–W5) on its peers,
# madsim 0.2.34 and turmoil 0.7.2, counted by callgrind like detsim's own
# (`examples/callgrind.sh`), so the three can be set side by side. Each
# workload runs once (`peers --once W PEER`); the count of a run that does
# nothing (`--once startup PEER`, in the same binary) is subtracted.
#
#   examples/peers/callgrind.sh                    # W1–W5 × madsim, turmoil
#   examples/peers/callgrind.sh pingpong seeds     # some workloads
#   PEERS=turmoil examples/peers/callgrind.sh      # one peer
#   CALLGRIND_SCALE_DOWN=10 examples/peers/callgrind.sh   # 1/10 of the events
#   examples/peers/callgrind.sh --wall             # wall time instead, no valgrind
#
# Prints one JSON line per (workload, peer):
#   {"peer":"madsim","workload":"pingpong","unit":"message","events":400000,
#    "scale_down":1,"instructions":…,"instr_per_event":…}
#
# Two builds of one crate: madsim's simulator exists only under
# `--cfg madsim`, so the madsim binary is built with RUSTFLAGS="--cfg madsim"
# into its own target dir (`<target>/madsim`), and the turmoil binary without
# it (`<target>`); each binary runs only its own peer. CALLGRIND_SCALE_DOWN=k
# divides each workload's scalable count by k (see `Workload::scaled` in
# src/workloads.rs): the per-event unit stays.
set -euo pipefail
cd "$(dirname "$0")"

wall=0
if [ "${1:-}" = "--wall" ]; then
    wall=1
    shift
fi

if [ "$wall" = 0 ] && ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: installing valgrind" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y valgrind >&2 || { apt-get update >&2 && apt-get install -y valgrind >&2; }
    else
        sudo apt-get install -y valgrind >&2 || { sudo apt-get update >&2 && sudo apt-get install -y valgrind >&2; }
    fi
fi

target="${CARGO_TARGET_DIR:-target}"
peers=(${PEERS:-madsim turmoil})
for peer in "${peers[@]}"; do
    case "$peer" in
        madsim)
            RUSTFLAGS="${RUSTFLAGS:-} --cfg madsim" \
                cargo build --release -q --target-dir "$target/madsim" --bin peers ;;
        turmoil)
            cargo build --release -q --target-dir "$target" --bin peers ;;
        *)
            echo "callgrind.sh: unknown peer $peer (madsim, turmoil)" >&2
            exit 2 ;;
    esac
done
bin_of() {
    case "$1" in
        madsim) echo "$target/madsim/release/peers" ;;
        turmoil) echo "$target/release/peers" ;;
    esac
}

workloads=("$@")
if [ ${#workloads[@]} -eq 0 ]; then
    workloads=(pingpong timers-node broadcast seeds worlds-net)
fi
scale="${CALLGRIND_SCALE_DOWN:-1}"

if [ "$wall" = 1 ]; then
    for workload in "${workloads[@]}"; do
        for peer in "${peers[@]}"; do
            "$(bin_of "$peer")" --wall "$workload" "$peer" "$scale"
        done
    done
    exit 0
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Runs `peers --once $1 $2 [$scale]` under callgrind; prints "<instructions> <json>".
count() {
    local name="$1-$2" json total
    json="$(valgrind --tool=callgrind --callgrind-out-file="$out/$name" \
        "$(bin_of "$2")" --once "$1" "$2" "${3:-1}" 2>"$out/$name.log")" \
        || { cat "$out/$name.log" >&2; exit 1; }
    total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$out/$name" | head -n1)"
    echo "$total $json"
}

for peer in "${peers[@]}"; do
    read -r startup _ < <(count startup "$peer")
    for workload in "${workloads[@]}"; do
        read -r total json < <(count "$workload" "$peer" "$scale")
        events="$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' <<<"$json")"
        unit="$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$json")"
        instructions=$((total - startup))
        per="$(awk -v i="$instructions" -v e="$events" 'BEGIN { printf "%.0f", (e > 0 ? i / e : i) }')"
        printf '{"peer":"%s","workload":"%s","unit":"%s","events":%s,"scale_down":%s,"instructions":%s,"instr_per_event":%s}\n' \
            "$peer" "$workload" "$unit" "$events" "$scale" "$instructions" "$per"
    done
done
