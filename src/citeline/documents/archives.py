"""Unpack an uploaded ZIP archive into its member files, refusing archive bombs.

One level is unpacked: a ZIP inside the ZIP is reported, not opened. Member names are only labels
(stored files are content-addressed under the data dir), so no name can write outside it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_MEMBERS = 2000
MAX_RATIO = 200  # uncompressed / compressed size of one member; text compresses ~5-20x, bombs ~1000x
RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress as well as they like


@dataclass(slots=True)
class Member:
    name: str
    stream: BinaryIO


@dataclass(slots=True)
class Unpacked:
    members: list[Member] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


class ArchiveError(ValueError):
    """The archive as a whole cannot be unpacked; the message says why."""


def unpack_zip(archive_name: str, stream: BinaryIO, max_total_bytes: int) -> Unpacked:
    """Members of a ZIP as in-memory files named ``archive_name/member/path``; bad members are rejected."""
    try:
        package = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError("not a valid ZIP archive") from exc
    with package:
        infos = [info for info in package.infolist() if not info.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(f"it holds {len(infos):,} files; at most {MAX_MEMBERS:,} are unpacked")
        declared = sum(info.file_size for info in infos)
        if declared > max_total_bytes:
            raise ArchiveError(
                f"it would unpack to {declared / 1048576:.0f} MiB, over the {max_total_bytes / 1048576:.0f} "
                "MiB limit"
            )
        result = Unpacked()
        for info in infos:
            name = f"{archive_name}/{info.filename}"
            if info.flag_bits & 0x1:
                result.rejected.append((name, "the file is encrypted"))
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
                result.rejected.append((name, f"compression ratio {ratio:,.0f}:1 looks like an archive bomb"))
                continue
            try:
                with package.open(info) as member:
                    data = member.read(info.file_size + 1)  # never more than the header promised
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
                result.rejected.append((name, f"the file could not be unpacked ({type(exc).__name__})"))
                continue
            if len(data) > info.file_size:
                result.rejected.append((name, "the file is larger than the archive says"))
                continue
            result.members.append(Member(name, io.BytesIO(data)))
        return result
