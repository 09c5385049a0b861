"""The Python package against the command line, the evaluator and PyTorch.

Run by ctest (python.pytest) with MAMBALAYA_BIN (the command line), and
MAMBALAYA_SRC (the repository); kernels are cached in a fresh directory.
"""
import gc
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import mambalaya

SRC = os.environ.get("MAMBALAYA_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MAMBALAYA_BIN", os.path.join(SRC, "build", "mambalaya"))
EX = os.path.join(SRC, "examples")


def cli_json(*args):
    out = subprocess.run([BIN, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def inputs_for(c, seed=0):
    """Inputs in the ranges the declarations draw from (mamba1's A < 0)."""
    rng = np.random.default_rng(seed)
    ins = {}
    for t in c.check()["tensors"]:
        if t["role"] in ("input", "weight"):
            lo, hi = -1.0, 1.0
            if "random" in t:
                lo, hi = t["random"]["uniform"]
            ins[t["name"]] = rng.uniform(lo, hi, size=t["shape"]).astype(np.float32)
    return ins


def rel_err(x, ref):
    scale = float(np.abs(ref).max())
    return float(np.abs(x - ref).max()) / (scale if scale > 0 else 1.0)


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "kernels")


# ---- loading and checking ----

def test_load_check_ir():
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    ir = c.check()
    assert ir == cli_json("check", os.path.join(EX, "mlp.ein"), "--dump-ir=json")
    assert [t["name"] for t in ir["tensors"] if t["role"] == "output"] == ["Y"]


def test_load_params():
    c = mambalaya.load(os.path.join(EX, "mlp.ein"), M=4, D=8)
    y = [t for t in c.check()["tensors"] if t["name"] == "Y"][0]
    assert y["shape"] == [4, 8]
    assert c.check() == cli_json("check", os.path.join(EX, "mlp.ein"), "-DM=4", "-DD=8",
                                 "--dump-ir=json")


def test_load_source():
    text = open(os.path.join(EX, "mlp.ein")).read()
    c = mambalaya.load_source(text, name="mlp.ein", M=2)
    assert [t["shape"] for t in c.check()["tensors"] if t["name"] == "X"] == [[2, 32]]


def test_source_error_has_diagnostics():
    with pytest.raises(mambalaya.Error) as e:
        mambalaya.load_source("input X[4]\noutput Y[4]\nY_{i} = X_{i} * Z\n", name="bad.ein")
    msg = str(e.value)
    assert msg.startswith("bad.ein:3:17: error: unknown name 'Z'")
    assert "    3 | Y_{i} = X_{i} * Z" in msg and "^" in msg
    assert e.value.status == 1 and not isinstance(e.value, mambalaya.InternalError)


def test_missing_file_and_bad_params():
    with pytest.raises(mambalaya.Error, match="no_such.ein"):
        mambalaya.load("no_such.ein")
    with pytest.raises(mambalaya.Error, match="unknown parameter|no parameter|not a parameter"):
        mambalaya.load(os.path.join(EX, "mlp.ein"), NOPE=3)
    with pytest.raises(mambalaya.Error, match="integers"):
        mambalaya.load(os.path.join(EX, "mlp.ein"), M=2.5)


# ---- analysis and mapping: the command line's JSON ----

@pytest.mark.parametrize("ex", ["mlp", "attention", "mamba1"])
def test_deps_groups_as_cli(ex):
    f = os.path.join(EX, ex + ".ein")
    c = mambalaya.load(f)
    assert c.deps() == cli_json("deps", f, "--json")
    assert c.groups() == cli_json("groups", f, "--json")


def strip_timing(p):
    p = json.loads(json.dumps(p))
    p["search"].pop("seconds", None)
    return p


@pytest.mark.parametrize("policy", ["unfused", "ssm-ri", "full"])
def test_plan_as_cli(policy):
    f = os.path.join(EX, "mamba1.ein")
    c = mambalaya.load(f, I=16)
    p = c.plan(policy=policy)
    assert isinstance(p, dict) and isinstance(p, mambalaya.Plan)
    want = cli_json("plan", f, "-DI=16", "--policy", policy, "--json")
    assert strip_timing(p) == strip_timing(want)
    small = c.plan(policy=policy, buffer=1 << 16)
    assert small["target"]["buffer_bytes"] == 1 << 16


def test_recompute_plan_and_kernels(cache):
    # A plan of the rewritten cascade, as the command line prints it; the
    # module's kernels are for the cascade as written, and say so.
    f = os.path.join(SRC, "tests", "codegen", "recompute_skip.ein")
    arch = os.path.join(SRC, "tests", "stream", "small_buffer.json")
    c = mambalaya.load(f)
    p = c.plan(arch=arch, policy="recompute")
    assert p["recompute"][0]["tensor"] == "U" and p["recompute"][0]["copy"] == "U_r"
    want = cli_json("plan", f, "--arch", arch, "--policy", "recompute", "--json")
    assert strip_timing(p) == strip_timing(want)
    with pytest.raises(mambalaya.Error, match="not for kernels"):
        c.run(inputs_for(c, 1), arch=arch, policy="recompute", cache_dir=cache)


def test_plan_errors():
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    with pytest.raises(mambalaya.Error, match="unknown policy 'fast'"):
        c.plan(policy="fast")
    with pytest.raises(mambalaya.Error, match="nosuch"):
        c.plan(arch="nosuch")
    with pytest.raises(mambalaya.Error, match="positive number of bytes"):
        c.plan(buffer=-1)


def test_report_and_repr_html():
    c = mambalaya.load(os.path.join(EX, "attention.ein"))
    p = c.plan()
    html = p._repr_html_()
    assert html.startswith("<!DOCTYPE html>") and 'id="graph"' in html
    assert 'id="sweep-latency"' in html and 'id="timeline"' not in html
    sim = c.report(sweep=0, inputs=inputs_for(c))
    assert 'id="timeline"' in sim and 'id="sweep-latency"' not in sim


# ---- running: evaluator, kernels, simulator ----

def test_eval_as_cli(tmp_path):
    f = os.path.join(EX, "mlp.ein")
    c = mambalaya.load(f)
    ins = inputs_for(c, 1)
    d = tmp_path / "in"
    d.mkdir()
    for k, v in ins.items():
        np.save(d / (k + ".npy"), v)
    subprocess.run([BIN, "eval", f, "--in", str(d), "--out", str(tmp_path / "out")], check=True,
                   capture_output=True)
    ref = np.load(tmp_path / "out" / "Y.npy")
    assert np.array_equal(c.eval(ins)["Y"], ref)


@pytest.mark.parametrize("ex,params", [("mlp", {}), ("attention", {}),
                                       ("mamba1", {"I": 8, "ED": 64, "D": 32, "R": 4})])
def test_run_and_simulate_match_eval(ex, params, cache):
    c = mambalaya.load(os.path.join(EX, ex + ".ein"), **params)
    ins = inputs_for(c, 2)
    ref = c.eval(ins)
    out = c.run(ins, cache_dir=cache)
    sim, stats = c.simulate(ins)
    for k in ref:
        assert out[k].dtype == np.float32 and out[k].shape == ref[k].shape
        assert rel_err(out[k], ref[k]) < 1e-4, k
        assert rel_err(sim[k], ref[k]) < 1e-4, k
    assert stats["cycles"] > 0 and "units" in stats


def test_run_other_target_policy(cache):
    c = mambalaya.load(os.path.join(EX, "attention.ein"))
    ins = inputs_for(c, 3)
    ref = c.eval(ins)["AV"]
    for policy in ("unfused", "full"):
        out = c.run(ins, arch="mambalaya", policy=policy, cache_dir=cache)["AV"]
        assert rel_err(out, ref) < 1e-4


def test_kernel_cache(cache):
    f = os.path.join(EX, "mlp.ein")
    c1 = mambalaya.load(f)
    ins = inputs_for(c1, 4)
    y1 = c1.run(ins, cache_dir=cache)["Y"]
    d1 = c1.kernel_dir(cache_dir=cache)
    assert os.path.dirname(d1) == cache and os.path.exists(os.path.join(d1, "libkernel.so"))
    # Another cascade object with the same source and parameters: the
    # same entry; other parameters: another.
    c2 = mambalaya.load(f)
    assert c2.kernel_dir(cache_dir=cache) == d1
    assert mambalaya.load(f, M=8).kernel_dir(cache_dir=cache) != d1
    # A corrupted entry is rebuilt, not loaded.
    with open(os.path.join(d1, "libkernel.so"), "r+b") as so:
        so.seek(100)
        so.write(b"\0garbage\0")
    c3 = mambalaya.load(f)
    assert np.array_equal(c3.run(ins, cache_dir=cache)["Y"], y1)
    assert [e for e in os.listdir(cache) if e.startswith(".")] == []


def test_kernel_cache_concurrent(cache):
    """Two threads building the same kernel at once both succeed."""
    f = os.path.join(EX, "mlp.ein")
    results, errors = [], []

    def build():
        try:
            c = mambalaya.load(f)
            results.append(c.run(inputs_for(c, 5), cache_dir=cache)["Y"])
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=build) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors and np.array_equal(results[0], results[1])
    assert len([e for e in os.listdir(cache) if not e.startswith(".")]) == 1


def test_kernel_cache_concurrent_processes(cache):
    """Two processes building the same kernel at once both succeed and
    leave one entry, nothing half-built."""
    code = ("import sys, numpy as np, mambalaya\n"
            "c = mambalaya.load(sys.argv[1])\n"
            "ins = {t['name']: np.ones(t['shape'], np.float32) for t in c.check()['tensors']\n"
            "       if t['role'] in ('input', 'weight')}\n"
            "print(float(c.run(ins, cache_dir=sys.argv[2])['Y'].sum()))\n")
    f = os.path.join(EX, "mlp.ein")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mambalaya.__file__)))
    procs = [subprocess.Popen([sys.executable, "-c", code, f, cache], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    assert len([e for e in os.listdir(cache) if not e.startswith(".")]) == 1
    assert [e for e in os.listdir(cache) if e.startswith(".")] == []


def test_zero_copy_and_conversions(cache):
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    ins = inputs_for(c, 6)
    ref = c.eval(ins)["Y"]
    ins64 = {k: v.astype(np.float64) for k, v in ins.items()}
    assert np.array_equal(c.eval(ins64)["Y"], ref)
    fortran = {k: np.asfortranarray(v) for k, v in ins.items()}
    assert np.array_equal(c.eval(fortran)["Y"], ref)


def test_changing_the_ir_dict_changes_nothing():
    # check() hands out its dict; the shapes run and eval check against are
    # the compiler's own.
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    ins = inputs_for(c, 8)
    ref = c.eval(ins)["Y"]
    for t in c.check()["tensors"]:
        t["shape"] = [1]
        t["role"] = "output"
    assert np.array_equal(c.eval(ins)["Y"], ref)


def test_tensor_errors():
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    ins = inputs_for(c, 7)
    bad = dict(ins, X=np.zeros((3, 3), np.float32))
    with pytest.raises(mambalaya.Error, match=r"'X' has shape \(3, 3\); the cascade declares \(16, 32\)"):
        c.eval(bad)
    with pytest.raises(mambalaya.Error, match="'X' has dtype int32"):
        c.eval(dict(ins, X=np.zeros((16, 32), np.int32)))
    with pytest.raises(mambalaya.Error, match="input 'X' is not given"):
        c.eval({k: v for k, v in ins.items() if k != "X"})
    with pytest.raises(mambalaya.Error, match="'Q' is not an input or a weight"):
        c.run(dict(ins, Q=ins["X"]))
    with pytest.raises(mambalaya.Error, match="a dict"):
        c.eval([1, 2])


def test_closed_cascade():
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    c.close()
    with pytest.raises(mambalaya.Error, match="closed"):
        c.plan()


# ---- PyTorch: the same mathematics, independently ----

def test_against_pytorch(cache):
    import torch  # python3-torch: scripts/deps.sh installs it for the tests
    c = mambalaya.load(os.path.join(EX, "mlp.ein"))
    ins = inputs_for(c, 8)
    t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in ins.items()}
    h = torch.nn.functional.gelu(t["X"] @ t["W1"] + t["B1"], approximate="tanh")
    want = (h @ t["W2"] + t["B2"]).numpy()
    assert rel_err(c.run(ins, cache_dir=cache)["Y"], want) < 1e-5
    assert rel_err(c.eval(ins)["Y"], want) < 1e-6
    a = mambalaya.load(os.path.join(EX, "attention.ein"))
    ins = inputs_for(a, 9)
    t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in ins.items()}
    want = (torch.softmax(t["Q"] @ t["K"], dim=-1) @ t["V"].T).numpy()
    assert rel_err(a.run(ins, cache_dir=cache)["AV"], want) < 1e-5


# ---- embedding: threads and leaks ----

def test_threads_plan_as_sequential():
    f = os.path.join(EX, "mamba1.ein")
    seq = [strip_timing(mambalaya.load(f, I=i).plan()) for i in (8, 16)]
    got = [None, None]

    def work(k, i):
        got[k] = strip_timing(mambalaya.load(f, I=i).plan())

    ts = [threading.Thread(target=work, args=(k, i)) for k, i in enumerate((8, 16))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert got == seq


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_leaks_over_1000_calls(cache):
    text = open(os.path.join(EX, "mlp.ein")).read()
    c0 = mambalaya.load_source(text, M=4, D=8)
    ins = inputs_for(c0, 10)
    c0.run(ins, cache_dir=cache)

    def once():
        c = mambalaya.load_source(text, M=4, D=8)
        c.plan()
        c.eval(ins)
        c.run(ins, cache_dir=cache)
        try:
            mambalaya.load_source("output Y[2]\nY_{i} = Z_{i}\n")
        except mambalaya.Error:
            pass
        c.close()

    for _ in range(100):
        once()
    gc.collect()
    before = rss_kib()
    for _ in range(1000):
        once()
    gc.collect()
    grew = rss_kib() - before
    assert grew < 4096, "RSS grew by %d KiB over 1000 calls" % grew
