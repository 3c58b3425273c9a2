"""What an OPC UA connector answers over the API: a browsed node's children, a command's outputs (pydantic models
kept apart from ``opcua`` so that the API imports them without loading asyncua)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class BrowsedNode(BaseModel):
    """One child of a browsed node."""

    node_id: str = Field(description="e.g. ns=2;i=5, as a mapping's node_id takes it")
    browse_name: str = Field(description="namespace index and name, e.g. 2:Flow")
    display_name: str
    node_class: str = Field(description="Object, Variable, Method, ObjectType, ...")
    data_type: str | None = Field(default=None, description="a Variable's data type, e.g. Double")


class ConnectorCommandResult(BaseModel):
    """What a command returned: a method's output arguments (none for a write)."""

    command: str
    outputs: list[Any] = Field(default_factory=list)
