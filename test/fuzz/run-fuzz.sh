#!/bin/sh
# Builds the table fuzzers (clang, libFuzzer + ASan + UBSan), writes
# fresh seed corpora and runs each target for SECONDS seconds.  Used by
# the fuzz_smoke test; run it by hand with a larger SECONDS for a real
# campaign.  Usage: run-fuzz.sh CMAKE BUILD_DIR FUZZ_BUILD_DIR [SECONDS]
set -eu
cmake=$1
build=$2
out=$3
seconds=${4:-15}

"$cmake" --build "$build" --target tbl_fuzzers
mkdir -p "$out/corpus/view" "$out/corpus/build" "$out/artifacts"
"$out/fuzz_tbl_seeds" "$out/corpus/view" "$out/corpus/build"
for target in view build; do
    echo "== fuzz_tbl_$target for ${seconds}s"
    "$out/fuzz_tbl_$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" "$out/corpus/$target"
done
