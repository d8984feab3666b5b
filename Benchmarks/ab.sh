#!/usr/bin/env bash
# Interleaved A/B of two lifeboat binaries on one corpus: for each round, each binary in
# turn runs an initial backup (corpus warm), a no-change backup, a restore and
# `check --read-data` (page cache dropped before each, as root), timed by /usr/bin/time.
# Prints one line per binary and round: wall s, user s, sys s and peak RSS KiB of the
# initial backup, then wall s and peak RSS KiB of the others, and the repository's size.
#
#   Benchmarks/ab.sh OLD_BINARY NEW_BINARY CORPUS [ROUNDS]   (default 3 rounds)
#
# A corpus: python3 ../shared/bench/make-corpus.py /tmp/bench/corpus --size-mb 1024 --seed 1
set -euo pipefail
old=$1 new=$2 corpus=$3 rounds=${4:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "ab password" >"$work/pw"
export LIFEBOAT_PASSWORD_FILE=$work/pw
timed() { /usr/bin/time -o "$work/t" -f "$1" "${@:2}" >/dev/null 2>&1; cat "$work/t"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
for round in $(seq 1 "$rounds"); do
    for side in old new; do
        binary=${!side}
        export LIFEBOAT_REPOSITORY=$work/repo-$side
        rm -rf "$work/repo-$side" "$work/restore-$side"
        "$binary" init >/dev/null 2>&1
        find "$corpus" -type f -exec cat {} + >/dev/null
        a=$(timed "%e %U %S %M" "$binary" backup "$corpus")
        b=$(timed "%e %M" "$binary" backup "$corpus")
        drop
        r=$(timed "%e %M" "$binary" restore latest --target "$work/restore-$side")
        drop
        c=$(timed "%e %M" "$binary" check --read-data)
        echo "round $round $side: backup[wall user sys KiB]=$a no-change=$b restore=$r check=$c repo=$(du -sm "$work/repo-$side" | cut -f1) MiB"
        rm -rf "$work/restore-$side"
    done
done
