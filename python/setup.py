"""Installs the mambalaya package with its library, offline:

    pip install ./python        (from the repository's root)

The package is pure Python over libmambalaya.so (ctypes).  The library is
the one `make python` put beside the package, or else it is built here with
CMake from the repository this directory belongs to.  Only Debian's
packages are needed (scripts/deps.sh); nothing is downloaded.
"""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB = "libmambalaya.so"


def library():
    """The path of a built libmambalaya.so, building it if needed."""
    beside = os.path.join(HERE, "mambalaya", LIB)
    if os.path.exists(beside):
        return beside
    build = os.path.join(ROOT, "build")
    if not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")):
        raise SystemExit("mambalaya: %s is missing and there is no repository at %s to build "
                         "it from (run `make python` first)" % (LIB, ROOT))
    subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release"])
    subprocess.check_call(["cmake", "--build", build, "--target", "mambalaya_shared"])
    return os.path.join(build, "lib", LIB)


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        dest = os.path.join(self.build_lib, "mambalaya")
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(library(), os.path.join(dest, LIB))


class WithLibrary(Distribution):
    """A wheel for this platform: the package carries a shared library."""

    def has_ext_modules(self):
        return True


setup(
    name="mambalaya",
    version="1.0",
    description="A compiler for cascades of extended Einsums (Mamba and friends): "
                "fusion analysis, mapping onto a fusion accelerator, C kernels",
    packages=["mambalaya"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildWithLibrary},
    distclass=WithLibrary,
    zip_safe=False,
)
