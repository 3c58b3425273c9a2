"""Factory layouts: the built-in default factory and user-supplied YAML/JSON files.

A layout that cannot be used is refused at load time with the file, the line and the field named, so that a
plant engineer editing a YAML file by hand is told exactly what to fix.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from factorytwin.domain import FactoryLayout
from factorytwin.errors import LayoutError

DEFAULT_LAYOUT_RESOURCE = "default_factory.yaml"

# libyaml's loader when PyYAML was built with it: the pure-Python one took ~20 s for 10,000 machines.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _node_at(root: yaml.Node, loc: tuple[int | str, ...]) -> yaml.Node:
    """The deepest YAML node that ``loc`` reaches, for its line number."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def parse_layout(text: str, source: str = "<layout>") -> FactoryLayout:
    """Parse and validate a layout from YAML (JSON is YAML too); raise ``LayoutError`` naming the line."""
    try:
        data = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise LayoutError(f"{source}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LayoutError(f"{source}: a layout must be a mapping with 'name', 'lines' and 'machines'")
    try:
        layout = FactoryLayout.model_validate(data)
    except ValidationError as exc:
        # The node tree (for line numbers) only on this path: composing it costs as much as the load itself.
        root = yaml.compose(text, Loader=SafeLoader)
        assert root is not None  # the text loaded as a mapping
        messages = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _node_at(root, loc).start_mark.line + 1
            field = ".".join(str(p) for p in loc) or "(top level)"
            messages.append(f"{source}:{line}: {field}: {err['msg']}")
        raise LayoutError("\n".join(messages)) from exc
    _check_references(layout, source)
    return layout


def _check_references(layout: FactoryLayout, source: str) -> None:
    """Machine ids are unique and every machine's line is declared."""
    seen: set[str] = set()
    lines = {line.id for line in layout.lines}
    for i, machine in enumerate(layout.machines):
        if machine.id in seen:
            raise LayoutError(f"{source}: machines.{i}.id: duplicate machine id {machine.id!r}")
        seen.add(machine.id)
        if machine.line not in lines:
            raise LayoutError(
                f"{source}: machines.{i}.line: line {machine.line!r} is not declared in 'lines' "
                f"(declared: {', '.join(sorted(lines))})"
            )


def load_layout(path: Path | None = None) -> FactoryLayout:
    """Load the layout file at ``path``, or the built-in default factory when ``path`` is None."""
    if path is None:
        text = resources.files("factorytwin.data").joinpath(DEFAULT_LAYOUT_RESOURCE).read_text("utf-8")
        return parse_layout(text, f"<built-in {DEFAULT_LAYOUT_RESOURCE}>")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise LayoutError(f"{path}: cannot read layout file: {exc.strerror}") from exc
    return parse_layout(text, str(path))
