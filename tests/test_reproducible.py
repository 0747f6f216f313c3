"""Reproducible builds: with SOURCE_DATE_EPOCH set (reproducible-builds.org), the same program compiled twice, and
the same model fine-tuned twice on the same data with the same seed, give byte-identical files."""

from __future__ import annotations

import datetime
import itertools
import json

import onnx
import pytest
from click.testing import CliRunner

from nsc.cli import main

PROGRAM = "#pragma nsc range x -2 2\n#pragma nsc range y 0 3\ndouble f(double x, double y) { return x * y + y; }\n"


def nsc(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def moving_clock(monkeypatch):
    """A clock that moves on an hour at every reading: two builds never share a time stamp by luck."""
    hours = itertools.count()

    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2030, 1, 1, tzinfo=tz) + datetime.timedelta(hours=next(hours))

    monkeypatch.setattr(datetime, "datetime", Clock)


def history(path) -> list[dict]:
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return json.loads(props["nsc.history"])


def test_two_compiles_with_source_date_epoch_are_byte_identical(tmp_path, monkeypatch, moving_clock):
    src = tmp_path / "f.c"
    src.write_text(PROGRAM)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    outs = []
    for name in ("a.onnx", "b.onnx"):
        assert nsc("compile", src, "-o", tmp_path / name).exit_code == 0
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    assert history(tmp_path / "a.onnx")[0]["time"] == "2023-11-14T22:13:20+00:00"


def test_finetune_with_source_date_epoch_is_byte_identical(tmp_path, monkeypatch, moving_clock):
    src, data = tmp_path / "f.c", tmp_path / "d.csv"
    src.write_text(PROGRAM)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert nsc("compile", src, "--init", "random", "-o", tmp_path / "m.onnx").exit_code == 0
    assert nsc("sample", src, "-n", "64", "-o", data).exit_code == 0
    for name in ("a.onnx", "b.onnx"):
        r = nsc("finetune", tmp_path / "m.onnx", data, "-o", tmp_path / name, "--epochs", "3")
        assert r.exit_code == 0, r.output
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert [e["time"] for e in history(tmp_path / "a.onnx")] == ["2023-11-14T22:13:20+00:00"] * 2


def test_without_source_date_epoch_the_time_is_now(tmp_path, monkeypatch, moving_clock):
    src = tmp_path / "f.c"
    src.write_text(PROGRAM)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert nsc("compile", src, "-o", tmp_path / "a.onnx").exit_code == 0
    assert history(tmp_path / "a.onnx")[0]["time"].startswith("2030-01-01T")


def test_a_malformed_source_date_epoch_is_an_error_and_writes_nothing(tmp_path, monkeypatch):
    src = tmp_path / "f.c"
    src.write_text(PROGRAM)
    for value in ("yesterday", "-5", "1.5", "99999999999999999999"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
        r = nsc("compile", src, "-o", tmp_path / "a.onnx")
        assert r.exit_code == 1 and f"error: SOURCE_DATE_EPOCH='{value}' is not a number of seconds" in r.output
        assert "Traceback" not in r.output and not (tmp_path / "a.onnx").exists()
