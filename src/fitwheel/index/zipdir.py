"""A wheel's member list and one member, straight from the archive's bytes in memory.

`index build` reads thousands of small wheels; `zipfile.ZipFile` spends most of the scan's
time setting up per-member objects it does not need here. This reads the central directory
and one member with `struct` and `zlib`, for the plain archives wheel builders write. Anything
else (a comment, zip64, encryption, data before the archive, another compression method, an
entry that does not check out) answers None, and the caller uses `zipfile`, whose errors are
the ones to report.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

_END = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_ZIP64_EXTRA = 0x0001


def member_list(data: bytes) -> tuple[zipfile.ZipInfo, ...] | None:
    """The archive's members as `zipfile` would list them, or None (use `zipfile`)."""
    end = len(data) - _END.size
    if end < 0:
        return None
    signature, disk, cd_disk, on_disk, count, size, offset, comment = _END.unpack_from(data, end)
    if (
        signature != b"PK\x05\x06"
        or disk
        or cd_disk
        or comment
        or on_disk != count
        or offset + size != end
    ):
        return None
    members = []
    position = offset
    for _ in range(count):
        if position + _CENTRAL.size > end:
            return None
        fields = _CENTRAL.unpack_from(data, position)
        if fields[0] != b"PK\x01\x02":
            return None
        flags, method = fields[5], fields[6]
        name_length, extra_length, comment_length = fields[12], fields[13], fields[14]
        start = position + _CENTRAL.size
        raw_name = data[start : start + name_length]
        extra = data[start + name_length : start + name_length + extra_length]
        if flags & 0x1 or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        if b"\x00" in raw_name or _has_zip64(extra):
            return None
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        info = zipfile.ZipInfo(name)
        info.flag_bits = flags
        info.create_version, info.create_system = fields[1], fields[2]
        info.extract_version, info.reserved = fields[3], fields[4]
        info.compress_type = method
        info.CRC, info.compress_size, info.file_size = fields[9], fields[10], fields[11]
        info.external_attr, info.header_offset = fields[17], fields[18]
        members.append(info)
        position = start + name_length + extra_length + comment_length
    return tuple(members) if position == end else None


def _has_zip64(extra: bytes) -> bool:
    """Whether the extra field has a zip64 record (or is malformed)."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, position)
        if kind == _ZIP64_EXTRA:
            return True
        position += 4 + length
    return position != len(extra)


def read_member(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """One member's bytes, checked against its size and CRC, or None (use `zipfile`)."""
    offset = info.header_offset
    if offset + _LOCAL.size > len(data):
        return None
    fields = _LOCAL.unpack_from(data, offset)
    name_length, extra_length = fields[10], fields[11]
    start = offset + _LOCAL.size
    if fields[0] != b"PK\x03\x04" or fields[3] & 0x1:
        return None
    if data[start : start + name_length] != info.orig_filename.encode(
        "utf-8" if info.flag_bits & 0x800 else "cp437"
    ):
        return None
    start += name_length + extra_length
    raw = data[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        member = raw
    else:
        try:
            decompressor = zlib.decompressobj(-15)
            member = decompressor.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not decompressor.eof:
            return None
    if len(member) != info.file_size or zlib.crc32(member) != info.CRC:
        return None
    return member
