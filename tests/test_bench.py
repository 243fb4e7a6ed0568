"""The benchmark suite (``python -m bench``) and ``python -m numtorch.warmup`` work end to end.

Only structure and exit codes are checked: no timing assertions anywhere.
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _run(*args, timeout=300, env=None):
    env = dict(os.environ, **(env or {}), PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _table(stdout):
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[:3] == ["row", "size", "numtorch"])
    body = []
    for ln in lines[start + 2:]:
        if not ln.strip() or ln.startswith("times:"):
            break
        body.append(ln)
    return lines[start], body


def test_quick_table():
    args = ["bench", "--quick", "--ops", "add,sum,topk"] + ([] if HAVE_TORCH else ["--no-torch"])
    p = _run(*args)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    header, body = _table(p.stdout)
    for col in ("NumPy", "PyTorch", "nt/pt", "nt/np", "%BW", "check"):
        assert col in header
    assert [ln.split()[0] for ln in body] == ["add", "sum", "topk"]
    for ln in body:
        assert "error:" not in ln and "MISMATCH" not in ln, ln
        assert " us " in ln or " ms " in ln
    assert "bandwidth (STREAM" in p.stdout
    assert "cache_info()" in p.stdout
    assert "[  1/3] add" in p.stderr           # progress goes to stderr


def test_quick_json_without_torch(tmp_path):
    out = tmp_path / "r.json"
    svg = tmp_path / "r.svg"
    p = _run("bench", "--quick", "--ops", "add_2x2,autograd_tiny", "--no-torch", "--no-bandwidth",
             "--json", str(out), "--plot", str(svg))
    assert p.returncode == 0, p.stderr[-3000:]
    data = json.loads(out.read_text())
    assert [r["row"] for r in data["results"]] == ["add_2x2", "autograd_tiny"]
    for r in data["results"]:
        assert r["libs"]["torch"]["status"] == "skipped"
        assert r["libs"]["numtorch"]["status"] == "ok"
        assert r["libs"]["numtorch"]["median_s"] > 0
        assert r["check"] == "ok"
    assert svg.read_text().startswith("<svg")


def test_cuda_without_device_exits_cleanly():
    p = _run("bench", "--device", "cuda", "--ops", "add", "--quick", "--no-torch",
             timeout=120)
    assert p.returncode == 0
    if "no CUDA device" not in p.stdout:
        pytest.skip("this machine has a CUDA device for numtorch")


GPU_ROWS = ["add", "sum", "argmax", "topk", "sort", "mlp_step"]
# The training-stack rows also run under --device cuda; the simulator smoke test keeps to the six core rows.
NN_GPU_ROWS = ["gelu_fb", "softmax_rows", "cross_entropy_fb", "mlp_fb_nn", "layer_norm_fb", "embedding_fb",
               "sdpa_causal_fb"]


def test_cuda_quick_table_under_simulator():
    try:
        from numba import cuda  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"numba.cuda is unusable here: {exc}")
    p = _run("bench", "--device", "cuda", "--quick", "--no-torch", "--ops", ",".join(GPU_ROWS), timeout=240,
             env={"NUMBA_ENABLE_CUDASIM": "1", "NUMTORCH_CUDASIM": "1"})
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    assert "device cuda: numtorch on Numba CUDA simulator" in p.stdout
    assert "NumPy column: the host (CPU) reference" in p.stdout
    assert "device bandwidth (Numba CUDA simulator, device-to-device copy" in p.stdout
    assert "bandwidth (STREAM" not in p.stdout
    header, body = _table(p.stdout)
    for col in ("NumPy", "PyTorch", "nt/pt", "nt/np", "%BW", "check"):
        assert col in header
    assert [ln.split()[0] for ln in body] == GPU_ROWS
    shapes = {ln.split()[0]: ln.split()[1] for ln in body}
    assert shapes["add"] == shapes["sum"] == "256" and shapes["sort"] == shapes["topk"] == "16x16"
    for ln in body:
        assert "error:" not in ln and "n/a" not in ln and "MISMATCH" not in ln, ln
        assert ln.split()[-1] == "ok", ln
        assert " s (" in ln or " ms (" in ln or " us (" in ln
    assert "numtorch's .cpu() result vs NumPy" in p.stdout
    assert "[  6/6] mlp_step" in p.stderr


def test_cuda_rows_sizes_and_targets():
    from bench.rows import STREAM_SIZES, grid, select, sizes_for
    rows = {r.name: r for r in select(None, "cuda")}    # registers the rows in their usual order
    from bench.rowgrad import BATCH, D_IN, TINY
    from bench.targets import evaluate_cuda, format_targets
    assert list(rows) == GPU_ROWS + NN_GPU_ROWS
    assert [r.name for r in select("autograd", "cuda")] == ["mlp_step"]     # autograd_tiny is host-only
    assert sizes_for(rows["add"], None, False, "cuda") == (2**26,)
    assert sizes_for(rows["add"], None, False) == STREAM_SIZES
    assert grid(sizes_for(rows["sort"], None, False, "cuda")[0]) == (4096, 4096)
    assert sizes_for(rows["topk"], None, True, "cuda") == (256,) and grid(256) == (16, 16)
    assert sizes_for(rows["mlp_step"], None, True, "cuda") == (TINY[0] * TINY[1],)
    assert sizes_for(rows["mlp_step"], None, False, "cuda") == (BATCH * D_IN,)
    assert sizes_for(rows["add"], (1000,), False, "cuda") == (1000,)

    def res(row, family, nt, pt, nbytes=None):
        return {"row": row, "family": family, "shape": "s", "elements": 2**26, "bytes": nbytes,
                "libs": {"numtorch": {"status": "ok", "median_s": nt}, "torch": {"status": "ok", "median_s": pt}}}
    results = [res("add", "binary", 1e-3, 1e-3, 3 * 2**28), res("sum", "reduce", 2e-3, 1e-3, 2**28),
               res("topk", "sort", 1e-3, 1e-3)]
    t = evaluate_cuda(results, 1000.0, 100 * 2**20)
    assert [x["met"] for x in t] == [True, False, True]        # add 805 GB/s of 1000; sum 2.0x > 1.5x
    assert t[1]["misses"] == ["sum s 2.00x"]
    assert "[MISSED] reductions within 1.5x of PyTorch CUDA" in format_targets(t)
    assert [x["met"] for x in evaluate_cuda([], None, 0)] == [None, None, None]


def test_bad_arguments_fail_with_usage():
    p = _run("bench", "--ops", "nosuchrow", timeout=60)
    assert p.returncode == 2 and "unknown row or family" in p.stderr


# -- in-process units (no kernels compiled) ----------------------------------------------------------

def test_sizes_and_selection():
    from bench.rows import grid, parse_size, parse_sizes, select
    assert parse_sizes("1e3,1e5,2**24, 2^10,4k") == (1000, 100000, 2**24, 1024, 4000)
    with pytest.raises(ValueError):
        parse_size("1.5")
    assert [r.name for r in select("sum,sort")] == ["sum", "sort"]
    assert {r.name for r in select("broadcast")} == {"add_row", "add_col", "add_T"}
    with pytest.raises(ValueError):
        select("sum,bogus")
    r, c = grid(2**24)
    assert r * c == 2**24 and c == 4096


def test_missing_op_is_reported_not_raised():
    import types
    from bench.harness import Missing, Outcome, classify, require
    fake = types.SimpleNamespace(Tensor=type("T", (), {"exp": None}), cat=None)
    require(fake, "cat", "Tensor.exp")
    with pytest.raises(Missing) as ei:
        require(fake, "Tensor.gather")
    st, detail = classify(ei.value)
    assert Outcome(status=st, detail=detail).label() == "n/a (missing: Tensor.gather)"
    assert classify(AttributeError("'Tensor' object has no attribute 'topk'")) == ("missing", "topk")
    assert classify(ValueError("bad\nmore"))[0] == "error"


def test_missing_numtorch_op_row(monkeypatch):
    from bench import runner
    from bench.rows import select
    row = select("gather")[0]
    monkeypatch.setattr(row, "needs", ("definitely_not_an_op",))
    mods = {"numtorch": __import__("types").SimpleNamespace(Tensor=object), "numpy": np, "torch": None}
    res = runner.run_one(row, 1000, "float32", mods, runner.Device(), {"repeat": 1, "warmup": 1, "target": 1e-4})
    assert res["libs"]["numtorch"]["label"] == "n/a (missing: definitely_not_an_op)"
    assert res["libs"]["numpy"]["status"] == "ok" and res["check"] == "-"
    from bench.report import format_table
    assert "n/a (missing: definitely_not_an_op)" in format_table([res], 10.0)


def test_measure_and_checks():
    from bench.harness import close, measure, to_numpy
    calls = []
    t = measure(lambda: calls.append(1), repeat=3, warmup=1, target=1e-4,
                on_first=lambda out: calls.append("first"))
    assert calls[1] == "first" and t.lo <= t.median <= t.hi and len(t.samples) == 3 and t.number >= 1
    assert close(np.ones(3), np.ones(3) + 1e-7, 1e-4, 0)[0]
    assert not close(np.ones(3), np.array([1, 2, 1.0]), 1e-4, 0)[0]
    assert close((np.ones(2), np.arange(2)), (np.ones(2), np.arange(2)), 0, 0)[0]
    assert to_numpy((1.5, np.zeros(2)))[1].shape == (2,)


def test_svg_plot_needs_no_matplotlib(tmp_path):
    from bench.plot import save
    lib = {"status": "ok", "median_s": 1e-3, "min_s": 1e-3, "max_s": 1e-3}
    res = [{"row": "add", "family": "binary", "elements": n, "bytes": 12 * n, "libs": {
        "numtorch": lib, "numpy": lib, "torch": {"status": "skipped"}}} for n in (10**3, 10**5)]
    res.append({"row": "add_2x2", "family": "latency", "elements": 4, "libs": {
        "numtorch": lib, "numpy": lib, "torch": {"status": "skipped"}}})
    path = save(res, 20.0, str(tmp_path / "p.svg"))
    text = open(path).read()
    assert text.count("<polyline") == 2 and "stroke-dasharray" in text


def test_warmup_lists_tasks():
    p = _run("numtorch.warmup", "--list", "--dtypes", "float32,bool", timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.splitlines()
    assert any(ln.startswith("float32  small") for ln in lines)
    assert any(ln.startswith("bool     large") for ln in lines)
    assert _run("numtorch.warmup", "--dtypes", "float33", timeout=60).returncode == 2
