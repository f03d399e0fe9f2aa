"""Generators of corrupt and hostile inputs for every kind of file coach reads.

Each generator yields ``Case`` objects: the files to lay out in a fresh sandbox, the ``coach``
command line to run on them, and the names one of which the error line must hold. Cases are
made from real files (a real reference take with world landmarks, a real KERAAL recording, the
real sample photo and clip) by structure-aware changes (fields, array headers, archive
members, TOML values) and by blind byte damage (cuts, flips, inserted bytes). All randomness
comes from one seeded ``random.Random``, so a run is repeatable.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.library.library_helpers import FLOWING_TOML

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SQUAT_TAKE = ROOT / "reference_poses" / "squat" / "takes" / "take-001.npz"
KERAAL = SAMPLES / "keraal_lowback" / "G3-BP-ELK-P1T1-Unknown-C-0.json"
PHOTO = SAMPLES / "tfjs_squats" / "pose.jpg"
CLIP = SAMPLES / "tfjs_squats" / "pose_squats.mp4"


@dataclass(frozen=True)
class Fifo:
    """A named pipe (nothing ever writes to it: a reader that opens it blocks)."""


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (relative to the link's folder)."""

    target: str


@dataclass(frozen=True)
class Sparse:
    """A file of ``size`` bytes that takes no disk space (all zeros)."""

    size: int


@dataclass(frozen=True)
class Folder:
    """An empty folder."""


Content = bytes | Fifo | Link | Sparse | Folder


@dataclass
class Case:
    """One run of ``coach`` on generated files.

    kind: the reader family (for the counts). name: what the case does, for the report.
    files: path under the sandbox's ``in/`` -> content. library: path under ``lib/`` ->
    content (the instructor's own library). argv: the command line; ``{in}``, ``{out}`` and
    ``{lib}`` stand for the sandbox's folders. names: texts one of which the error line must
    hold (the file's name, or the option). inputs: bad inputs the case holds (a batch holds
    many). batch_good: for a batch, the name of the one good input that must be scored.
    """

    kind: str
    name: str
    argv: list[str]
    files: dict[str, Content] = field(default_factory=dict)
    library: dict[str, Content] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    inputs: int = 1
    batch_good: str | None = None
    model: bool = False


# -- base material ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bases:
    """Real files the cases are made from, read once."""

    take_npz: bytes           # a real reference take: world landmarks, 3D
    take_fields: dict[str, Any]
    json_text: str            # the same take as a JSON recording
    keraal: dict[str, Any]    # a real KERAAL recording, cut to 40 frames
    photo: bytes
    clip: bytes
    toml: str


def load_bases() -> Bases:
    from coach.recording import load_recording, recording_bytes

    take = load_recording(SQUAT_TAKE).slice(0, 40)
    npz = recording_bytes(take, "npz")
    with np.load(io.BytesIO(npz)) as data:
        fields = {k: data[k] for k in data.files}
    keraal = json.loads(KERAAL.read_text(encoding="utf-8"))
    frames = sorted(keraal["positions"], key=float)[:40]
    keraal = {"positions": {k: keraal["positions"][k] for k in frames}}
    return Bases(npz, fields, recording_bytes(take, "json").decode(), keraal,
                 PHOTO.read_bytes(), CLIP.read_bytes(), FLOWING_TOML)


# -- blind damage -----------------------------------------------------------------------------


def damaged(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """``data`` cut, flipped, overwritten or padded at random places."""
    how = rng.choice(("cut", "flip", "flips", "insert", "zeros", "dup", "tail"))
    n = len(data)
    if how == "cut":
        at = rng.randrange(0, n)
        return f"cut at {at}", data[:at]
    out = bytearray(data)
    if how in ("flip", "flips"):
        for _ in range(1 if how == "flip" else rng.randint(2, 40)):
            at = rng.randrange(n)
            out[at] ^= 1 << rng.randrange(8)
        return how, bytes(out)
    if how == "insert":
        at = rng.randrange(n)
        return f"insert at {at}", bytes(out[:at] + rng.randbytes(rng.randint(1, 64)) + out[at:])
    if how == "zeros":
        at = rng.randrange(n)
        return f"zeros at {at}", bytes(out[:at] + bytes(min(256, n - at)) + out[at + 256:])
    if how == "dup":
        at = rng.randrange(n)
        return f"dup at {at}", bytes(out[:at] + out[at:at + 512] + out[at:])
    return "random tail", bytes(out[: n // 2]) + rng.randbytes(n // 2)


# -- hostile values ---------------------------------------------------------------------------

#: JSON texts of hostile values, dropped into fields.
HOSTILE_JSON = [
    "null", "true", "-1", "0", "1e400", "-1e400", "NaN", "Infinity", '""', '"x"',
    '"\\u001b[2J\\u001b[31m"', "[]", "{}", "[[[]]]", "9" * 400, "-" + "9" * 5000, "5e-324",
    "1.7e308", "[" * 900 + "]" * 900, '"' + "a" * 100_000 + '"', "[1, 2, 3]",
    "[[0.1, 0.2, 0.3]]", '{"a": 1}', "123456789012345678901234567890", "-0.0",
    "[" + ", ".join(["1e308"] * 50) + "]",
]


def _with_field(text: str, key: str, value: str) -> str:
    data = json.loads(text)
    data[key] = "@@HOSTILE@@"
    return json.dumps(data).replace('"@@HOSTILE@@"', value)


# -- npz recordings ---------------------------------------------------------------------------


def npz_of(fields: dict[str, Any], *, method: int = zipfile.ZIP_DEFLATED,
           raw: dict[str, bytes] | None = None) -> bytes:
    """An ``.npz`` of ``fields`` (arrays), plus members given as raw bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for key, value in fields.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            zf.writestr(f"{key}.npy", member.getvalue())
        for name, data in (raw or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], descr: str, data: bytes = b"") -> bytes:
    """An ``.npy`` whose header claims ``shape`` and ``descr``, followed by ``data``."""
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + data


def patch_member(data: bytes, *, flags: int | None = None, method: int | None = None) -> bytes:
    """``data`` (a zip) with its first member's flag bits or method rewritten in both
    headers, as an encrypting or deflate64 tool would write them."""
    out = bytearray(data)
    for start, flag_at, method_at in ((0, 6, 8), (out.find(b"PK\x01\x02"), 8, 10)):
        if start < 0:
            continue
        if flags is not None:
            out[start + flag_at:start + flag_at + 2] = flags.to_bytes(2, "little")
        if method is not None:
            out[start + method_at:start + method_at + 2] = method.to_bytes(2, "little")
    return bytes(out)


def npz_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, bytes]]:
    """Structure-aware hostile ``.npz`` recordings, then blind damage of a good one."""
    f = bases.take_fields
    n = len(f["timestamps_ms"])

    def changed(**changes: Any) -> bytes:
        return npz_of({**f, **changes})

    yield "bare npy named npz", npy_header((n, 33, 3), "<f8", f["image_xyz"].tobytes())
    yield "header claims 1e12 frames", npz_of(
        {k: v for k, v in f.items() if k != "image_xyz"},
        raw={"image_xyz.npy": npy_header((10**12, 33, 3), "<f8", b"\0" * 64)})
    yield "header claims 2**62 elements", npz_of(
        {k: v for k, v in f.items() if k != "visibility"},
        raw={"visibility.npy": npy_header((2**31, 2**31), "<f8")})
    yield "object dtype", npz_of({k: v for k, v in f.items() if k != "fps"},
                                 raw={"fps.npy": npy_header((), "|O", b"\x80\x04K\x01.")})
    yield "complex dtype", changed(image_xyz=f["image_xyz"].astype(np.complex128))
    yield "unicode landmarks", changed(image_xyz=np.full((n, 33, 3), "x"))
    yield "huge text source", changed(source=np.array("s" * 100_000))
    yield "encrypted member", patch_member(bases.take_npz, flags=0x1)
    yield "deflate64 member", patch_member(bases.take_npz, method=9)
    yield "bzip2 member", npz_of(f, method=zipfile.ZIP_BZIP2)
    yield "lzma member", npz_of(f, method=zipfile.ZIP_LZMA)
    yield "member not npy", npz_of(f, raw={"evil.txt": b"hello"})
    yield "member path traversal", npz_of(f, raw={"../../escape.npy": b"x"})
    yield "empty zip", npz_of({})
    yield "inf timestamps", changed(timestamps_ms=np.linspace(-1.0, 1.0, n) * 1.7e308)
    yield "huge last timestamp", changed(timestamps_ms=np.r_[f["timestamps_ms"][:-1], 1e300])
    yield "denormal steps", changed(timestamps_ms=np.arange(n) * 5e-324)
    yield "nan timestamps", changed(timestamps_ms=np.full(n, np.nan))
    yield "inf landmarks", changed(world_xyz=np.full((n, 33, 3), np.inf))
    yield "huge landmarks", changed(image_xyz=np.full((n, 33, 3), 1e300))
    yield "nan fps", changed(fps=np.array(np.nan))
    yield "zero fps", changed(fps=np.array(0.0))
    yield "huge fps", changed(fps=np.array(1e308))
    yield "negative visibility", changed(visibility=-f["visibility"])
    yield "no frames", changed(image_xyz=np.zeros((0, 33, 3)), visibility=np.zeros((0, 33)),
                               timestamps_ms=np.zeros(0), world_xyz=np.zeros((0, 33, 3)),
                               people_seen=np.zeros(0))
    yield "wrong landmark count", changed(image_xyz=f["image_xyz"][:, :17])
    yield "huge image size", changed(image_size=np.array([2**62, 2**62]))
    yield "negative people", changed(people_seen=-np.ones(n, dtype=np.int64))
    yield "version 2", changed(version=np.array(2))
    yield "format other", changed(format=np.array("other"))
    yield "bool arrays", changed(visibility=np.ones((n, 33), dtype=bool))
    yield "uint8 timestamps", changed(timestamps_ms=np.arange(n, dtype=np.uint8))
    for _ in range(450):
        how, data = damaged(rng, bases.take_npz)
        yield f"damaged npz ({how})", data
    for _ in range(60):
        key = rng.choice(sorted(f))
        value = rng.choice([np.array(np.nan), np.array("x"), np.zeros(3), np.zeros((2, 2)),
                            np.array(-1), np.full(n, 1e308), np.array(True)])
        yield f"field {key} replaced", changed(**{key: value})


# -- JSON recordings --------------------------------------------------------------------------


def json_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, bytes]]:
    text = bases.json_text
    keys = sorted(json.loads(text))
    yield "nested 1000 deep", ("[" * 1000 + "]" * 1000).encode()
    yield "object nested 1000 deep", ('{"a":' * 1000 + "1" + "}" * 1000).encode()
    yield "top-level array", b"[1, 2, 3]"
    yield "top-level string", b'"coach-landmarks"'
    yield "not utf-8", b"\xff\xfe" + text.encode("utf-16-le")
    yield "utf-8 bom", b"\xef\xbb\xbf" + text.encode()
    yield "empty", b""
    yield "whitespace", b"   \n\t "
    yield "400-digit timestamp", _with_field(text, "timestamps_ms", "[" + "9" * 400 + "]").encode()
    data = json.loads(text)
    data["timestamps_ms"] = [i * 5e-324 for i in range(len(data["timestamps_ms"]))]
    yield "denormal timestamps", json.dumps(data).encode()
    data = json.loads(text)
    data["timestamps_ms"][-1] = 1e300
    yield "huge last timestamp", json.dumps(data).encode()
    data = json.loads(text)
    data["source"] = "/etc/passwd\n\x1b[2J"
    data["fps"] = -1
    yield "embedded source", json.dumps(data).encode()
    for value in HOSTILE_JSON:
        for key in keys:
            if rng.random() < 0.35:
                yield f"{key} = {value[:20]}", _with_field(text, key, value).encode()
    for _ in range(450):
        how, damaged_bytes = damaged(rng, text.encode())
        yield f"damaged json ({how})", damaged_bytes


def keraal_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, bytes]]:
    base = bases.keraal
    frames = sorted(base["positions"], key=float)
    first = base["positions"][frames[0]]

    def with_positions(positions: Any) -> bytes:
        return json.dumps({"positions": positions}).encode()

    yield "positions is a list", with_positions([first] * 3)
    yield "positions is null", with_positions(None)
    yield "no frames", with_positions({})
    yield "frame named nan", with_positions({"nan": first, "1": first})
    yield "frame named 1e400", with_positions({"0": first, "1e400": first})
    yield "frame 400 digits", with_positions({"0": first, "9" * 400: first})
    yield "frames 1e-300 apart", with_positions({"0": first, "1e-300": first})
    yield "duplicate frame numbers", with_positions({"0": first, "0.0": first})
    yield "frame is a list", with_positions({"0": [0.5, 0.5, 0]})
    yield "unknown landmark", with_positions({"0": {"Tail": [0, 0, 0]}})
    yield "landmark of 2 values", with_positions({"0": {"Nose": [0.5, 0.5]}})
    yield "landmark nested", with_positions({"0": {"Nose": [[0.5], [0.5], [0]]}})
    yield "landmark huge int", with_positions({"0": {"Nose": [10**400, 0, 0]}})
    yield "landmark text", with_positions({"0": {"Nose": "up"}})
    yield "landmark escapes", with_positions({"0": {"\x1b[2JNose": [0, 0, 0]}})
    yield "frame numbers 1e300 apart", with_positions({"0": first, "1e300": first})
    many = {str(i): {"Nose": [0.5, 0.5, 0.0]} for i in range(250_000)}
    yield "250000 frames", with_positions(many)
    text = json.dumps(base)
    for _ in range(160):
        how, damaged_bytes = damaged(rng, text.encode())
        yield f"damaged keraal ({how})", damaged_bytes
    for _ in range(40):
        positions = {k: dict(v) for k, v in base["positions"].items()}
        frame = rng.choice(frames)
        name = rng.choice(sorted(positions[frame]))
        positions[frame][name] = "@@HOSTILE@@"
        value = rng.choice(HOSTILE_JSON)
        yield f"keraal {name} = {value[:20]}", with_positions(positions).replace(
            b'"@@HOSTILE@@"', value.encode())


# -- images and videos ------------------------------------------------------------------------


def png(width: int, height: int, rows: int = 4) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` (grey, 8 bits), holding only
    the first ``rows`` rows of data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    data = zlib.compress(b"\0" * (1 + width) * rows, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                                0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def bmp(width: int, height: int) -> bytes:
    """A BMP header declaring ``width`` x ``height`` at 24 bits, with hardly any pixels."""
    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 16, 2835, 2835, 0, 0)
    return header + info + b"\0" * 16


def image_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, dict[str, Content]]]:
    """Image folders (file name -> content)."""
    yield "16000x16000 png", {"a.png": png(16000, 16000)}
    yield "100000x100000 png", {"a.png": png(100_000, 100_000)}
    yield "65535x65535 bmp", {"a.bmp": bmp(65535, 65535)}
    yield "negative bmp", {"a.bmp": bmp(-5, -70000)}
    yield "empty image", {"a.jpg": b""}
    yield "text as jpg", {"a.jpg": b"not an image at all\n"}
    yield "fifo as png", {"a.png": Fifo(), "b.png": png(32, 32, 32)}
    yield "link loop as jpg", {"a.jpg": Link("b.jpg"), "b.jpg": Link("a.jpg")}
    yield "folder as jpg", {"a.jpg": Folder()}
    yield "sparse 3 GB jpg", {"a.jpg": Sparse(3 * 1024**3)}
    yield "photo then junk", {"a.jpg": bases.photo, "b.jpg": b"\xff\xd8\xff junk"}
    for _ in range(40):
        how, data = damaged(rng, bases.photo)
        yield f"damaged photo ({how})", {"a.jpg": data}


def video_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, Content]]:
    yield "empty", b""
    yield "text", b"this is not a video\n"
    yield "fifo", Fifo()
    yield "link loop", Link("loop.mp4")
    yield "folder named mp4", Folder()
    yield "sparse 3 GB", Sparse(3 * 1024**3)
    yield "png named mp4", png(16000, 16000)
    yield "mp4 header only", bases.clip[:64]
    for _ in range(40):
        how, data = damaged(rng, bases.clip)
        yield f"damaged clip ({how})", data


# -- exercise folders, archives, metadata -----------------------------------------------------


def toml_variants(rng: random.Random, bases: Bases) -> Iterator[tuple[str, Content]]:
    toml = bases.toml
    yield "5000-digit integer", toml.replace("= 2.0", "= " + "9" * 5000)
    yield "400-digit integer", toml.replace("= 2.0", "= " + "9" * 400)
    yield "400-digit version", toml.replace("format_version = 1", "format_version = "
                                            + "9" * 400)
    yield "nested 1000 deep", "x = " + "[" * 1000 + "]" * 1000 + "\n"
    yield "inline tables 800 deep", "x = " + "{a = " * 800 + "1" + "}" * 800 + "\n"
    yield "fifo", Fifo()
    yield "folder", Folder()
    yield "link to itself", Link("exercise.toml")
    yield "sparse 2 GB", Sparse(2 * 1024**3)
    yield "escapes in name", toml.replace('"Test flow"', '"\\u001b[2J\\u001b]0;pwned\\u0007"')
    yield "newline in name", toml.replace('"Test flow"', '"two\\nlines"')
    yield "nan weight", toml.replace("= 2.0", "= nan")
    yield "inf tolerance", toml.replace("= 10.0", "= inf")
    yield "not utf-8", toml.encode("utf-16")
    yield "binary", rng.randbytes(300)
    yield "hold on flowing", toml + "\n[hold]\nseconds = 1e308\n"
    values = ["1e400", "-0", "nan", '""', '"\\u0000"', "[]", "{}", "true", "9" * 300,
              "1979-05-27T07:32:00Z", '"""' + "a" * 10_000 + '"""']
    for line in toml.splitlines():
        if " = " in line and rng.random() < 0.8:
            key = line.split(" = ")[0]
            for value in rng.sample(values, 3):
                yield f"{key} = {value[:12]}", toml.replace(line, f"{key} = {value}")
    for _ in range(40):
        how, data = damaged(rng, toml.encode())
        yield f"damaged toml ({how})", data


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive of ``members`` (name -> bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def archive_variants(rng: random.Random, bases: Bases,
                     takes: list[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Exercise archives (as ``coach references export`` writes them) made hostile."""
    toml = bases.toml.encode()
    archive = zip_of
    good = archive({"fz/exercise.toml": toml, "fz/takes/take-001.npz": bases.take_npz})
    yield "encrypted member", patch_member(good, flags=0x1)
    yield "deflate64 member", patch_member(good, method=9)
    yield "bzip2", archive({"fz/exercise.toml": toml}, zipfile.ZIP_BZIP2)
    yield "license bomb", archive({"fz/exercise.toml": toml, "fz/LICENSE": bytes(40 * 1024**2)})
    yield "take bomb", archive({"fz/exercise.toml": toml,
                                "fz/takes/take-001.npz": bytes(30 * 1024**2)})
    yield "path traversal", archive({"fz/exercise.toml": toml, "fz/../../../etc/x": b"x"})
    yield "absolute path", archive({"/etc/fz/exercise.toml": toml})
    yield "two tops", archive({"a/exercise.toml": toml, "b/exercise.toml": toml})
    yield "slug with newline", archive({"fz\n/exercise.toml": toml})
    yield "slug with escape", archive({"\x1b[2J/exercise.toml": toml})
    yield "backslashes", archive({"fz\\exercise.toml": toml})
    yield "many members", archive({f"fz/takes/take-{i:03d}.npz": b"x" for i in range(1200)})
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        zf.writestr("fz/exercise.toml", toml)
        zf.writestr("fz/exercise.toml", b"name = 1")
    yield "duplicate names", buffer.getvalue()
    buffer = io.BytesIO(good)
    with zipfile.ZipFile(buffer, "a") as zf:
        info = zipfile.ZipInfo("fz/LICENSE")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    yield "symlink member", buffer.getvalue()
    for name, take in takes:
        yield f"take: {name}", archive({"fz/exercise.toml": toml, "fz/takes/take-001.npz": take})
    for name, text in toml_variants(rng, bases):
        if isinstance(text, str | bytes):
            data = text.encode() if isinstance(text, str) else text
            yield f"metadata: {name}", archive({"fz/exercise.toml": data})
    for _ in range(40):
        how, data = damaged(rng, good)
        yield f"damaged archive ({how})", data


# -- imported skeletons (UI-PRMD Kinect) ------------------------------------------------------

UIPRMD_POSITIONS, UIPRMD_ANGLES = "m01_s01_e01_positions.txt", "m01_s01_e01_angles.txt"


def _uiprmd_table(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{v:.4f}" for v in row) for row in rows).encode() + b"\n"


def uiprmd_variants(rng: random.Random) -> Iterator[tuple[str, dict[str, Content]]]:
    """UI-PRMD repetitions (a positions file and its angles file, 22 joints x 3 values per
    line), made hostile."""
    frames = 30
    positions = np.tile(np.r_[[0.0, 90.0, 200.0], np.tile([0.0, 10.0, 0.0], 21)], (frames, 1))
    positions += rng.random() * np.linspace(0, 1, frames)[:, None]
    angles = np.zeros((frames, 66))
    good_p, good_a = _uiprmd_table(positions), _uiprmd_table(angles)

    def pair(p: Content, a: Content = good_a) -> dict[str, Content]:
        return {UIPRMD_POSITIONS: p, UIPRMD_ANGLES: a}

    yield "no angles file", {UIPRMD_POSITIONS: good_p}
    yield "angles a fifo", pair(good_p, Fifo())
    yield "positions a fifo", pair(Fifo())
    yield "angles a link loop", pair(good_p, Link(UIPRMD_ANGLES))
    yield "fewer angles", pair(good_p, _uiprmd_table(angles[:10]))
    yield "65 columns", pair(_uiprmd_table(positions[:, :65]))
    yield "nan", pair(good_p.replace(b"10.0000", b"nan", 3))
    yield "inf", pair(good_p.replace(b"10.0000", b"1e400", 3))
    yield "huge offsets", pair(good_p.replace(b"10.0000", b"1e300"))
    yield "400 digits", pair(good_p.replace(b"10.0000", b"9" * 400, 1))
    yield "empty", pair(b"")
    yield "not ascii", pair(good_p.replace(b"0.0000", "０".encode(), 5))
    yield "200000 lines", pair(b"0," * 65 + b"0\n" * 200_000)
    yield "sparse 3 GB", pair(Sparse(3 * 1024**3))
    for _ in range(40):
        how, data = damaged(rng, good_p)
        yield f"damaged positions ({how})", pair(data)
    for _ in range(20):
        how, data = damaged(rng, good_a)
        yield f"damaged angles ({how})", pair(good_p, data)


# -- history databases ------------------------------------------------------------------------


def history_variants(rng: random.Random) -> Iterator[tuple[str, Content]]:
    def database(statements: list[str]) -> bytes:
        connection = sqlite3.connect(":memory:")
        for statement in statements:
            connection.execute(statement)
        connection.commit()
        data = connection.serialize()
        connection.close()
        return data

    yield "empty file", b""
    yield "text", b"not a database\n"
    yield "fifo", Fifo()
    yield "folder", Folder()
    yield "link loop", Link("history.sqlite3")
    yield "foreign tables", database(["CREATE TABLE people (name TEXT)"])
    yield "sessions of the wrong shape", database(["CREATE TABLE sessions (x)",
                                                   "INSERT INTO sessions VALUES (1)"])
    yield "newer schema", database(["PRAGMA user_version = 999",
                                    "CREATE TABLE sessions (id INTEGER PRIMARY KEY)"])
    sessions = database(["CREATE TABLE sessions (id INTEGER PRIMARY KEY, exercise TEXT, "
                         "started TEXT, score REAL)",
                         "INSERT INTO sessions VALUES (1, '\x1b[2J', 'yesterday', 1e308)"])
    yield "odd sessions", sessions
    for _ in range(20):
        how, data = damaged(rng, sessions)
        yield f"damaged database ({how})", data


# -- the cases --------------------------------------------------------------------------------

SCORE_WORLD = ["score", "{in}/%s", "--exercise", "squat"]
SCORE_PLANE = ["score", "{in}/%s", "--exercise", "keraal-flank-stretch"]
RECORD = ["record", "fuzz-take", "--source", "{in}/%s", "--tradition", "yoga", "--description",
          "x", "--countdown", "0"]


def _file_cases(kind: str, variants: Iterator[tuple[str, Content]], filename: str,
                commands: list[list[str]], rng: random.Random, *,
                model: bool = False) -> Iterator[Case]:
    for name, content in variants:
        command = rng.choice(commands)
        argv = [a % filename if "%s" in a else a for a in command]
        yield Case(kind, name, argv, files={filename: content}, names=(filename,), model=model)


def option_cases(bases: Bases) -> Iterator[Case]:
    """Hostile option values on otherwise good inputs."""
    good = {"good.npz": bases.take_npz}
    fifo = {"good.npz": bases.take_npz, "pipe": Fifo()}
    for argv, names, files in [
        (["score", "{in}/good.npz", "--exercise", ""], ("exercise",), good),
        (["score", "{in}/good.npz", "--exercise", "\x1b[2J" * 50], ("exercise",), good),
        (["score", "{in}/good.npz", "--exercise", "x" * 100_000], ("exercise",), good),
        (["score", "{in}/good.npz", "--exercise", "../../etc"], ("exercise",), good),
        (["score", "{in}/good.npz", "--exercise", "squat", "--max-people", "0"],
         ("--max-people",), good),
        (["score", "{in}/good.npz", "--exercise", "squat", "--max-people", "9" * 5000],
         ("--max-people",), good),
        (["score", "{in}/good.npz", "--exercise", "squat", "--model", "{in}/pipe"],
         ("pipe",), fifo),
        (["score", "{in}/good.npz", "--exercise", "squat", "--library", "{in}/good.npz"],
         ("good.npz",), good),
        (["score", "{in}/good.npz", "--exercise", "squat", "--library", "{in}/pipe"],
         ("pipe",), fifo),
        (["score", "", "--exercise", "squat"], ("source", "empty", "''"), {}),
        (["extract", "{in}/good.npz", "-o", "{out}/x.npz", "--stride", "0"], ("--stride",),
         good),
        (["extract", "", "-o", "{out}/x.npz"], ("empty",), {}),
        (["extract", "9" * 5000, "-o", "{out}/x.npz"], ("camera",), {}),
        (["extract", "99999", "-o", "{out}/x.npz"], ("camera",), {}),
        (["extract", "{in}/pipe", "-o", "{out}/x.npz"], ("pipe",), fifo),
        (["batch", "{in}/good.npz", "--exercise", "squat", "-o", "{in}/good.npz/out"],
         ("good.npz",), good),
        (["batch", "{in}/good.npz", "--exercise", "squat", "-o", "{out}", "--stride", "-3"],
         ("--stride",), good),
        (["batch", "{in}/good.npz", "--exercise", "squat", "-o", "{out}", "--workers", "0"],
         ("--workers",), good),
        (["batch", "{in}/good.npz", "--exercise", "squat", "-o", "{out}", "--engine", "ray",
          "--address", "127.0.0.1:1"], ("--address",), good),
        (["record", "fuzz", "--source", "{in}/good.npz", "--duration", "nan"],
         ("--duration",), good),
        (["record", "fuzz", "--source", "{in}/good.npz", "--duration", "-1e400"],
         ("--duration",), good),
        (["record", "fuzz", "--source", "{in}/good.npz", "--countdown", "nan"],
         ("--countdown",), good),
        (["record", "evil\n", "--source", "{in}/good.npz"], ("evil",), good),
        (["record", "../escape", "--source", "{in}/good.npz"], ("escape",), good),
        (["record", "fuzz", "--source", "", "--tradition", "yoga", "--description", "x"],
         ("empty",), {}),
        (["references", "import", "{in}/pipe"], ("pipe",), fifo),
        (["references", "import", "{in}/good.npz", "--as", "evil\n"], ("evil",), good),
        (["references", "show", "squat", "-o", "{in}/good.npz/x.png"], ("good.npz",), good),
        (["references", "export", "squat", "-o", "{in}/good.npz/x.zip"], ("good.npz",), good),
        (["references", "remove", "squat"], ("squat",), {}),
        (["references", "remove", "\x1b[2J"], ("exercise",), {}),
        (["history", "--db", "{in}/good.npz/x.sqlite3"], ("good.npz",), good),
        (["history", "--exercise", "\x1b[2J", "--db", "{out}/none.sqlite3"], ("none",), {}),
        (["history", "--plot", "{in}/good.npz/p.png", "--db", "{out}/none.sqlite3"],
         ("good.npz", "none"), good),
    ]:
        yield Case("option", " ".join(a[:30] for a in argv[:6]), argv, files=files,
                   names=names)


def library_cases(rng: random.Random, bases: Bases,
                  takes: list[tuple[str, bytes]]) -> Iterator[Case]:
    """A hostile exercise folder in the instructor's library: listing, scoring against another
    exercise, and ``--exercise auto`` must go on; using it must be refused in one line."""
    tomls = list(toml_variants(rng, bases))
    good = {"good.json": KERAAL.read_bytes()}
    for i, (name, content) in enumerate(tomls):
        folder = {"fz/exercise.toml": content, "fz/takes/take-001.npz": bases.take_npz}
        command = [["references", "list"],
                   ["score", "{in}/good.json", "--exercise", "keraal-flank-stretch"],
                   ["score", "{in}/good.json", "--exercise", "fz"],
                   ["references", "show", "fz", "-o", "{out}/fz.png"]][i % 4]
        yield Case("exercise.toml", f"library: {name}", command, files=good, library=folder,
                   names=("fz",))
    for name, take in takes:
        folder = {"fz/exercise.toml": bases.toml.encode(), "fz/takes/take-001.npz": take}
        command = rng.choice([["score", "{in}/good.json", "--exercise", "fz"],
                              ["references", "list"]])
        yield Case("reference folder", f"take: {name}", command, files=good, library=folder,
                   names=("take-001.npz", "fz"))


def batch_cases(rng: random.Random, pools: dict[str, list[tuple[str, Content]]],
                bases: Bases, count: int) -> Iterator[Case]:
    """Batches of many hostile files beside one good recording: the good one is scored, every
    bad one is a row with its error, the batch ends with exit code 1."""
    for b in range(count):
        files: dict[str, Content] = {"good.json": KERAAL.read_bytes()}
        for kind, pool in pools.items():
            for i, (_, content) in enumerate(rng.sample(pool, min(6, len(pool)))):
                suffix = {"npz": ".npz", "json": ".json", "keraal": ".json"}[kind]
                files[f"{kind}-{b}-{i}{suffix}"] = content
        files["loop-a.npz"], files["loop-b.npz"] = Link("loop-b.npz"), Link("loop-a.npz")
        files['=HYPERLINK("x","y").json'] = b"{}"
        yield Case("batch", f"batch {b} of {len(files) - 1} bad inputs",
                   ["batch", "{in}", "--exercise", "keraal-flank-stretch", "-o", "{out}/batch",
                    "--workers", "1"], files=files, inputs=len(files) - 1,
                   batch_good="good.json", names=())


def all_cases(seed: int = 14) -> list[Case]:
    """Every generated case, in a stable order for one seed."""
    rng = random.Random(seed)
    bases = load_bases()
    npz = list(npz_variants(rng, bases))
    jsons = list(json_variants(rng, bases))
    keraal = list(keraal_variants(rng, bases))
    takes = rng.sample(npz, 40)
    cases: list[Case] = []
    cases += _file_cases("npz", iter(npz), "clip.npz", [SCORE_WORLD, SCORE_PLANE, RECORD], rng)
    cases += _file_cases("json", iter(jsons), "clip.json", [SCORE_WORLD, RECORD], rng)
    cases += _file_cases("keraal", iter(keraal), "keraal.json", [SCORE_PLANE, RECORD], rng)
    for name, folder in image_variants(rng, bases):
        command = rng.choice([["score", "{in}/frames", "--exercise", "squat"],
                              ["extract", "{in}/frames", "-o", "{out}/x.npz"]])
        cases.append(Case("images", name, command,
                          files={f"frames/{k}": v for k, v in folder.items()},
                          names=("frames",), model=True))
    cases += _file_cases("video", video_variants(rng, bases), "clip.mp4",
                         [SCORE_WORLD, ["extract", "{in}/clip.mp4", "-o", "{out}/x.npz"],
                          RECORD], rng, model=True)
    for name, files in uiprmd_variants(rng):
        command = rng.choice([["score", "{in}/" + UIPRMD_POSITIONS, "--exercise", "squat"],
                              [a.replace("%s", UIPRMD_POSITIONS) for a in RECORD]])
        cases.append(Case("skeleton", name, command, files=files,
                          names=(UIPRMD_POSITIONS, UIPRMD_ANGLES)))
    for name, content in toml_variants(rng, bases):
        folder = {"fz/exercise.toml": content, "fz/takes/take-001.npz": bases.take_npz}
        cases.append(Case("exercise.toml", f"import: {name}",
                          ["references", "import", "{in}/fz"], files=folder, names=("fz",)))
    for name, data in archive_variants(rng, bases, takes):
        cases.append(Case("archive", name, ["references", "import", "{in}/fz.zip"],
                          files={"fz.zip": data}, names=("fz.zip",)))
    cases += library_cases(rng, bases, takes)
    for name, content in history_variants(rng):
        command = rng.choice([["history", "--db", "{in}/history.sqlite3"],
                              ["history", "--db", "{in}/history.sqlite3", "--plot",
                               "{out}/trend.png"]])
        cases.append(Case("history", name, command, files={"history.sqlite3": content},
                          names=("history.sqlite3",)))
    cases += option_cases(bases)
    cases += batch_cases(rng, {"npz": npz, "json": jsons, "keraal": keraal}, bases, 12)
    return cases


def quick_cases(seed: int = 14, per_kind: int = 12) -> list[Case]:
    """A sample of every kind, for ``make test``: the structure-aware cases first."""
    chosen: dict[str, list[Case]] = {}
    for case in all_cases(seed):
        if case.kind == "batch" and "batch" in chosen:
            continue
        bucket = chosen.setdefault(case.kind, [])
        limit = 4 if case.model else per_kind
        if len(bucket) < limit:
            bucket.append(case)
    return [c for bucket in chosen.values() for c in bucket]

