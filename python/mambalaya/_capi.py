"""The C API of libmambalaya.so (compiler/api/mambalaya.h) through ctypes.

Finding the library, in order: $MAMBALAYA_LIB; libmambalaya.so beside this
file (what `make python` and `pip install ./python` put there); the
repository's build/lib/ (running from a checkout with PYTHONPATH=python).
"""
import ctypes
import os

EUSER = 1
EINTERNAL = 3


class Tensor(ctypes.Structure):
    """mambalaya_tensor: a name and float32 data in C order."""
    _fields_ = [("name", ctypes.c_char_p),
                ("data", ctypes.c_void_p),
                ("nelems", ctypes.c_int64)]


def _candidates():
    env = os.environ.get("MAMBALAYA_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libmambalaya.so")
    yield os.path.join(here, "..", "..", "build", "lib", "libmambalaya.so")


def _load():
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            return ctypes.CDLL(os.path.abspath(path))
        tried.append(os.path.abspath(path))
    raise ImportError("libmambalaya.so not found (run `make python` in the repository, "
                      "or set MAMBALAYA_LIB); looked at: " + ", ".join(tried))


lib = _load()

_p = ctypes.c_void_p
_s = ctypes.c_char_p
_err = ctypes.POINTER(ctypes.c_void_p)
_tensors = ctypes.POINTER(Tensor)
_strs = ctypes.POINTER(ctypes.c_char_p)


def _sig(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


load = _sig("mambalaya_load", _p, _s, _strs, ctypes.c_int, _err)
load_source = _sig("mambalaya_load_source", _p, _s, _s, _strs, ctypes.c_int, _err)
cascade_free = _sig("mambalaya_cascade_free", None, _p)
free = _sig("mambalaya_free", None, _p)
ir_json = _sig("mambalaya_ir_json", _p, _p, _err)
deps_json = _sig("mambalaya_deps_json", _p, _p, _err)
groups_json = _sig("mambalaya_groups_json", _p, _p, _err)
plan_json = _sig("mambalaya_plan_json", _p, _p, _s, _s, ctypes.c_int64, _err)
report_html = _sig("mambalaya_report_html", _p, _p, _s, _s, ctypes.c_int64, ctypes.c_int,
                   _tensors, ctypes.c_int, _err)
eval_ = _sig("mambalaya_eval", ctypes.c_int, _p, _tensors, ctypes.c_int, _tensors,
             ctypes.c_int, _err)
kernel_open = _sig("mambalaya_kernel_open", _p, _p, _s, _s, _s, _s, _err)
kernel_run = _sig("mambalaya_kernel_run", ctypes.c_int, _p, _tensors, ctypes.c_int, _tensors,
                  ctypes.c_int, _err)
kernel_dir = _sig("mambalaya_kernel_dir", _s, _p)
kernel_close = _sig("mambalaya_kernel_close", None, _p)
simulate = _sig("mambalaya_simulate", ctypes.c_int, _p, _s, _s, _tensors, ctypes.c_int,
                _tensors, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), _err)
version = _sig("mambalaya_version", _s)


def take_string(ptr):
    """The text of a char * the library gave, freed."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        free(ptr)
