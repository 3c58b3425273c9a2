"""The ``Predictor`` service: predictions for the twin's machines from their recent history, batch predictions,
the maintenance schedule and retraining from stored history.

Store reads are awaited on the event loop; feature building and inference run in a worker thread; retraining
runs in a worker process, one job at a time (``jobs.py``), so one long fit never delays predictions.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from factorytwin.domain import Event, EventKind, Machine, MachineKind, MachineStatus
from factorytwin.errors import FactoryTwinError, FieldProblem, InvalidInput, NotFound, ServiceUnavailable
from factorytwin.ml.jobs import TrainingJobs
from factorytwin.ml.registry import ModelRegistry
from factorytwin.ml.schedule import CostModel, plan_maintenance
from factorytwin.ml.schema import MaintenancePlan, Prediction, PredictRequest, PredictResponse, TrainJob, TrainRequest
from factorytwin.store.base import EventQuery, Store

if TYPE_CHECKING:
    import numpy as np

    from factorytwin.ml.bundle import ModelBundle
    from factorytwin.ml.reasons import ReasonWords
    from factorytwin.ml.timeseries import HistorySpec

# numpy, pandas and LightGBM (~2 s to import) are imported where they are used, not here: the API builds the
# Predictor at start-up, before it listens. ``warm_up`` imports them in a worker thread right after.
NUMERIC_MODULES = (
    "numpy",
    "pandas",
    "factorytwin.ml.bundle",
    "factorytwin.ml.features",
    "factorytwin.ml.history",
    "factorytwin.ml.latest",
    "factorytwin.ml.timeseries",
    "factorytwin.ml.transfer",
)

NO_MODEL_MESSAGE = "no model trained yet: run `factorytwin train --data FILE` or POST /api/v1/models/train"


EVENT_PAGE = 500
MAX_EVENT_PAGES = 10
"""How far back serving reads a machine's events: enough to know its status and its last renewal."""


def _renews(event: Event) -> bool:
    """A failure, repair or maintenance: an event that may reset a machine's age."""
    return event.kind in {EventKind.FAULT, EventKind.MAINTENANCE} or event.data.get("event") in {"repair", "failure"}


NOT_RUNNING = {
    MachineStatus.FAILED: "failed",
    MachineStatus.MAINTENANCE: "maintenance",
    MachineStatus.STOPPED: "stopped",
    MachineStatus.IDLE: "idle",
    MachineStatus.OFFLINE: "offline",
}


def machine_state(events: Sequence[Event], now: datetime, time_scale: float = 1.0) -> Prediction:
    """What a machine is doing at ``now`` from its event log (newest first, as the store lists it): a Prediction
    with status ``ok`` and its ``machine_status`` when it runs (or nothing says otherwise), else the status it is in
    (failed, maintenance, stopped, idle, offline), since when, the failure mode being repaired and, when the event
    gave the expected duration (``repair_hours`` / ``hours``, in the machines' time), the repair's progress."""
    stated = sorted((ev for ev in events if ev.status is not None and ev.ts <= now), key=_newest_first)
    if not stated:
        return Prediction()
    current = stated[0].status
    assert current is not None
    run = [stated[0]]
    for ev in stated[1:]:
        if ev.status is not current:
            break
        run.append(ev)
    since = run[-1].ts
    if current not in NOT_RUNNING:
        return Prediction(machine_status=current.value, status_since=since)
    mode = next((str(ev.data["mode"]) for ev in run if ev.data.get("mode")), None)
    hours: float | None = None
    for ev in reversed(run):  # the event that began it says how long it should take
        value = ev.data.get("repair_hours", ev.data.get("hours"))
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            hours = float(value)
            break
    progress = back = None
    elapsed_h = (now - since).total_seconds() * time_scale / 3600.0
    if hours is not None and current in {MachineStatus.FAILED, MachineStatus.MAINTENANCE}:
        progress = min(1.0, max(0.0, elapsed_h / hours))
        back = since + timedelta(hours=hours / time_scale)
    reason = next((str(ev.data["reason"]) for ev in run if ev.data.get("reason")), "")
    words = {
        MachineStatus.FAILED: f"failed ({mode or 'mode unknown'}), under repair",
        MachineStatus.MAINTENANCE: f"in {reason + ' ' if reason else ''}maintenance",
        MachineStatus.STOPPED: "stopped",
        MachineStatus.IDLE: "idle",
        MachineStatus.OFFLINE: "offline",
    }[current]
    done = f", {progress:.0%} of the expected {hours:g} h done" if progress is not None and hours is not None else ""
    message = (
        f"{words} for {elapsed_h:.1f} h{done}: not scored while not running "
        "(readings taken now say nothing about wear in operation)"
    )
    return Prediction(
        status=NOT_RUNNING[current],
        machine_status=current.value,
        status_since=since,
        failure_mode=mode if current is MachineStatus.FAILED else None,
        repair_progress=progress,
        expected_back=back,
        message=message,
    )


def _newest_first(ev: Event) -> tuple[float, int]:
    return (-ev.ts.timestamp(), -(ev.id or 0))


class NoModel(FactoryTwinError):
    """No model version is active."""


def spec_of(bundle: ModelBundle) -> HistorySpec:
    """The history spec a history bundle was trained with."""
    from factorytwin.ml.timeseries import HistorySpec

    s = bundle.spec
    return HistorySpec(
        step_s=float(s["step_s"]), window=int(s["window"]), horizon_h=float(s["horizon_h"]), signals=tuple(s["signals"])
    )


def reason_words(bundle: ModelBundle, machine: Machine | None) -> ReasonWords:
    """How ``bundle``'s reasons are told for ``machine`` (its profile's sensors only), or for a row of no machine
    (``POST /predict``: any sensor of the catalogue)."""
    from factorytwin.domain import kind_of

    kind = None if machine is None else kind_of(machine)
    if bundle.shape != "history":
        return _reason_words(tuple(bundle.features), kind, None, None)
    spec = spec_of(bundle)
    return _reason_words(tuple(bundle.features), kind, spec.step_s, spec.window)


@functools.lru_cache(maxsize=64)
def _reason_words(
    features: tuple[str, ...], kind: MachineKind | None, step_s: float | None, window: int | None
) -> ReasonWords:
    """One ``ReasonWords`` per model and machine kind, made once (predictions are served every few seconds for
    every machine)."""
    from factorytwin.domain import CATALOGUE, sensor_specs
    from factorytwin.ml.reasons import ReasonWords

    if kind is not None:
        sensors = sensor_specs(kind)
    else:
        sensors = {spec.key: spec for specs in CATALOGUE.values() for spec in specs}
    return ReasonWords(features, sensors, step_s, window)


def with_words(preds: list[Prediction], X: np.ndarray, words: Sequence[ReasonWords]) -> list[Prediction]:
    """``preds`` (one per row of ``X``) with each reason's sensor and text filled in."""
    for p, row, w in zip(preds, X, words, strict=True):
        p.reasons = [
            r.model_copy(update={"sensor": w.sensor(r.feature), "text": w.text(r.feature, row)}) for r in p.reasons
        ]
    return preds


class Predictor:
    """Serves the active model of ``registry`` for the machines of the layout, reading history from ``store``."""

    def __init__(
        self,
        store: Store,
        registry: ModelRegistry,
        machines: Sequence[Machine],
        time_scale: float = 1.0,
        training: TrainingJobs | None = None,
    ) -> None:
        self.store = store
        # Data seconds per wall second (a time-compressed simulator): history windows are read in the machines'
        # own time, the time the model was trained in.
        self.time_scale = time_scale
        self.registry = registry
        self.machines = {m.id: m for m in machines}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ft-predict")
        self.training = training

    @staticmethod
    def warm_up() -> None:
        """Import the numeric stack (blocking, ~2 s): call it in a worker thread after start-up, so the first
        prediction does not import it on the event loop."""
        for name in NUMERIC_MODULES:
            importlib.import_module(name)

    def close(self) -> None:
        """Stop the worker threads (running work finishes first)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.training is not None:
            self.training.close()

    def active(self) -> tuple[str, ModelBundle] | None:
        """(version, bundle) of the active model, or None."""
        try:
            return self.registry.load()
        except NotFound:
            return None

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # ---- machine predictions ---------------------------------------------------------------------------------
    async def _inputs(self, machine: Machine, bundle: ModelBundle) -> dict[str, Any] | None:
        """What the features of one machine need, read from the store; None when it has no readings."""
        latest = await self.store.latest(machine.id)
        if not latest:
            return None
        newest = max(v.ts for v in latest.values())
        inputs: dict[str, Any] = {"machine": machine, "ts": newest, "latest": {k: v.value for k, v in latest.items()}}
        end = newest + timedelta(milliseconds=1)
        if bundle.shape == "history":
            spec = spec_of(bundle)
            # two steps more than the window: the window's oldest bin is read whole wherever the newest reading is;
            # and the steps the alert rule looks back over (their own windows included)
            steps = spec.window + 2 + bundle.alert_lookback_steps
            start = end - timedelta(seconds=spec.step_s * steps / self.time_scale)
            inputs["readings"] = await self.store.read_range(machine.id, start, end)
        else:
            start = end
        inputs["events"] = await self._events(machine.id, start, end)
        return inputs

    async def _events(self, machine_id: str, window_start: datetime, end: datetime) -> list[Event]:
        """The machine's status-bearing events before ``end``, newest first, back to the last status before
        ``window_start`` and its last failure or maintenance (its age), at most ``MAX_EVENT_PAGES`` pages."""
        from factorytwin.ml.history import STATUS_KINDS

        query = EventQuery(machine_id=machine_id, kinds=list(STATUS_KINDS), end=end, limit=EVENT_PAGE)
        out: list[Event] = []
        for _ in range(MAX_EVENT_PAGES):
            page = await self.store.events(query)
            out.extend(page)
            if len(page) < query.limit:
                break
            oldest = page[-1]
            if oldest.ts < window_start and any(_renews(ev) for ev in out):
                break
            query = query.model_copy(update={"before": oldest.ts, "before_id": oldest.id})
        return out

    def _feature_rows(self, bundle: ModelBundle, inputs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(step times in hours, feature rows) of one machine, oldest first, the newest row last: for history
        models ``timeseries.feature_matrix``, the function that built the training rows, on the readings,
        statuses and renewals read from the store, for the newest step and the steps its alert rule looks back
        over; for table models the one row of the latest values (time NaN)."""
        import numpy as np

        from factorytwin.ml.features import KIND_CODES, PRODUCT_TYPE_CODES
        from factorytwin.ml.history import event_tuples, status_at, status_timeline
        from factorytwin.ml.latest import arrays_from_columns, latest_feature_rows, physics_arrays
        from factorytwin.ml.timeseries import MS_PER_HOUR, age_origin_ms, life_renewals

        machine: Machine = inputs["machine"]
        ptype = machine.metadata.get("product_type")
        ptype = str(ptype) if ptype is not None else None
        if bundle.shape == "history":
            spec = spec_of(bundle)
            ts, values = arrays_from_columns(inputs["readings"])
            status = status_at(ts, status_timeline(inputs["events"]))
            log = event_tuples(inputs["events"])
            ev_ts = np.array([t for _, t, _, _ in log], dtype="float64")
            origin = age_origin_ms(machine.metadata)
            if self.time_scale != 1.0 and len(ts):
                # stretch wall-clock times about the newest reading into the machines' own time (before the
                # renewal rule, which judges a maintenance by its length in machine hours)
                anchor = float(ts[-1])
                ts = (anchor + (ts.astype("float64") - anchor) * self.time_scale).astype("int64")
                ev_ts = anchor + (ev_ts - anchor) * self.time_scale
                origin = None if origin is None else anchor + (origin - anchor) * self.time_scale
            renewals = life_renewals(ev_ts, np.array([e for _, _, e, _ in log], dtype=object))
            at, rows = latest_feature_rows(
                ts, values, renewals, spec, machine.profile, ptype, status, origin, bundle.alert_lookback_steps + 1
            )
            index = {name: i for i, name in enumerate(spec.feature_names())}
            cols = [index.get(f) for f in bundle.features]
            X = np.column_stack([rows[:, c] if c is not None else np.full(len(rows), np.nan) for c in cols])
            return at / MS_PER_HOUR, X
        latest: dict[str, float] = inputs["latest"]
        code = PRODUCT_TYPE_CODES.get(ptype.strip().upper(), np.nan) if ptype else np.nan
        arrays = {k: np.array([v], dtype="float64") for k, v in latest.items()}
        arrays.update(physics_arrays(arrays, code))
        by_name = {k: float(v[0]) for k, v in arrays.items()}
        by_name["product_type"] = code
        by_name["kind"] = KIND_CODES.get(machine.profile, np.nan)
        return np.array([np.nan]), np.array([[by_name.get(f, np.nan) for f in bundle.features]], dtype="float64")

    def _predict_inputs(
        self, version: str, bundle: ModelBundle, batch: list[tuple[str, dict[str, Any] | None]]
    ) -> list[Prediction]:
        import numpy as np

        out: dict[str, Prediction] = {}
        have: list[tuple[str, dict[str, Any]]] = []
        for mid, inp in batch:
            if inp is None:
                out[mid] = Prediction(
                    status="no_data", machine_id=mid, model_version=version, message="no readings yet"
                )
                continue
            state = machine_state(inp["events"], inp["ts"], self.time_scale)
            if state.status != "ok":
                out[mid] = state.model_copy(update={"machine_id": mid, "ts": inp["ts"], "model_version": version})
            else:
                have.append((mid, inp))
                out[mid] = state
        if have:
            alerts: list[bool] = []
            newest: list[np.ndarray] = []
            for _, inp in have:
                t_h, rows = self._feature_rows(bundle, inp)
                prob = bundle.predict_matrix(rows)["probability"]
                # the alert of the newest step under the kind's rule over the steps before it: the function
                # offline scoring applies to the whole history (``ModelBundle.machine_alerts``)
                alerts.append(bool(bundle.machine_alerts(t_h, rows, prob)[-1]))
                newest.append(rows[-1])
            X = np.vstack(newest)
            words = [reason_words(bundle, inp["machine"]) for _, inp in have]
            usable = np.vstack([w.usable(row) for w, row in zip(words, X, strict=True)])
            preds = bundle.predictions(X, reasons=3, alerts=np.array(alerts, dtype=bool), usable=usable)
            preds = with_words(preds, X, words)
            for (mid, inp), p in zip(have, preds, strict=True):
                known = out[mid]
                out[mid] = p.model_copy(
                    update={
                        "machine_id": mid,
                        "ts": inp["ts"],
                        "model_version": version,
                        "machine_status": known.machine_status,
                        "status_since": known.status_since,
                    }
                )
        return [out[mid] for mid, _ in batch]

    async def predict(self, machine_id: str) -> Prediction:
        """The prediction for one machine; ``NotFound`` for an unknown machine; status no_model/no_data."""
        return (await self.predict_all([machine_id]))[0]

    async def predict_all(self, machine_ids: Sequence[str] | None = None) -> list[Prediction]:
        """Predictions for ``machine_ids`` (default every machine of the layout), in one batched inference.
        The stream/twin calls this periodically and pushes each result as a ``prediction`` message."""
        ids = list(machine_ids) if machine_ids is not None else sorted(self.machines)
        for mid in ids:
            if mid not in self.machines:
                raise NotFound(f"no machine {mid!r} in the factory layout")
        active = self.active()
        if active is None:
            return [Prediction(status="no_model", machine_id=mid, message=NO_MODEL_MESSAGE) for mid in ids]
        version, bundle = active
        if bundle.shape == "run_to_failure":
            msg = "the active model was trained on run-to-failure files; use POST /api/v1/predict with its columns"
            return [Prediction(status="no_model", machine_id=mid, model_version=version, message=msg) for mid in ids]
        from factorytwin.ml.features import KIND_CODES

        # The history model reads the sensors of the kinds it was trained on: a machine of another profile (a
        # user's boiler) is not scored, rather than given a number that means nothing.
        scored = [mid for mid in ids if self.machines[mid].profile in KIND_CODES]
        out = {
            mid: Prediction(
                status="no_model",
                machine_id=mid,
                model_version=version,
                message=f"the active model knows no machines of profile {self.machines[mid].profile!r} "
                f"(it knows {', '.join(KIND_CODES)})",
            )
            for mid in ids
            if mid not in scored
        }
        inputs = await asyncio.gather(*(self._inputs(self.machines[mid], bundle) for mid in scored))
        result: list[Prediction] = await self._run(
            self._predict_inputs, version, bundle, list(zip(scored, inputs, strict=True))
        )
        out.update(zip(scored, result, strict=True))
        return [out[mid] for mid in ids]

    # ---- batch rows ------------------------------------------------------------------------------------------
    @staticmethod
    def _rows_matrix(bundle: ModelBundle, rows: list[dict[str, Any]]) -> np.ndarray:
        import numpy as np
        import pandas as pd

        from factorytwin.ml.features import add_physics_features
        from factorytwin.ml.transfer import SNAPSHOT_SENSORS

        frame = pd.DataFrame(rows)
        for col in frame.columns:
            if col in {"product_type", "kind"}:
                continue
            num = pd.to_numeric(frame[col], errors="coerce")
            bad = num.isna() & frame[col].notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InvalidInput([FieldProblem(("rows", i, str(col)), "must be a number", frame[col].iloc[i])])
            frame[col] = num
        known = set(bundle.features) | {"product_type", "kind"}
        if bundle.shape == "table":  # raw sensor columns are welcome: the physics features are derived from them
            known |= set(SNAPSHOT_SENSORS)
        unknown = [c for c in frame.columns if c not in known]
        if unknown:
            raise InvalidInput([FieldProblem(("rows", 0, str(unknown[0])), "not a feature of the active model")])
        if bundle.shape == "table":
            frame = add_physics_features(frame)
        # a feature the rows do not give is an error, never silently filled with "missing" (a row of one feature
        # would otherwise answer as if the model knew what it was talking about); an explicit null is a value
        missing = [f for f in bundle.features if f not in frame.columns]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise InvalidInput(
                [
                    FieldProblem(
                        ("rows", 0, missing[0]), f"missing {len(missing)} feature(s) of the active model: {shown}"
                    )
                ]
            )
        return bundle.matrix(frame)

    async def predict_rows(self, request: PredictRequest) -> PredictResponse:
        """Predictions for raw feature rows (``POST /predict``); ``InvalidInput`` names a bad column."""
        active = self.active()
        if active is None:
            raise NoModel(NO_MODEL_MESSAGE)
        version, bundle = active

        def work() -> list[Prediction]:
            X = self._rows_matrix(bundle, request.rows)
            preds = with_words(bundle.predictions(X, reasons=request.reasons), X, [reason_words(bundle, None)] * len(X))
            return [p.model_copy(update={"model_version": version}) for p in preds]

        preds: list[Prediction] = await self._run(work)
        return PredictResponse(model_version=version, predictions=preds)

    # ---- schedule --------------------------------------------------------------------------------------------
    async def schedule(self, cost: CostModel | None = None, now: datetime | None = None) -> MaintenancePlan:
        """The recommended maintenance plan from the current predictions (see ``schedule.plan_maintenance``)."""
        cost = cost or CostModel()
        now = now or datetime.now(UTC)
        active = self.active()
        if active is None:
            return MaintenancePlan(
                status="no_model",
                generated_at=now,
                horizon_h=cost.planning_horizon_h,
                shift_hours=cost.shift_hours,
                technician_hours_per_shift=cost.technician_hours_per_shift,
                message=NO_MODEL_MESSAGE,
            )
        preds = await self.predict_all()
        plan = plan_maintenance(preds, cost, now, self.time_scale)
        return plan.model_copy(update={"model_version": active[0]})

    # ---- retraining ----------------------------------------------------------------------------------------
    @property
    def jobs(self) -> Mapping[str, TrainJob]:
        """The training jobs remembered (unfinished ones and the newest finished ones)."""
        return self.training.jobs if self.training is not None else {}

    async def start_training(self, request: TrainRequest) -> TrainJob:
        """Start a retrain from the stored history in a worker process (see ``jobs.py``); returns at once with
        the job (poll ``jobs[id]``). ``TrainingBusy`` while another job runs."""
        if self.training is None:
            raise ServiceUnavailable("retraining is not available in this process")
        return self.training.start(request)
