#!/bin/sh
# Builds the table fuzzers and the basic-auth Secret fuzzer (clang,
# libFuzzer + ASan + UBSan), writes fresh seed corpora and runs each
# target for SECONDS seconds.  Used by the fuzz_smoke test; run it by
# hand with a larger SECONDS for a real campaign.
# Usage: run-fuzz.sh CMAKE BUILD_DIR FUZZ_BUILD_DIR [SECONDS]
set -eu
cmake=$1
build=$2
out=$3
seconds=${4:-15}

"$cmake" --build "$build" --target tbl_fuzzers
mkdir -p "$out/corpus/view" "$out/corpus/build" "$out/corpus/auth_secret" \
    "$out/artifacts"
"$out/fuzz_tbl_seeds" "$out/corpus/view" "$out/corpus/build"
# basic-auth Secrets: the first byte picks auth-file, base64 data, auth-map
printf '\000a:$2y$05$weea0/X0p.bzpYknQmpccu/8x5UZ1Ty6rdVffJiS63F.PjnZXwPzy\nb:$apr1$YtDevV5p$y7JGcurT2otfh87VWoL79.\n# c\nc:{SHA}jQIz7KTkLkuQp1UmKTFuMDB3O30=:x\r\nd:abzlUXK5ed5rs\n' \
    >"$out/corpus/auth_secret/file"
printf '\001u:{SHA}jQIz7KTkLkuQp1UmKTFuMDB3O30=\n' >"$out/corpus/auth_secret/data"
printf '\002c={SHA}jQIz7KTkLkuQp1UmKTFuMDB3O30=\nd=$6$salt$abc\n' \
    >"$out/corpus/auth_secret/map"
for target in tbl_view tbl_build auth_secret; do
    echo "== fuzz_$target for ${seconds}s"
    "$out/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" "$out/corpus/${target#tbl_}"
done
