"""Make an uploaded file's name safe to keep: it ends up in the inbox, the archive receipts and the report.

The name comes from the client and may carry anything: directories (``../../x.xml``, ``C:\\x``),
NUL and control characters, a leading dot (the inbox watcher would ignore the file) or ``.part``
(likewise, forever). What is left is a plain name of letters, digits and ``._-()+`` and spaces.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 120
FALLBACK_NAME = "aanlevering"
_UNSAFE_RUN = re.compile(r"[^\w.\-()+ ]+")


def safe_file_name(name: str | None, max_bytes: int = MAX_NAME_BYTES) -> str:
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")  # NUL, controls, ...
    name = re.split(r"[/\\]", name)[-1]  # only the last path part, whichever separator the client used
    name = _UNSAFE_RUN.sub("_", name.replace(":", "_"))
    name = name.strip(" .")  # no hidden file, no "..", no trailing dot
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() == "part":  # the inbox watcher waits for .part files to be renamed
        extension = "part_"
    extension = _truncate(extension, 16)
    suffix = f".{extension}" if extension else ""
    stem = _truncate(stem, max_bytes - len(suffix.encode("utf-8"))).strip(" .")
    return f"{stem}{suffix}" if stem else f"{FALLBACK_NAME}{suffix}"


def _truncate(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")[: max(max_bytes, 0)]
    return encoded.decode("utf-8", errors="ignore")
