"""Fast mode: interval reduction, the exact parquet format the ML side reads, determinism, the CLI."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from factorytwin.cli import app
from factorytwin.domain import MachineKind, all_sensor_keys, sensor_specs
from factorytwin.layout import load_layout
from factorytwin.sim.dataset import IntervalReducer, events_path, generate_dataset
from factorytwin.sim.state import Columns, Frame


def _frame(t: np.ndarray, values: np.ndarray) -> Frame:
    cols = Columns(
        machine=np.zeros(values.shape[1], dtype=np.intp), key=np.arange(values.shape[1]), keys=["a"], machines=1
    )
    status = (np.arange(len(t)) % 3).astype(np.int8)[:, None]
    return Frame(t=t, values=values, status=status, events=[], columns=cols)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=400),
    every=st.sampled_from([1, 7, 60]),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=6),
    how=st.sampled_from(["mean", "last"]),
)
def test_interval_reduction_does_not_depend_on_frame_boundaries(n: int, every: int, cuts: list[int], how: str) -> None:
    t = np.arange(1, n + 1, dtype=np.float64)
    values = np.random.default_rng(n).normal(size=(n, 2))
    reducer = IntervalReducer(float(every), "mean" if how == "mean" else "last")
    got_t, got_v = [], []
    edges = sorted({0, n, *(c for c in cuts if c < n)})
    for a, b in itertools.pairwise(edges):
        frame = _frame(t[a:b], values[a:b])
        te, v, _ = reducer.push(frame)
        got_t.append(te)
        got_v.append(v)
    te, v, _ = reducer.flush()
    if len(te):
        got_t.append(te)
        got_v.append(v)
    bucket = (t - 1) // every
    expect_t = (np.unique(bucket) + 1) * every
    agg = np.mean if how == "mean" else (lambda x, axis: x[-1])
    expect_v = np.array([agg(values[bucket == b], axis=0) for b in np.unique(bucket)])
    np.testing.assert_allclose(np.concatenate(got_t), expect_t)
    np.testing.assert_allclose(np.concatenate(got_v), expect_v)


def test_readings_file_has_the_agreed_format(tmp_path: Path) -> None:
    out = tmp_path / "run.parquet"
    summary = generate_dataset(load_layout(), 0.25, out, every_s=60.0, seed=3)
    table = pq.read_table(out)
    keys = all_sensor_keys()
    assert table.column_names == ["machine_id", "kind", "ts", "status", *keys, "product_type"]
    assert table.schema.field("ts").type == pa.timestamp("ms", tz="UTC")
    for name in ("machine_id", "kind", "status", "product_type"):
        assert table.schema.field(name).type == pa.string()
    for key in keys:
        assert table.schema.field(key).type == pa.float64()
    assert table.num_rows == summary.rows == 6 * 60 * 16
    df = table.to_pandas()
    mill = df[df.machine_id == "mill-01"]
    assert set(mill.product_type) == {"M"}
    assert set(df[df.kind == "pump"].product_type) == {""}
    assert mill.ts.is_monotonic_increasing
    assert (mill.ts.diff().dropna().dt.total_seconds() == 60).all()
    assert str(mill.ts.iloc[0]) == "2025-01-01 00:01:00+00:00"
    assert mill["oil_temp"].isna().all()
    assert mill["process_temp"].notna().all()
    for kind, rows in df.groupby("kind"):
        specs = sensor_specs(MachineKind(str(kind)))
        for key, spec in specs.items():
            assert rows[key].between(spec.low, spec.high).all(), (kind, key)


def test_events_file_has_the_agreed_format(tmp_path: Path) -> None:
    out = tmp_path / "run.parquet"
    generate_dataset(load_layout(), 2.0, out, every_s=300.0, seed=1)
    events = pq.read_table(events_path(out))
    assert events.column_names == ["machine_id", "kind", "ts", "event", "mode", "status"]
    assert events.schema.field("ts").type == pa.timestamp("ms", tz="UTC")
    df = events.to_pandas()
    assert len(df) > 0
    assert set(df.event) <= {"failure", "repair", "maintenance", "status", "command"}
    failures = df[df.event == "failure"]
    assert len(failures) > 0
    assert failures["mode"].notna().all()
    assert set(failures.status) == {"failed"}
    assert df[df.event == "maintenance"]["mode"].isna().all()


def test_same_seed_writes_the_same_data(tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    generate_dataset(load_layout(), 0.1, a, every_s=60.0, seed=9, how="last")
    generate_dataset(load_layout(), 0.1, b, every_s=60.0, seed=9, how="last")
    assert pq.read_table(a).to_pandas().equals(pq.read_table(b).to_pandas())  # NaN-aware comparison
    assert pq.read_table(events_path(a)).to_pandas().equals(pq.read_table(events_path(b)).to_pandas())


def test_every_must_be_a_multiple_of_dt(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="multiple"):
        generate_dataset(load_layout(), 0.1, tmp_path / "x.parquet", every_s=1.5)


def test_cli_fast_mode_prints_failure_statistics(tmp_path: Path) -> None:
    out = tmp_path / "cli.parquet"
    plot = tmp_path / "f.png"
    result = CliRunner().invoke(
        app, ["simulate", "--days", "1", "--out", str(out), "--every", "5min", "--seed", "2", "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    assert "Failures in 1 simulated days" in result.output
    assert "cnc_mill" in result.output
    assert pq.read_metadata(out).num_rows == 288 * 16
    assert plot.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "soon"], "--every"),
        (["--layout", "/nonexistent/plant.yaml"], "cannot read layout file"),
        (["--agg", "median"], "--agg"),
        (["--start", "2025-01-01"], "--start"),
        (["--realtime"], "--target"),
    ],
)
def test_cli_bad_input_is_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--days", "0.01", "--out", str(tmp_path / "x.parquet"), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_run_to_failure_plot_reads_one_machine_of_a_readings_file(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from factorytwin.sim.stats import plot_run_to_failure

    out = tmp_path / "run.parquet"
    generate_dataset(load_layout(), 0.25, out, every_s=60.0, seed=3)
    png = tmp_path / "trace.png"
    plot_run_to_failure(out, "pump-01", ["inlet_pressure", "vibration"], datetime(2025, 1, 1, 6, tzinfo=UTC), 0.25, png)
    assert png.stat().st_size > 10_000
