"""benchmarks/grading_scale.py: its settings, table and plot, and a small real run (slow).

No time is asserted here: timed figures live in the benchmark.
"""
import pytest

from benchmarks import grading_scale as scale


def test_settings_default_to_the_full_curve_and_refuse_unknown_executors(monkeypatch):
    monkeypatch.delenv("COURSE_BENCH_SCALE_SIZES", raising=False)
    monkeypatch.delenv("COURSE_BENCH_SCALE_EXECUTORS", raising=False)
    monkeypatch.delenv("COURSE_BENCH_SCALE_REPEATS", raising=False)
    assert scale.settings() == {"sizes": (10, 40, 160), "executors": ("local", "dask"), "repeats": 2, "full": True}
    monkeypatch.setenv("COURSE_BENCH_SCALE_REPEATS", "1")
    assert not scale.settings()["full"]
    monkeypatch.delenv("COURSE_BENCH_SCALE_REPEATS")
    monkeypatch.setenv("COURSE_BENCH_SCALE_SIZES", "3, 5")
    assert scale.settings()["sizes"] == (3, 5) and not scale.settings()["full"]
    monkeypatch.setenv("COURSE_BENCH_SCALE_EXECUTORS", "slurm")
    with pytest.raises(ValueError, match="slurm"):
        scale.settings()


def test_table_and_plot_show_every_run(tmp_path):
    curves = {"local 1w": {"10": 14.0, "40": 56.0}, "dask 2w": {"10": 9.0, "40": 30.0}}
    lines = scale.table(curves)
    assert "10 subs" in lines[0] and "40 subs" in lines[0]
    assert "56.0 s (1.40)" in lines[1] and lines[2].lstrip().startswith("dask 2w") and "(0.75)" in lines[2]
    scale.plot(curves, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_a_small_local_run_grades_every_submission_alike(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_BENCH_SCALE_SIZES", "2,3")
    monkeypatch.setenv("COURSE_BENCH_SCALE_EXECUTORS", "local")
    monkeypatch.setenv("COURSE_BENCH_SCALE_REPEATS", "1")
    figures = scale.run()["grading_scale_smoke"]
    assert set(figures["grade_scale_seconds"]) == {"local 1w", "local 2w"}
    assert all(set(c) == {"2", "3"} and all(v > 0 for v in c.values()) for c in figures["grade_scale_seconds"].values())
    assert figures["grade_scale_score_mismatches"] == 0
    assert "smoke run" in capsys.readouterr().out
