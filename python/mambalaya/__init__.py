"""mambalaya: a compiler for cascades of extended Einsums, from Python.

    import mambalaya
    c = mambalaya.load("examples/mamba1.ein", I=128)
    c.check()                      # the IR as a dict
    p = c.plan(policy="full")      # the mapper's plan (shows as a report in Jupyter)
    out = c.run({"LX": x, ...})    # a compiled kernel, loaded in this process
    ref = c.eval({"LX": x, ...})   # the reference evaluator

Tensors go in and out as numpy arrays in C order: float32 arrays that are
C-contiguous are passed without a copy; other floating arrays are converted
to float32.  Every error of the input (the source, a shape, a dtype, an
option) raises mambalaya.Error, whose text is the compiler's diagnostics
(`file:line:col: error: ...`).

The library is libmambalaya.so (compiler/api/mambalaya.h); nothing else
beyond numpy is needed.
"""
import ctypes
import json
import os

import numpy as np

from . import _capi

__all__ = ["Error", "InternalError", "Cascade", "Plan", "load", "load_source", "version"]


class Error(Exception):
    """An error in what was given: the source, a tensor, an option.

    str(e) and e.diagnostics hold the compiler's message; e.status is the
    command line's exit status for it (1)."""

    def __init__(self, diagnostics, status=_capi.EUSER):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.status = status


class InternalError(Error):
    """A bug in mambalaya (or memory exhausted), not in the input."""


def version():
    """The library's version, "major.minor"."""
    return _capi.version().decode()


def _raise(status, errp):
    msg = _capi.take_string(errp.value) or "unknown error"
    cls = InternalError if status == _capi.EINTERNAL else Error
    raise cls(msg.rstrip("\n"), status)


def _defines(params):
    words = []
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise Error("parameter %s=%r: parameters are integers" % (k, v))
        words.append(("%s=%d" % (k, int(v))).encode())
    arr = (ctypes.c_char_p * max(1, len(words)))(*words)
    return arr, len(words)


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mambalaya", "kernels")


def load(path, **params):
    """Loads and checks the cascade in the file at path; params override
    its parameters (load("mamba1.ein", B=2, I=64)).  Raises Error with the
    diagnostics when the source is wrong."""
    arr, n = _defines(params)
    err = ctypes.c_void_p()
    h = _capi.load(os.fsencode(path), arr, n, ctypes.byref(err))
    if not h:
        _raise(_capi.EUSER, err)
    return Cascade(h, os.fspath(path))


def load_source(text, name="<string>", **params):
    """Loads and checks a cascade given as text (name: what diagnostics
    call it)."""
    arr, n = _defines(params)
    err = ctypes.c_void_p()
    h = _capi.load_source(name.encode(), text.encode(), arr, n, ctypes.byref(err))
    if not h:
        _raise(_capi.EUSER, err)
    return Cascade(h, name)


class Plan(dict):
    """The mapper's plan: the same data as `mambalaya plan --json` (a dict).
    In Jupyter it shows itself as the HTML report."""

    def __init__(self, data, cascade, arch, policy, buffer):
        super().__init__(data)
        self._cascade = cascade
        self._args = (arch, policy, buffer)

    def report(self, sweep=2, inputs=None):
        """The HTML report of this plan (mambalaya report): one
        self-contained page.  inputs: also simulate on them."""
        arch, policy, buffer = self._args
        return self._cascade.report(arch=arch, policy=policy, buffer=buffer, sweep=sweep,
                                    inputs=inputs)

    def _repr_html_(self):
        return self.report()


class Cascade:
    """A checked cascade (from load or load_source)."""

    def __init__(self, handle, name):
        self._h = ctypes.c_void_p(handle)
        self.name = name
        self._ir = None
        self._specs = None
        self._kernels = {}

    def close(self):
        """Frees the cascade and its kernels (also done when it is
        collected)."""
        for k in self._kernels.values():
            _capi.kernel_close(k)
        self._kernels = {}
        if self._h:
            _capi.cascade_free(self._h)
            self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise Error("the cascade was closed")
        return self._h

    def _json(self, fn, *args):
        err = ctypes.c_void_p()
        p = fn(self._handle(), *args, ctypes.byref(err))
        if not p:
            _raise(_capi.EINTERNAL if err.value is None else _capi.EUSER, err)
        return json.loads(_capi.take_string(p))

    # ---- analysis and mapping ----

    def check(self):
        """The checked IR as a dict (`mambalaya check --dump-ir=json`)."""
        if self._ir is None:
            self._ir = self._json(_capi.ir_json)
        return self._ir

    def deps(self):
        """The dataflow dependences (`mambalaya deps --json`)."""
        return self._json(_capi.deps_json)

    def groups(self):
        """The legal fusion groups (`mambalaya groups --json`)."""
        return self._json(_capi.groups_json)

    def plan(self, arch="mambalaya", policy="full", buffer=None):
        """The mapper's plan (`mambalaya plan --json`) as a Plan (a dict).
        arch: a built-in target or a JSON file; policy: unfused, ssm-ri,
        full or recompute (a plan of the cascade rewritten for recompute
        fusion: its "recompute" key says how; such a plan is for the
        command line's compile and run, not for this module's kernels);
        buffer: the global buffer in bytes, overriding the target's."""
        data = self._json(_capi.plan_json, _opt(arch), _opt(policy), _buffer(buffer))
        return Plan(data, self, arch, policy, buffer)

    def report(self, arch="mambalaya", policy="full", buffer=None, sweep=3, inputs=None):
        """The HTML report (`mambalaya report`) as a string.  sweep: the
        buffer halved and doubled up to sweep times (0: none); inputs: a
        dict of inputs and weights to simulate the plan on."""
        tin, nin, _keep = (None, 0, None)
        if inputs is not None:
            tin, nin, _keep = self._inputs(inputs)
        err = ctypes.c_void_p()
        p = _capi.report_html(self._handle(), _opt(arch), _opt(policy), _buffer(buffer),
                              int(sweep), tin, nin, ctypes.byref(err))
        if not p:
            _raise(_capi.EUSER, err)
        return _capi.take_string(p)

    # ---- tensors ----

    def _tensors(self, role):
        """(name, role, shape, name as bytes) of the tensors in role, read
        once from a private copy of the IR (a caller may change the dict
        check() returns; every run would otherwise walk it again)."""
        if self._specs is None:
            ir = self._json(_capi.ir_json)
            self._specs = [(t["name"], t["role"], _shape(t), t["name"].encode())
                           for t in ir["tensors"]]
        return [t for t in self._specs if t[1] in role]

    def _inputs(self, inputs):
        """The ctypes array of inputs and weights, and the arrays to keep
        alive while it is used."""
        if not isinstance(inputs, dict):
            raise Error("inputs: a dict of tensor name to numpy array, not %s"
                        % type(inputs).__name__)
        want = self._tensors(("input", "weight"))
        names = {t[0] for t in want}
        for k in inputs:
            if k not in names:
                raise Error("%s: error: '%s' is not an input or a weight of the cascade "
                            "(they are: %s)" % (self.name, k, ", ".join(t[0] for t in want)))
        keep = []
        arr = (_capi.Tensor * max(1, len(want)))()
        for i, (name, role, shape, bname) in enumerate(want):
            if name not in inputs:
                raise Error("%s: error: %s '%s' is not given" % (self.name, role, name))
            a = _as_float32(self.name, name, inputs[name], shape)
            keep.append(a)
            arr[i] = _capi.Tensor(bname, a.ctypes.data, a.size)
        return arr, len(want), keep

    def _outputs(self):
        specs = self._tensors(("output",))
        outs = {t[0]: np.empty(t[2], dtype=np.float32) for t in specs}
        arr = (_capi.Tensor * max(1, len(outs)))()
        for i, t in enumerate(specs):
            a = outs[t[0]]
            arr[i] = _capi.Tensor(t[3], a.ctypes.data, a.size)
        return outs, arr, len(outs)

    # ---- running ----

    def eval(self, inputs):
        """The reference evaluator (in double, like `mambalaya eval`): a dict
        of every input and weight to a dict of the outputs (float32)."""
        tin, nin, _keep = self._inputs(inputs)
        outs, tout, nout = self._outputs()
        err = ctypes.c_void_p()
        st = _capi.eval_(self._handle(), tin, nin, tout, nout, ctypes.byref(err))
        if st:
            _raise(st, err)
        return outs

    def kernel_dir(self, arch="host", policy=None, cflags=None, cache_dir=None):
        """The cache directory of the kernel run() uses (its C files and
        libkernel.so), building it if needed."""
        k = self._kernel(arch, policy, cflags, cache_dir)
        return _capi.kernel_dir(k).decode()

    def _kernel(self, arch, policy, cflags, cache_dir):
        key = (arch, policy, cflags, cache_dir)
        k = self._kernels.get(key)
        if k is None:
            d = cache_dir or _cache_dir()
            err = ctypes.c_void_p()
            k = _capi.kernel_open(self._handle(), _opt(arch), _opt(policy), _opt(cflags),
                                  os.fsencode(d), ctypes.byref(err))
            if not k:
                _raise(_capi.EUSER, err)
            k = ctypes.c_void_p(k)
            self._kernels[key] = k
        return k

    def run(self, inputs, arch="host", policy=None, cflags=None, cache_dir=None):
        """Compiled C kernels, loaded in this process: a dict of every input
        and weight to a dict of the outputs: the mapper's plan for arch
        ("host": this CPU, as `mambalaya calibrate` measured it) and
        policy (None: full).  The kernel is built once per cascade, parameters, plan and
        flags, and kept in cache_dir (default: ~/.cache/mambalaya/kernels,
        or $XDG_CACHE_HOME/mambalaya/kernels)."""
        k = self._kernel(arch, policy, cflags, cache_dir)
        tin, nin, _keep = self._inputs(inputs)
        outs, tout, nout = self._outputs()
        err = ctypes.c_void_p()
        st = _capi.kernel_run(k, tin, nin, tout, nout, ctypes.byref(err))
        if st:
            _raise(st, err)
        return outs

    def simulate(self, inputs, arch="mambalaya", policy="full"):
        """The plan's accelerator stream run by the simulator on inputs:
        (outputs, statistics), the statistics as `mambalaya sim --json`
        prints them."""
        tin, nin, _keep = self._inputs(inputs)
        outs, tout, nout = self._outputs()
        stats = ctypes.c_void_p()
        err = ctypes.c_void_p()
        st = _capi.simulate(self._handle(), _opt(arch), _opt(policy), tin, nin, tout, nout,
                            ctypes.byref(stats), ctypes.byref(err))
        if st:
            _raise(st, err)
        return outs, json.loads(_capi.take_string(stats.value))

    def __repr__(self):
        return "<mambalaya.Cascade %s>" % self.name


def _opt(s):
    return None if s is None else str(s).encode()


def _buffer(b):
    if b is None:
        return 0
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b <= 0:
        raise Error("buffer: a positive number of bytes, not %r" % (b,))
    return int(b)


def _shape(t):
    return tuple(int(d) for d in t["shape"])


def _as_float32(where, name, a, shape):
    if not isinstance(a, np.ndarray):
        try:
            a = np.asarray(a)
        except Exception as e:
            raise Error("%s: error: '%s': not an array (%s)" % (where, name, e))
    if a.dtype.kind != "f":
        raise Error("%s: error: '%s' has dtype %s; the cascade's tensors are float32 "
                    "(floating arrays are converted)" % (where, name, a.dtype))
    if tuple(a.shape) != shape:
        raise Error("%s: error: '%s' has shape %s; the cascade declares %s"
                    % (where, name, tuple(a.shape), shape))
    return np.ascontiguousarray(a, dtype=np.float32)
