#!/bin/sh
# `pip install ./python` offline: into a fresh virtual environment that sees
# Debian's numpy, with nothing from the network (--no-index); the installed
# package then plans and runs a cascade from another directory.
#
# usage: run_pip.sh PYTHON SRCDIR LIBMAMBALAYA WORKDIR
set -eu
PY=$1
SRC=$2
LIB=$3
W=$4
rm -rf "$W"
mkdir -p "$W"
# A copy, so that pip's build files stay out of the source tree; the
# library is the one this build made (what `make python` puts there).
cp -r "$SRC/python" "$W/python"
rm -rf "$W/python/build" "$W/python"/*.egg-info
cp "$LIB" "$W/python/mambalaya/libmambalaya.so"
"$PY" -m venv --system-site-packages "$W/venv"
"$W/venv/bin/pip" install --no-index --quiet "$W/python" 2> "$W/pip.err" || {
    cat "$W/pip.err" >&2
    echo "FAIL: pip install" >&2
    exit 1
}
cd "$W"
rm -rf "$W/python"   # the installed copy must stand alone
"$W/venv/bin/python" - "$SRC" <<'PY'
import os, sys
import numpy as np
import mambalaya
src = sys.argv[1]
assert "site-packages" in mambalaya.__file__, mambalaya.__file__
c = mambalaya.load(os.path.join(src, "examples", "mlp.ein"), M=4)
assert c.plan()["total"]["cycles"] > 0
ins = {t["name"]: np.ones(t["shape"], np.float32) for t in c.check()["tensors"]
       if t["role"] in ("input", "weight")}
y = c.run(ins, cache_dir=os.path.join(os.getcwd(), "kernels"))["Y"]
assert np.allclose(y, c.eval(ins)["Y"], rtol=1e-5)
print("ok: pip install, plan and run from", mambalaya.__file__)
PY
