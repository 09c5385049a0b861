# targets.sh - sourced by walk.sh, sensitivity.sh and levels.sh: the
# variants of the mambalaya target they plan on, each one set of
# bench/retarget.py edits, defined once.
#
# targets_begin BUILD: sets BIN and TMP (removed on exit) and writes the
# built-in target to TMP/base.json.
# variant NAME [FROM]: writes TMP/NAME.json, TMP/FROM.json (default base)
# with NAME's edits:
#   fp32        4-byte values through a datapath as wide in values: the
#               on-chip levels' bandwidths (in bytes) double with them, as
#               the model without memory levels took for granted; only what
#               DRAM moves changes
#   buf64       a 64 MiB global buffer
#   free-switch mode switches without draining (0 cycles)
#   lanes16k    16384 1D lanes
#   1d-256      a separate 256-lane 1D array beside the 2D array
#   no-dbuf     no double buffering
#   glb-half    the global buffer at half its bandwidth, both ways
#   glb-8th     ... at an eighth
#   tile-oh     1000 cycles of set-up per tile of a group
# retarget.py fails when an edit changes nothing, so a variant cannot
# silently equal its base.
targets_begin() {
    BIN="$1/mambalaya"
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT INT TERM
    "$BIN" plan --dump-arch mambalaya > "$TMP/base.json"
}

variant() {
    _name=$1 _from=${2:-base}
    case $_name in
        fp32) set -- bytes_per_value=4 'memory_levels[1].read_gb_per_s*=2' \
                  'memory_levels[1].write_gb_per_s*=2' 'memory_levels[2].read_gb_per_s*=2' \
                  'memory_levels[2].write_gb_per_s*=2' ;;
        buf64) set -- buffer_bytes=67108864 'memory_levels[1].bytes=67108864' ;;
        free-switch) set -- switch_cycles=0 ;;
        lanes16k) set -- array1d.lanes=16384 ;;
        1d-256) set -- array1d.lanes=256 concurrent=true ;;
        no-dbuf) set -- double_buffer=false ;;
        glb-half) set -- 'memory_levels[1].read_gb_per_s*=0.5' 'memory_levels[1].write_gb_per_s*=0.5' ;;
        glb-8th) set -- 'memory_levels[1].read_gb_per_s*=0.125' \
                     'memory_levels[1].write_gb_per_s*=0.125' ;;
        tile-oh) set -- 'memory_levels[1].tile_overhead_cycles=1000' ;;
        *) echo "targets.sh: unknown variant $_name" >&2; exit 2 ;;
    esac
    python3 bench/retarget.py "$TMP/$_from.json" "$TMP/$_name.json" "$@"
}
