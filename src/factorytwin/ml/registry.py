"""The model registry: versioned model files with a model card, and which version is active.

Layout under ``settings.model_dir`` (default ``var/models``)::

    v0001/model.json   the bundle (LightGBM model strings + calibration), see ``bundle.py``
    v0001/card.json    the model card (training data, features, metrics, date)
    v0001/card.md      the same card rendered for people
    ACTIVE             the active version's name

A version directory is written under a temporary name and renamed into place, and ``ACTIVE`` is replaced
atomically, so a reader never sees a half-written model.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from factorytwin.errors import FieldProblem, InvalidInput, NotFound
from factorytwin.ml.schema import ModelCard, ModelVersion

if TYPE_CHECKING:  # LightGBM and pandas take a second to import: the API imports them after it listens
    from factorytwin.ml.bundle import ModelBundle

VERSION_PATTERN = r"^v\d{4,12}$"
"""What a version id looks like (``v0001``): the API validates path parameters against it, and the registry refuses
anything else, so an id can never name a path outside the registry (``..``, ``/``, NUL)."""
_VERSION_RE = re.compile(VERSION_PATTERN)


def check_version(version: str) -> str:
    """``version`` when it is a well-formed version id; ``InvalidInput`` (field ``version``) otherwise."""
    if not _VERSION_RE.fullmatch(version):
        raise InvalidInput([FieldProblem(("path", "version"), "must look like v0001 (v and 4 to 12 digits)", version)])
    return version


def render_card(card: ModelCard) -> str:
    """The model card as Markdown."""
    lines = [
        f"# Model {card.version}",
        "",
        f"- created: {card.created_at.isoformat()}",
        f"- data shape: {card.shape}; target: `{card.target}`",
    ]
    if card.horizon is not None:
        lines.append(f"- horizon: {card.horizon:g} {card.horizon_unit or ''}".rstrip())
    lines += [f"- heads: {', '.join(card.models)}", "", "## Training data", ""]
    lines += [f"- {k}: {v}" for k, v in card.training_data.items()]
    lines += ["", "## Metrics", ""]
    for k, v in card.metrics.items():
        if isinstance(v, float):
            lines.append(f"- {k}: {v:.4f}")
        elif not isinstance(v, list | dict):
            lines.append(f"- {k}: {v}")
    lines += ["", f"## Features ({len(card.features)})", "", ", ".join(f"`{f}`" for f in card.features)]
    if card.excluded_columns:
        lines += ["", "Never used as features (labels, ids): " + ", ".join(f"`{c}`" for c in card.excluded_columns)]
    if card.notes:
        lines += ["", card.notes]
    return "\n".join(lines) + "\n"


class ModelRegistry:
    """Versioned model files in one directory; loads are cached per version."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._cache: dict[str, ModelBundle] = {}

    def versions(self) -> list[str]:
        """Every stored version, oldest first."""
        if not self.root.is_dir():
            return []
        names = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)]
        return sorted(names, key=lambda n: int(n[1:]))

    def active_version(self) -> str | None:
        """The active version, or None when no model was ever trained."""
        marker = self.root / "ACTIVE"
        if marker.is_file():
            name = marker.read_text("utf-8").strip()
            # a marker written by hand (or by an older release that did not validate) must not name a path
            if _VERSION_RE.fullmatch(name) and (self.root / name / "model.json").is_file():
                return name
        return None

    def next_version(self) -> str:
        """The name the next saved model gets."""
        existing = self.versions()
        return f"v{(int(existing[-1][1:]) + 1 if existing else 1):04d}"

    def save(self, bundle: ModelBundle, card: ModelCard, activate: bool = True) -> str:
        """Store a new version (its name replaces ``card.version``); make it active unless told not to."""
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            version = self.next_version()
            card = card.model_copy(update={"version": version})
            tmp = self.root / f".tmp-{version}-{os.getpid()}"
            tmp.mkdir()
            (tmp / "model.json").write_text(bundle.to_json(), "utf-8")
            (tmp / "card.json").write_text(card.model_dump_json(indent=2), "utf-8")
            (tmp / "card.md").write_text(render_card(card), "utf-8")
            tmp.rename(self.root / version)
            self._cache[version] = bundle
            if activate:
                self._activate_locked(version)
            return version

    def activate(self, version: str) -> None:
        """Make ``version`` the one the API serves."""
        with self._lock:
            self._activate_locked(version)

    def _activate_locked(self, version: str) -> None:
        check_version(version)
        if not (self.root / version / "model.json").is_file():
            raise NotFound(f"model version {version!r} does not exist")
        tmp = self.root / f".ACTIVE-{os.getpid()}"
        tmp.write_text(version + "\n", "utf-8")
        tmp.replace(self.root / "ACTIVE")

    def load(self, version: str | None = None) -> tuple[str, ModelBundle]:
        """The bundle of ``version`` (default: the active one); ``NotFound`` when there is none."""
        name = version or self.active_version()
        if name is None:
            raise NotFound("no model has been trained yet")
        check_version(name)
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return name, cached
        path = self.root / name / "model.json"
        if not path.is_file():
            raise NotFound(f"model version {name!r} does not exist")
        from factorytwin.ml.bundle import ModelBundle

        bundle = ModelBundle.from_json(path.read_text("utf-8"))
        with self._lock:
            self._cache[name] = bundle
        return name, bundle

    def card(self, version: str | None = None) -> ModelCard:
        """The model card of ``version`` (default: the active one)."""
        name = version or self.active_version()
        if name is not None:
            check_version(name)
        if name is None or not (self.root / name / "card.json").is_file():
            raise NotFound("no model card: no model has been trained yet")
        return ModelCard.model_validate_json((self.root / name / "card.json").read_text("utf-8"))

    def listing(self) -> list[ModelVersion]:
        """Every version with its date, shape, headline metrics and whether it is active."""
        active = self.active_version()
        out = []
        for name in self.versions():
            try:
                card = self.card(name)
            except (NotFound, ValueError):
                continue
            headline = {k: v for k, v in card.metrics.items() if isinstance(v, int | float)}
            out.append(
                ModelVersion(
                    version=name, created_at=card.created_at, active=name == active, shape=card.shape, metrics=headline
                )
            )
        return out
