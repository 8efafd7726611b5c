"""Where the tests find the repository and the official iStandaarden example messages."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "istandaarden"
EXAMPLES_IJW = SHARED_REFERENCE / "ijw-3.2" / "voorbeeldberichten"
EXAMPLES_IWMO = SHARED_REFERENCE / "iwmo-3.2" / "voorbeeldberichten"
