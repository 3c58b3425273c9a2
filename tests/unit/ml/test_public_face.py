"""``factorytwin.ml``'s public face: every name it lists resolves, and naming the package loads no ML stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

import factorytwin.ml as ml


def test_every_public_name_resolves_to_its_object() -> None:
    for name in ml.__all__:
        value = getattr(ml, name)
        assert getattr(value, "__name__", name) == name, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nothing_here"):
        getattr(ml, "nothing_here")  # noqa: B009  # a name mypy would refuse to look up


def test_the_schema_module_and_the_package_import_without_the_ml_stack() -> None:
    # A fresh interpreter: this test process has loaded the stack already.
    code = (
        "import sys, factorytwin.ml, factorytwin.ml.schema;"
        "print(sorted({'lightgbm', 'pandas', 'sklearn'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
