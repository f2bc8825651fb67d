"""benchmarks/peers.py: skips cleanly without PyTorch, and its comparison helper catches a mismatch.

Fast (no training, no torch needed): no time is asserted here, timed figures live in the benchmark.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import peers


def test_skips_without_torch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    torch, reason = peers.import_torch()
    assert torch is None and "PyTorch" in reason and "bench" in reason
    assert peers.run() == {}
    out = capsys.readouterr().out
    assert "skipped" in out and "PyTorch cannot be imported" in out


def test_course_bench_merges_nothing_when_torch_is_missing(monkeypatch, tmp_path, capsys):
    from course import bench

    monkeypatch.setitem(sys.modules, "torch", None)
    results = tmp_path / "results.json"
    results.write_text('{"cnn_test_accuracy": 0.99, "_measured_on": {"peers": {"date": "2026-11-30"}}}\n')
    merged = bench.run(["peers"], results_path=results)
    assert merged["cnn_test_accuracy"] == 0.99 and not any(k.startswith("peers_") for k in merged)
    assert merged["_measured_on"] == {"peers": {"date": "2026-11-30"}}  # a skipped run dates nothing
    assert "skipped" in capsys.readouterr().out


def test_a_smoke_run_never_redates_the_real_figures(monkeypatch, tmp_path):
    from course import bench

    monkeypatch.setattr(peers, "run", lambda: {"peers_smoke": {"peers_conv_ratio": 9.0}})
    results = tmp_path / "results.json"
    results.write_text('{"peers_conv_ratio": 1.5, "_measured_on": {"peers": {"date": "2026-11-30"}}}\n')
    merged = bench.run(["peers"], results_path=results)
    assert merged["peers_conv_ratio"] == 1.5 and merged["peers_smoke"] == {"peers_conv_ratio": 9.0}
    assert merged["_measured_on"]["peers"] == {"date": "2026-11-30"} and "peers_smoke" in merged["_measured_on"]


def test_a_dated_run_names_the_cpu_it_ran_on(monkeypatch, tmp_path):
    """Figures of the same code differ between CPUs of the same size (Intel and AMD machines here): the
    date stamp names the CPU model, from /proc/cpuinfo."""
    import os
    import platform

    from course import bench

    monkeypatch.setattr(peers, "run", lambda: {"peers_conv_ratio": 1.2})
    results = tmp_path / "results.json"
    stamp = bench.run(["peers"], results_path=results)["_measured_on"]["peers"]["machine"]
    assert stamp.endswith(f", {os.cpu_count()} cores, Python {platform.python_version()}")
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                     if line.startswith("model name"))
        assert stamp.startswith(f"{platform.machine()} {model},")


def test_compare_accepts_float32_noise_and_detects_a_mismatch():
    rng = np.random.default_rng(0)
    ours = {"Z": rng.standard_normal((4, 5)).astype(np.float32), "db": np.float32([1.5, -2.0])}
    theirs = {k: v * (1 + 1e-6) for k, v in ours.items()}
    assert peers.compare("layer", ours, theirs) < 1e-5
    wrong = dict(theirs, Z=theirs["Z"].copy())
    wrong["Z"][2, 3] += 0.1
    with pytest.raises(AssertionError, match="layer: Z differs"):
        peers.compare("layer", ours, wrong)
    with pytest.raises(AssertionError, match="shape"):
        peers.compare("layer", ours, dict(theirs, Z=theirs["Z"].T))
    with pytest.raises(AssertionError, match="different things"):
        peers.compare("layer", ours, {"Z": theirs["Z"]})


def test_smoke_settings_never_pass_for_the_full_run(monkeypatch):
    for name in ("EPOCHS", "TRAIN_SIZE", "THREADS", "REPEATS", "PARTS"):
        monkeypatch.delenv(peers.ENV + name, raising=False)
    assert peers.settings()["full"]
    monkeypatch.setenv(peers.ENV + "EPOCHS", "1")
    s = peers.settings()
    assert not s["full"] and s["cnn_epochs"] == s["mlp_epochs"] == 1
