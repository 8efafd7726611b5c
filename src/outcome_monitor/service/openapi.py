"""The API's OpenAPI document, committed as docs/openapi.json (a test keeps the two equal).

Regenerate after changing the API: ``.venv-pipeline/bin/python -m outcome_monitor.service.openapi``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def current_spec() -> dict[str, Any]:
    from outcome_monitor.service.app import Settings, create_app

    # The spec does not depend on the home; a throw-away one keeps this free of side effects.
    with tempfile.TemporaryDirectory() as folder:
        return create_app(Settings(Paths(Path(folder))), warm=False).openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else COMMITTED
    target.write_text(render(current_spec()), encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
