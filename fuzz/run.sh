#!/usr/bin/env bash
# Builds the fuzz targets and runs each for SECONDS (default 20: a smoke run).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: every target)
#
# Needs only the stable toolchain and a C++ compiler (libfuzzer-sys compiles libFuzzer):
# the targets are built with plain cargo and the coverage instrumentation flags that
# cargo-fuzz passes (stable rustc accepts them), without a sanitizer (the library is safe
# Rust), with debug assertions and overflow checks on.
#
# Each run first replays fuzz/regressions/TARGET/* (every input a fuzzer ever crashed
# on), then fuzzes from the corpus kept in fuzz/corpus/TARGET (grown across runs), the
# seeds written from testdata/ by make_seeds, and the regressions. Crashes, hangs
# (-timeout, default 10 s per input) and memory blow-ups (-rss_limit_mb, default 2048)
# are written to fuzz/artifacts/TARGET/. Logs go to fuzz/logs/TARGET.log. The exit
# status is non-zero if any target failed. Extra libFuzzer flags: FUZZ_FLAGS="...".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

secs="${1:-20}"
shift || true
all=(read_metadata check xml_read restore emulate_script emulate_open nbd repair delta)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
for t in "${targets[@]}"; do
    case " ${all[*]} " in *" $t "*) ;; *) echo "unknown target '$t' (targets: ${all[*]})" >&2; exit 2 ;; esac
done

host="$(rustc -vV | sed -n 's/^host: //p')"
# The flags cargo-fuzz passes for libFuzzer (sanitizer "none"); --target keeps them off
# build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
start=$(date +%s)
cargo build --release --locked --target "$host" --bins
bin="${CARGO_TARGET_DIR:-$here/target}/$host/release"
echo "fuzz: built in $(( $(date +%s) - start )) s"

rm -rf seeds
"$bin/make_seeds" seeds
mkdir -p logs
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
    flags=(-timeout=10 -rss_limit_mb=2048 "-artifact_prefix=artifacts/$t/" -print_final_stats=1)
    # shellcheck disable=SC2206
    extra=(${FUZZ_FLAGS:-})
    regressions=(regressions/"$t"/*)
    if [ -e "${regressions[0]}" ]; then
        if ! "$bin/$t" "${flags[@]}" "${regressions[@]}" >"logs/$t.replay.log" 2>&1; then
            echo "fuzz: $t: a regression input fails again (logs/$t.replay.log)"
            tail -n 40 "logs/$t.replay.log"
            failed+=("$t")
            continue
        fi
    fi
    echo "fuzz: $t for $secs s"
    if "$bin/$t" "${flags[@]}" -max_total_time="$secs" "${extra[@]}" \
        "corpus/$t" "seeds/$t" "regressions/$t" >"logs/$t.log" 2>&1; then
        grep -E '^#[0-9]+ *DONE' "logs/$t.log" | tail -n 1 || true
        grep -E 'stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "logs/$t.log" || true
    else
        echo "fuzz: $t FAILED (logs/$t.log, inputs in artifacts/$t/):"
        tail -n 60 "logs/$t.log"
        failed+=("$t")
    fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
