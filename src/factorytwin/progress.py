"""The one progress display of the command line (``simulate``, ``train``, ``evaluate``, ``demo``).

Long jobs report progress through plain callbacks, so they know nothing of rich: the simulator calls
``on_progress(fraction)``, training calls ``progress(stage, fraction)``. ``progress_bars`` opens the display and
hands out a bar, with its callback, per job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

FractionDone = Callable[[float], None]
"""Told the fraction (0..1) of a job done so far."""
StageDone = Callable[[str, float], None]
"""Told the stage a job is in and the fraction (0..1) done so far."""


class Bars:
    """The bars of one open display; each job gets its own."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def _bar(self, description: str) -> TaskID:
        return self._progress.add_task(description, total=1.0)

    def _move(self, task: TaskID, fraction: float, description: str | None = None) -> None:
        # Jobs may overshoot or start below zero by rounding; the bar stays within 0..100 %.
        self._progress.update(task, completed=min(max(fraction, 0.0), 1.0), description=description)

    def fraction(self, description: str) -> FractionDone:
        """A new bar labelled ``description``, moved by the returned callback."""
        task = self._bar(description)
        return lambda fraction: self._move(task, fraction)

    def staged(self, description: str, prefix: str = "") -> StageDone:
        """A new bar labelled ``description`` until the job names its stage (shown after ``prefix``)."""
        task = self._bar(description)
        return lambda stage, fraction: self._move(task, fraction, f"{prefix}{stage}")


@contextmanager
def progress_bars(console: Console) -> Iterator[Bars]:
    """Show progress bars on ``console`` (description, bar, percentage, time elapsed) until the block ends."""
    with Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield Bars(progress)
