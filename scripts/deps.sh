#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need, only
# those that are missing, so that a second run costs nothing.
set -eu
PKGS="build-essential cmake pkg-config flex bison libisl-dev libcjson-dev \
libcmocka-dev libopenblas-dev graphviz valgrind clang libclang-rt-14-dev \
chromium python3-dev python3-numpy python3-pytest python3-venv python3-pip python3-setuptools \
python3-torch"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
