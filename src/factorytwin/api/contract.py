"""Write the app's OpenAPI document (with the stream's message unions) as JSON, for the browser's type generator.

``python -m factorytwin.api.contract web/src/api/openapi.json`` (``make contract``): no server, no store; the
document depends on the code only, and is written byte-for-byte the same each time, so CI can diff it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from factorytwin.api.app import create_app, openapi_document
from factorytwin.config import Settings


def contract_document() -> dict[str, Any]:
    """The OpenAPI document of the app as configured by default (settings do not change the contract)."""
    return openapi_document(create_app(Settings(mqtt_url=None)))


def contract_json() -> str:
    """The document as stable JSON text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(contract_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document to the path given (stdout without one)."""
    args = sys.argv[1:] if argv is None else argv
    text = contract_json()
    if not args:
        sys.stdout.write(text)
        return 0
    Path(args[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
