#!/bin/sh
# sensitivity.sh - how the ratios of bench/compare.sh move when one
# assumption of the mambalaya target changes (docs/results.md explains why
# each is worth asking).  Nothing here is used to pick a value: the
# built-in target stays as documented in docs/target.md.
#   base      the mambalaya target as built in
#   fp32      4-byte values (the cascade's declared type) instead of 2
#   1d-256    a separate 256-lane 1D array running beside the 2D array
#             (FuseMax's organisation) instead of the 64K-lane 1D mode
#   no-dbuf   no double buffering
#   glb-half  the global buffer at half its bandwidth both ways: one value
#             per 1D lane per cycle each way
#   glb-8th   ... an eighth of it (a quarter value per lane per cycle)
#   tile-oh   1000 cycles of set-up per tile of a group (DMA descriptors,
#             configuration), where the built-in target assumes none
#   marca-geens  every policy on MARCA's silicon as Geens et al. model it
# Usage: bench/sensitivity.sh [BUILD_DIR]
set -eu
. bench/targets.sh
targets_begin "${1:-build}"
for v in fp32 1d-256 no-dbuf glb-half glb-8th tile-oh; do variant "$v"; done
. bench/ratios.sh
ratios "$BIN" "$TMP" variant base fp32 1d-256 no-dbuf glb-half glb-8th tile-oh marca-geens
