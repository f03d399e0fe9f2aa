"""Small synthetic pose sequences for unit tests of pure code, and video files turned by their
display matrix, as phones store portrait videos."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from coach.pose import PoseSequence


def tiny_sequence(frames: int = 4, with_gap: bool = False) -> PoseSequence:
    """A (frames, 33, 3) sequence of random but valid landmarks; frame 2 empty if ``with_gap``."""
    rng = np.random.default_rng(7)
    image = rng.uniform(0.2, 0.8, (frames, 33, 3))
    world = rng.uniform(-0.5, 0.5, (frames, 33, 3))
    visibility = rng.uniform(0.5, 1.0, (frames, 33))
    if with_gap:
        image[2] = np.nan
        world[2] = np.nan
        visibility[2] = 0.0
    return PoseSequence(image, visibility, world, np.arange(frames) * 1000 / 30, 30.0,
                        source="synthetic", image_size=(640, 480),
                        people_seen=np.ones(frames, dtype=int))


def turn_display(src: Path, dst: Path, clockwise_degrees: int) -> None:
    """Copy the MP4 ``src`` to ``dst`` with its video shown turned by 90, 180 or 270 degrees
    clockwise: only the track header's display matrix changes (ISO 14496-12 'tkhd'), as a
    phone writes it; the stored frames stay as they are."""
    data = bytearray(src.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0, f"{src}: no track header"
    version = data[at + 4]
    # After the box type: version and flags (4), times and track id and reserved (20 or 32),
    # duration's reserved tail, layer, group, volume, reserved (16): then the 3x3 matrix.
    matrix_at = at + 4 + 4 + (32 if version == 1 else 20) + 16
    width, height = (v >> 16 for v in struct.unpack(">II", data[matrix_at + 36:matrix_at + 44]))
    one, w_last = 0x10000, 0x40000000
    matrices = {  # (a, b, u, c, d, v, x, y, w): x' = a x + c y + x0, y' = b x + d y + y0
        90: (0, one, 0, -one, 0, 0, height * one, 0, w_last),
        180: (-one, 0, 0, 0, -one, 0, width * one, height * one, w_last),
        270: (0, -one, 0, one, 0, 0, 0, width * one, w_last),
    }
    data[matrix_at:matrix_at + 36] = struct.pack(">9i", *matrices[clockwise_degrees])
    dst.write_bytes(bytes(data))
