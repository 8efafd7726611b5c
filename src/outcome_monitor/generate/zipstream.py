"""A minimal streaming ZIP writer: deflate, fixed timestamps, bounded memory.

``zipfile.ZipFile`` keeps a ``ZipInfo`` per member in memory until it closes. At national scale a
bundle holds hundreds of thousands of one-client messages, so this writer spools the central
directory to a temporary file instead and appends it when the archive closes. It writes Zip64
records when an archive outgrows the classic limits (65,535 members or 4 GiB offsets), exactly as
``zipfile`` would, so every ordinary ZIP reader opens the result.

A member can also be assembled from raw deflate segments compressed earlier and separately (see
``Segment``): a JW323 message's lines are compressed while they are generated, its header (which
holds the total) only at the end. Each segment ends on a byte boundary without the final-block bit,
so their concatenation is one valid deflate stream; ``crc32_combine`` joins their checksums.

Deflate level 1 throughout: compression is the largest single cost of a national-size run, and level
6 saves about a tenth of the size for two to three times the time.

Output is a pure function of the calls made: no clock, no file-system metadata.
"""

from __future__ import annotations

import functools
import os
import struct
import zlib
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_ZIP64_EXTRA_OFFSET = struct.Struct("<HHQ")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_END64_LOCATOR = struct.Struct("<IIQI")

_VERSION = 20  # 2.0: deflate
_VERSION_ZIP64 = 45
_EXTERNAL_ATTR = (0o100644 << 16) & 0xFFFFFFFF  # a regular file, rw-r--r-- (made by: unix)
_DEFLATED = 8
_U32 = 0xFFFFFFFF
_U16 = 0xFFFF

LEVEL = 1
# A 4 KiB window and small hash table: a deflate state is set up per small member (1-3 kB) and a
# full-size one costs more to set up than it saves; segment compressors live one per JW323 message.
_WBITS, _MEMLEVEL = -12, 5
_ZEROS = bytes(1 << 16)


def compressor() -> zlib._Compress:
    """A raw deflate compressor as the writer uses it."""
    return zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, _MEMLEVEL)


class Segment:
    """Raw deflate of a run of bytes that ``ZipStreamWriter.write_segments`` can join to others.

    Feed it with ``add``; take the compressed output with ``take`` (any time) and, at the end,
    ``close`` (``final=True`` for the last segment of a member).
    """

    __slots__ = ("_comp", "crc", "size")

    def __init__(self) -> None:
        self._comp = compressor()
        self.crc = 0
        self.size = 0

    def add(self, data: bytes) -> bytes:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self._comp.compress(data)

    def close(self, final: bool) -> bytes:
        return self._comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)

    @staticmethod
    def of(data: bytes, final: bool) -> tuple[bytes, int, int]:
        """(compressed, crc, size) of one whole segment."""
        seg = Segment()
        out = seg.add(data)
        return out + seg.close(final), seg.crc, seg.size


def crc32_combine(crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC-32 of ``a + b`` from the CRC-32s of ``a`` and ``b`` and the length of ``b``.

    CRC-32 is affine in its register, so crc(a + b) = crc(b) xor M**len_b (crc(a)), and the matrix
    power is what running the register of crc(a) over ``len_b`` zero bytes does. zlib computes that
    at gigabytes per second, so this is cheap next to compressing ``b``.
    """
    register = ~crc_a & _U32
    while len_b:
        n = min(len_b, len(_ZEROS))
        register = zlib.crc32(memoryview(_ZEROS)[:n], register)
        len_b -= n
    return crc_b ^ (~register & _U32)


@functools.lru_cache(maxsize=4096)
def _dos_time(day: date) -> tuple[int, int]:
    """DOS (time, date) for noon on ``day``: members carry their message's Dagtekening as timestamp."""
    return (12 << 11), ((day.year - 1980) << 9) | (day.month << 5) | day.day


class ZipStreamWriter:
    """Write members one after another to ``path``; ``close`` appends the central directory.

    The archive is written as ``<path>.part`` and renamed to ``path`` when complete, so a watcher
    never sees half a file.
    """

    def __init__(self, path: Path, spool_dir: Path) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part")
        self._fh: BinaryIO = open(self._part, "wb")  # noqa: SIM115 - closed in close()
        self._cd_path = spool_dir / f"{path.name}.cd"
        self._cd: BinaryIO = open(self._cd_path, "wb")  # noqa: SIM115 - closed in close()
        self._offset = 0
        self._count = 0

    def write(self, name: str, data: bytes, day: date) -> None:
        """Add one member whose whole content is in memory."""
        comp = compressor()
        payload = comp.compress(data) + comp.flush()
        raw_name = name.encode("ascii")
        dos_time, dos_date = _dos_time(day)
        offset = self._offset
        crc = zlib.crc32(data)
        header = _LOCAL.pack(
            0x04034B50, _VERSION, 0, _DEFLATED, dos_time, dos_date, crc, len(payload), len(data), len(raw_name), 0
        )
        self._fh.write(header + raw_name + payload)
        self._add_central(raw_name, dos_time, dos_date, crc, len(payload), len(data), offset)
        self._offset = offset + len(header) + len(raw_name) + len(payload)
        self._count += 1

    def write_chunks(self, name: str, chunks: Iterable[bytes], day: date) -> None:
        """Add one member from a stream of uncompressed chunks, without holding it in memory."""
        seg = Segment()

        def compressed() -> Iterable[bytes]:
            for chunk in chunks:
                yield seg.add(chunk)
            yield seg.close(final=True)

        self._write_streamed(name, day, compressed(), lambda: (seg.crc, seg.size))

    def write_segments(self, name: str, compressed: Iterable[bytes], crc: int, size: int, day: date) -> None:
        """Add one member from already compressed raw deflate data (joined ``Segment`` output).

        ``crc`` and ``size`` describe the uncompressed content; the last segment must be final.
        """
        self._write_streamed(name, day, compressed, lambda: (crc, size))

    def _write_streamed(
        self, name: str, day: date, compressed: Iterable[bytes], checksum: Callable[[], tuple[int, int]]
    ) -> None:
        raw_name = name.encode("ascii")
        offset = self._offset
        dos_time, dos_date = _dos_time(day)
        header = _LOCAL.pack(0x04034B50, _VERSION, 0, _DEFLATED, dos_time, dos_date, 0, 0, 0, len(raw_name), 0)
        self._fh.write(header + raw_name)
        csize = 0
        for out in compressed:
            if out:
                csize += len(out)
                self._fh.write(out)
        crc, size = checksum()
        if size > _U32 or csize > _U32:
            raise ValueError(f"{name}: a single message larger than 4 GiB is not supported")
        # Patch CRC and sizes into the local header (the archive is a seekable file).
        end = offset + len(header) + len(raw_name) + csize
        self._fh.seek(offset + 14)
        self._fh.write(struct.pack("<III", crc, csize, size))
        self._fh.seek(end)
        self._add_central(raw_name, dos_time, dos_date, crc, csize, size, offset)
        self._offset = end
        self._count += 1

    def _add_central(
        self, raw_name: bytes, dos_time: int, dos_date: int, crc: int, csize: int, size: int, offset: int
    ) -> None:
        extra = b""
        version = _VERSION
        if offset >= _U32:
            extra = _ZIP64_EXTRA_OFFSET.pack(0x0001, 8, offset)
            offset = _U32
            version = _VERSION_ZIP64
        self._cd.write(
            _CENTRAL.pack(
                0x02014B50, (3 << 8) | version, version, 0, _DEFLATED, dos_time, dos_date, crc, csize, size,
                len(raw_name), len(extra), 0, 0, 0, _EXTERNAL_ATTR, offset,
            )
            + raw_name
            + extra
        )  # fmt: skip

    def close(self) -> None:
        self._cd.close()
        cd_offset = self._offset
        cd_size = 0
        with open(self._cd_path, "rb") as cd:
            while chunk := cd.read(1 << 20):
                self._fh.write(chunk)
                cd_size += len(chunk)
        os.unlink(self._cd_path)
        end_offset = cd_offset + cd_size
        if self._count >= _U16 or cd_offset >= _U32 or cd_size >= _U32:
            made_by = (3 << 8) | _VERSION_ZIP64
            self._fh.write(
                _END64.pack(0x06064B50, 44, made_by, _VERSION_ZIP64, 0, 0, self._count, self._count, cd_size, cd_offset)
            )
            self._fh.write(_END64_LOCATOR.pack(0x07064B50, 0, end_offset, 1))
            self._fh.write(_END.pack(0x06054B50, 0, 0, _U16, _U16, _U32, _U32, 0))
        else:
            self._fh.write(_END.pack(0x06054B50, 0, 0, self._count, self._count, cd_size, cd_offset, 0))
        self._fh.close()
        os.replace(self._part, self.path)
