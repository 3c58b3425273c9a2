"""The composition root: what the app builds at start-up, in which order, and takes down at shutdown.

``app_lifespan`` opens the store (unless the caller gave one), registers the layout's machines and starts ingest,
then enters each of ``SERVICE_HOOKS`` with the ``Services`` container: the live twin (and the MQTT subscriber),
then the ML predictor (and its prediction push to the twin). Exit runs in reverse. Routers only *use* what is
built here, through the dependencies of ``api.deps``; they never build or start a service themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

from fastapi import FastAPI

from factorytwin.api.auth import install_auth
from factorytwin.api.deps import Services
from factorytwin.api.routers.kpi import kpi_service
from factorytwin.auth import AuthService
from factorytwin.auth.oidc import OidcConfig, OidcVerifier
from factorytwin.config import Settings
from factorytwin.domain import FactoryLayout, Machine
from factorytwin.errors import InvalidInput, LayoutError
from factorytwin.ingest import IngestService
from factorytwin.ingest.mqtt import MqttIngest
from factorytwin.kpi.service import KpiService, warm_up_query
from factorytwin.layout import load_layout
from factorytwin.ml import ModelRegistry, Predictor
from factorytwin.ml.jobs import TrainingJobs
from factorytwin.plant import MachineListener, PlantService
from factorytwin.plant.service import Op, PlantChanged
from factorytwin.profiles import GltfAppearance, Profile
from factorytwin.profiles.assets import AssetService
from factorytwin.profiles.registry import ProfileRegistry
from factorytwin.profiles.service import ProfileService
from factorytwin.store import Store, open_store
from factorytwin.store.assets import asset_store_for
from factorytwin.store.auth import auth_store_for
from factorytwin.store.profiles import profile_store_for
from factorytwin.twin.bus import BusEvent
from factorytwin.twin.messages import ScenarioProgressMessage
from factorytwin.twin.service import TwinService

log = logging.getLogger(__name__)

PREDICTION_INTERVAL_S = 10.0
"""How often predictions are pushed to the live twin: features are hourly windows, so faster adds nothing."""

PLANT_SYNC_INTERVAL_S = 30.0
"""With several API processes (a distributed bus): how often each reads the plant from the store anyway, in case a
bus message was lost; a change announced on the bus is read at once."""

KPI_WARM_DELAY_S = 2.0
"""How long after start-up the KPI day tallies are warmed: after the API listens and ingest has begun."""

KPI_WARM_MACHINES_PER_STEP = 2
"""Machines per step of the KPI warm-up (``warm_kpis``): about 15 ms of the event loop each for 366 days (8, 60 ms,
still showed in the stream's latency on the loaded box)."""

KPI_WARM_IDLE_FACTOR = 3.0
"""After each warm-up step the loop is left to the rest for this many times as long as the step took (the
warm-up takes at most a quarter of the process)."""

ServiceHook = Callable[[Services], AbstractAsyncContextManager[None]]


async def cancel(task: asyncio.Task[None]) -> None:
    """Stop a hook's background task at shutdown and wait until it has."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@asynccontextmanager
async def twin_lifespan(services: Services) -> AsyncIterator[None]:
    """Start the live twin (and, with ``mqtt_url`` set, the MQTT ingest subscriber); stop them at shutdown."""
    settings = services.settings
    twin = TwinService(settings, services.store, specs_of=services.registry.sensors)
    await twin.start(list(services.machines.values()))
    services.twin = twin
    services.ingest.add_listener(twin.on_ingested)
    services.plant.add_listener(twin.machine_changed)
    services.machine_state = twin.machine_state
    services.health_sections["twin"] = twin.health_section
    mqtt: MqttIngest | None = None
    try:
        if settings.mqtt_url:
            mqtt = MqttIngest.from_settings(settings, services.ingest)
            await mqtt.start()
            services.mqtt_ingest = mqtt
            services.health_sections["mqtt"] = mqtt.health_section
        yield
    finally:
        if mqtt is not None:
            await mqtt.stop()
        await twin.stop()


async def push_predictions(services: Services, predictor: Predictor, interval_s: float) -> None:
    """Forever: predict every machine and hand each result to the live twin (health + ``prediction`` message)."""
    while True:
        await asyncio.sleep(interval_s)
        twin = services.twin
        if twin is None:
            continue
        try:
            for prediction in await predictor.predict_all():
                if prediction.status == "ok" and prediction.machine_id is not None:
                    await twin.publish_prediction(prediction)
        except Exception:  # a bad cycle (store hiccup, odd model) must not end the loop
            log.exception("prediction push failed")


@asynccontextmanager
async def ml_lifespan(services: Services) -> AsyncIterator[None]:
    """Start the predictor (and the prediction push to the twin); stop them at shutdown.

    Limits (docs/RELIABILITY.md): retraining goes through ``TrainingJobs`` (one job at a time, in a worker process,
    a bounded history read); building the predictor is cheap, and ``Predictor.warm_up`` imports numpy, pandas
    and LightGBM in a worker thread once start-up is done, so the API listens without waiting for them.
    """
    settings = services.settings
    registry = ModelRegistry(settings.model_dir)
    machines = list(services.machines.values())
    training = TrainingJobs(
        settings.database_url, settings.model_dir, machines, settings.train_max_rows, settings.train_jobs_kept
    )
    predictor = Predictor(services.store, registry, machines, time_scale=settings.time_scale, training=training)
    predictor.machines = services.machines  # the plant's one dict: machines provisioned later are predicted too
    services.predictor = predictor
    warmed = asyncio.Event()  # the numeric stack imported: predictions answer without a first-call pause
    services.health_sections["ml"] = lambda: {
        "active_model": registry.active_version(),
        "training_jobs": training.unfinished(),
        "ready": warmed.is_set(),
    }

    async def warm_then_push() -> None:
        await asyncio.to_thread(predictor.warm_up)
        warmed.set()
        await push_predictions(services, predictor, PREDICTION_INTERVAL_S)

    task = asyncio.get_running_loop().create_task(warm_then_push(), name="ft-ml")
    try:
        yield
    finally:
        await cancel(task)
        predictor.close()


@asynccontextmanager
async def profiles_lifespan(services: Services) -> AsyncIterator[None]:
    """Serve the machine profiles kept in the store (its open seeded the bundled ones); a saved profile is in force
    at once: the registry takes it, the store learns its sensor keys, and its machines are re-announced."""
    plant = services.plant

    async def saved(profile: Profile) -> None:
        services.registry.put(profile)
        await services.store.register_sensors(list(services.registry.specs(profile.id)))
        for machine_id in plant.machines_using(profile.id):
            plant.announce(machine_id)

    async def deleted(profile_id: str) -> None:
        services.registry.remove(profile_id)

    profile_store = profile_store_for(services.store)

    async def profiles_using(asset_id: str) -> list[str]:
        return [
            p.id
            for p in await profile_store.profiles()
            if isinstance(p.appearance, GltfAppearance) and p.appearance.asset_id == asset_id
        ]

    assets = AssetService(asset_store_for(services.store), profiles_using)
    await assets.load()
    services.assets = assets
    services.profiles = ProfileService(
        profile_store, plant.machines_using, on_saved=saved, on_deleted=deleted, asset_exists=assets.exists
    )
    yield


@asynccontextmanager
async def whatif_lifespan(services: Services) -> AsyncIterator[None]:
    """What-if scenario jobs (``whatif.jobs``): forks of the twin's present simulated ahead in worker processes."""
    from factorytwin.whatif.jobs import ScenarioJobs

    settings = services.settings
    jobs = ScenarioJobs(
        services.plant.layout(),
        services.store,
        lambda machine_id: services.machine_state(machine_id) if services.machine_state is not None else None,
        max_running=settings.whatif_max_running,
        max_queued=settings.whatif_max_queued,
        workers=settings.whatif_workers,
    )
    services.scenarios = jobs

    def plant_changed(op: Op, machine_id: str, machine: Machine | None) -> None:
        jobs.layout = services.plant.layout()  # scenarios fork the plant as it is now

    def job_changed(message: ScenarioProgressMessage) -> None:
        if services.twin is not None:  # every open dashboard follows the job on the stream
            services.twin.hub.broadcast(message)

    jobs.listeners.append(job_changed)
    services.plant.add_listener(plant_changed)
    services.health_sections["whatif"] = lambda: {"scenario_jobs": jobs.unfinished()}
    try:
        yield
    finally:
        await jobs.close()


@asynccontextmanager
async def connectors_lifespan(services: Services) -> AsyncIterator[None]:
    """Start the stored connectors (each connects in the background: an unreachable device delays nothing), route
    commands for the machines they serve over OPC UA, and stop them all at shutdown."""
    if not services.settings.connectors_enabled:  # another process of the deployment runs them
        services.health_sections["connectors"] = lambda: {"enabled": False}
        yield
        return
    from factorytwin.connectors.manager import ConnectorManager
    from factorytwin.connectors.service import ConnectorService
    from factorytwin.store.connectors import connector_store_for

    def known() -> dict[str, frozenset[str]]:
        return services.registry.known_sensors(services.machines.values())

    manager = ConnectorManager(services.ingest, known=known)
    connectors = ConnectorService(connector_store_for(services.store), manager, known)
    await connectors.load()
    services.connectors = connectors
    if services.twin is not None:
        services.twin.commands.add_route(connectors.route_command)

    def section() -> dict[str, int]:
        states = [s.state for s in connectors.statuses().values()]
        return {"connectors": len(states), **{f"connectors_{st}": states.count(st) for st in sorted(set(states))}}

    services.health_sections["connectors"] = section
    try:
        yield
    finally:
        await connectors.close()


async def sync_plant(services: Services) -> int:
    """Put the plant as the store holds it in force in this process (profiles first, then machines): what another
    API process changed. Returns how many profiles and machines changed here."""
    registry, plant = services.registry, services.plant
    stored = {p.id: p.profile() for p in await profile_store_for(services.store).profiles()}
    changed = [pid for pid, profile in stored.items() if registry.get(pid) != profile]
    gone = [p.id for p in registry.profiles() if p.id not in stored]
    for pid in changed:
        registry.put(stored[pid])
    if changed:
        await services.store.register_sensors(registry.sensor_keys())
    # A new version of a profile changes the machines that had it, whose records did not change.
    renewed = [machine_id for pid in changed for machine_id in plant.machines_using(pid)]
    machines = await services.store.machines()
    if any(m.id not in plant.machines for m in machines):
        await services.store.reload_codes()  # the new machines' codes, which the other process registered
    n = plant.reconcile(machines)
    for machine_id in renewed:
        plant.announce(machine_id)
    for pid in gone:
        registry.remove(pid)
    return len(changed) + len(gone) + n


@asynccontextmanager
async def plant_sync_lifespan(services: Services) -> AsyncIterator[None]:
    """Several API processes on one store and one broker see one plant: a process that changes a machine or a
    profile says so on the bus (``PlantChanged``, no content), and every other one reads the plant from the store
    (``sync_plant``; at once, coalesced, and every ``PLANT_SYNC_INTERVAL_S`` in case a message was lost). Nothing
    runs with the in-process bus (one process)."""
    twin = services.twin
    bus = twin.bus if twin is not None else None
    if bus is None or not bus.distributed:
        yield
        return
    wake = asyncio.Event()
    syncing = False  # changes this process takes from the store are not announced again
    pending: set[asyncio.Task[None]] = set()

    def announce(what: Literal["machine", "profile"]) -> None:
        if syncing:
            return
        event = BusEvent("plant", bus.origin, PlantChanged(what=what))
        task = asyncio.get_running_loop().create_task(bus.publish(event))
        pending.add(task)
        task.add_done_callback(pending.discard)

    services.plant.add_listener(lambda op, machine_id, machine: announce("machine"))
    profiles = services.profiles
    if profiles is not None:
        saved, deleted = profiles.on_saved, profiles.on_deleted

        async def on_saved(profile: Profile) -> None:
            if saved is not None:
                await saved(profile)
            announce("profile")

        async def on_deleted(profile_id: str) -> None:
            if deleted is not None:
                await deleted(profile_id)
            announce("profile")

        profiles.on_saved, profiles.on_deleted = on_saved, on_deleted

    async def heard(event: BusEvent) -> None:
        if event.type == "plant" and event.origin != bus.origin:
            wake.set()

    bus.subscribe(heard)
    counts = {"syncs": 0, "changes": 0, "failures": 0}

    async def loop() -> None:
        nonlocal syncing
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), PLANT_SYNC_INTERVAL_S)
            wake.clear()
            try:
                syncing = True
                changes = await sync_plant(services)
            except Exception:  # a store hiccup: the next wake or interval tries again
                counts["failures"] += 1
                log.exception("plant sync failed")
            else:
                counts["syncs"] += 1
                counts["changes"] += changes
                if changes:
                    log.info("plant sync: %d changes made by another process taken from the store", changes)
            finally:
                syncing = False

    services.health_sections["plant_sync"] = lambda: dict(counts)
    task = asyncio.get_running_loop().create_task(loop(), name="ft-plant-sync")
    try:
        yield
    finally:
        await cancel(task)


KpiWarmState = dict[str, int | float | str | None]


async def warm_kpis(services: Services, state: KpiWarmState, idle_factor: float = KPI_WARM_IDLE_FACTOR) -> None:
    """A KPI report over the last ``kpi_warm_days`` days by day, which fills the store's day tallies
    (``kpi.cache``); ``state`` says how it went. A failure is logged, never raised (the requests then read the
    events for themselves).

    The tallies are computed on the event loop, about 7.6 ms per machine for 366 days (bench/live.py, 1,000
    machines: 7.6 s in one piece, the live stream stalled behind it for as long; 10,000 machines: 76 s). So the
    warm-up goes ``KPI_WARM_MACHINES_PER_STEP`` machines at a time and, after each step, leaves the loop to the
    rest for ``idle_factor`` times as long as the step took: the live twin keeps most of the process however
    large the plant. The day tallies kept are per machine, in the store's one cache, the same whatever the steps."""
    days = services.settings.kpi_warm_days
    end = datetime.now(UTC)
    started = time.perf_counter()
    plant = kpi_service(services)  # the very service the KPI routes build, so the tallies kept are theirs
    machines = list(plant.machines.values())
    try:
        for i in range(0, len(machines), KPI_WARM_MACHINES_PER_STEP):
            step_began = time.perf_counter()
            step = KpiService(plant.store, machines[i : i + KPI_WARM_MACHINES_PER_STEP], plant.lines, plant.time_scale)
            await step.report(warm_up_query(days, end))
            await asyncio.sleep((time.perf_counter() - step_began) * idle_factor)  # the live twin's turn
    except Exception as exc:  # a warm-up: the requests read for themselves when it fails
        state["error"] = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("KPI warm-up failed (%s): KPI requests read the events themselves", state["error"])
        return
    state.update(warmed=True, seconds=round(time.perf_counter() - started, 3), error=None)
    log.info("KPI day tallies of %d days warmed in %.2f s", days, state["seconds"])


@asynccontextmanager
async def kpi_lifespan(services: Services) -> AsyncIterator[None]:
    """Warm the KPI day tallies in the background (``warm_kpis``) ``KPI_WARM_DELAY_S`` after start-up, so the
    first year-long KPI request after a start reads only what is not kept yet; its outcome is the ``kpi`` section
    of ``/health``."""
    days = services.settings.kpi_warm_days
    state: KpiWarmState = {"warm_days": days, "warmed": False, "seconds": None, "error": None}
    services.health_sections["kpi"] = lambda: dict(state)

    async def later() -> None:
        await asyncio.sleep(KPI_WARM_DELAY_S)
        await warm_kpis(services, state)

    task = asyncio.get_running_loop().create_task(later(), name="ft-kpi-warm") if days else None
    try:
        yield
    finally:
        if task is not None:
            await cancel(task)


SERVICE_HOOKS: list[ServiceHook] = [
    profiles_lifespan,
    twin_lifespan,
    plant_sync_lifespan,
    connectors_lifespan,
    ml_lifespan,
    whatif_lifespan,
    kpi_lifespan,
]
"""Start-up hooks, entered in order after ingest has started, with the ``Services`` container (set your field /
listener / health section there), and exited in reverse order at shutdown. Read at each start-up."""


async def plant_machines(
    store: Store, registry: ProfileRegistry, layout: FactoryLayout
) -> tuple[FactoryLayout, list[Machine]]:
    """The floor (the layout file's, without machines) and the plant's machines: the store's, or, while the store
    has none, the layout file's, checked against the profiles and stored (the file seeds an empty plant; after that
    ``factorytwin layout import`` applies one)."""
    floor = layout.model_copy(update={"machines": []})
    stored = await store.machines()
    if stored:
        if {m.id for m in layout.machines} - {m.id for m in stored}:
            log.info("the store has %d machines: the layout file's machines are not applied again", len(stored))
        return floor, stored
    for index, machine in enumerate(layout.machines):
        try:
            registry.check_machine(machine, ("machines", index))
        except InvalidInput as exc:
            problem = exc.problems[0]
            where = ".".join(str(p) for p in problem.loc)
            raise LayoutError(f"layout: {where}: {problem.msg}") from None
    await store.register_machines(layout.machines)
    return floor, list(layout.machines)


def ingest_listener(ingest: IngestService) -> MachineListener:
    """Ingest accepts a provisioned machine's readings, and refuses a deleted one's, from the change on."""

    def listen(op: Op, machine_id: str, machine: Machine | None) -> None:
        if machine is None:
            ingest.remove_machine(machine_id)
        else:
            ingest.put_machine(machine)

    return listen


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """The OpenID Connect verifier the ``FT_OIDC_*`` settings describe, or None when they leave it off."""
    if not settings.oidc_enabled:
        return None
    config = OidcConfig(
        issuer=settings.oidc_issuer or "",
        audience=settings.oidc_audience or "",
        jwks_url=settings.oidc_jwks_url or "",
        group_roles=settings.oidc_group_roles,
        groups_claim=settings.oidc_groups_claim,
        username_claim=settings.oidc_username_claim,
    )
    log.info("OpenID Connect on: issuer %s, %d mapped groups", config.issuer, len(config.group_roles))
    return OidcVerifier(config)


def app_lifespan(settings: Settings, store: Store | None) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The FastAPI lifespan of an app for ``settings``: builds ``Services`` into ``app.state.services``.

    With ``store`` None the store of ``settings.database_url`` is opened at start-up and closed at shutdown; a
    given ``store`` must already be open and stays open (its owner closes it).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            the_store = store
            if the_store is None:
                the_store = open_store(settings.database_url)
                await the_store.open()
                stack.push_async_callback(the_store.close)
            profile_store = profile_store_for(the_store)
            registry = ProfileRegistry(p.profile() for p in await profile_store.profiles())
            await the_store.register_sensors(registry.sensor_keys())
            floor, machines = await plant_machines(the_store, registry, load_layout(settings.layout_path))
            ingest = IngestService(settings, the_store, machines, specs_of=registry.sensors)
            await ingest.start()
            stack.push_async_callback(ingest.stop)
            oidc = oidc_verifier(settings)
            if oidc is not None:
                stack.push_async_callback(oidc.close)
            auth = AuthService(auth_store_for(the_store), oidc=oidc)
            install_auth(app, auth)
            by_id = {m.id: m for m in machines}
            services = Services(
                settings=settings,
                store=the_store,
                plant=PlantService(the_store, registry, floor, by_id),
                ingest=ingest,
                started_at=datetime.now(UTC),
                auth=auth,
                machines=by_id,
                registry=registry,
            )
            services.plant.add_listener(ingest_listener(ingest))
            app.state.services = services
            for hook in SERVICE_HOOKS:
                await stack.enter_async_context(hook(services))
            yield

    return lifespan
