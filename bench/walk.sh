#!/bin/sh
# walk.sh - from the model's ratios to the paper's, one unpublished value
# at a time, cumulatively: each step keeps the changes before it.  The
# steps are the values that docs/target.md marks as assumptions (the paper
# does not publish them), each changed to its most plausible alternative;
# none is chosen to land on the paper's figure (4.9x prefill and 1.9x
# decode over MARCA, up to 1.5x over the fusion accelerator).  Every step
# is one target file; one `mambalaya sweep` plans them all.
#   base        the mambalaya target as built in (docs/target.md)
#   fp32        4-byte values: the cascade declares fp32; FuseMax used 16 bit
#   buf64       a 64 MiB global buffer instead of FuseMax's 16 MiB
#   free-switch the array changes modes without draining (0 cycles, not 256)
#   lanes16k    a quarter of the PEs as 1D lanes (16384): each lane a group
#               of 4 PEs, as when operands are shared along a row
# Usage: bench/walk.sh [BUILD_DIR]
set -eu
. bench/targets.sh
targets_begin "${1:-build}"
# Cumulative: each step starts from the one before.
variant fp32 base
variant buf64 fp32
variant free-switch buf64
variant lanes16k free-switch
. bench/ratios.sh
ratios "$BIN" "$TMP" step base fp32 buf64 free-switch lanes16k
echo "paper (arXiv 2604.03829): full/unfused 4.9x prefill, 1.9x decode; full/ssm-ri up to 1.5x"
