"""Frame sources behind one interface: a camera (index or URL), a video file, a folder of images.

Every source yields ``Frame`` objects with RGB pixels and a timestamp in milliseconds, and
releases its handle on every exit path (use it as a context manager, or iterate it to the end).
Video timestamps come from the container (presentation time), never from a frame counter.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from coach.errors import InputError
from coach.pose import MAX_TIMESTAMP_MS
from coach.text import printable

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg"})
#: Nominal rate given to an image folder, whose files carry no time (frames per second).
IMAGE_FOLDER_FPS = 30.0
#: Two times closer than this (ms) name the same frame.
SAME_FRAME_MS = 0.5
#: A video whose decoded frames fall short of this share of the frames its container declares
#: is reported as possibly truncated.
TRUNCATED_SHARE = 0.98
#: Camera indexes have at most this many digits (OpenCV counts cameras from 0).
MAX_CAMERA_DIGITS = 3
#: Largest frame read, in pixels (8K is 33 million): one RGB frame then takes up to 120 MB.
#: A small file can declare a huge picture (a 748 kB PNG of 16000x16000 decodes to 768 MB),
#: so sizes are read from the header and checked before anything is decoded.
MAX_FRAME_PIXELS = 40_000_000


class Frame:
    """One picture from a source.

    rgb: (H, W, 3) uint8 pixels, RGB order. Given as a function, the pixels are made on first
    use: video files and image folders convert (or read) only the frames someone looks at,
    so the frames ``--stride`` passes over cost no conversion.
    timestamp_ms: when the frame was shown (container time) or captured (camera), in ms.
    index: position of the frame in the source, from 0.
    """

    __slots__ = ("_pixels", "timestamp_ms", "index")

    def __init__(self, rgb: np.ndarray | Callable[[], np.ndarray], timestamp_ms: float,
                 index: int) -> None:
        self._pixels = rgb
        self.timestamp_ms = timestamp_ms
        self.index = index

    def __repr__(self) -> str:
        made = "made" if not callable(self._pixels) else "not yet made"
        return f"Frame(index={self.index}, timestamp_ms={self.timestamp_ms}, pixels {made})"

    @property
    def rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB pixels, made now if not yet made. The first use must come from
        one thread at a time (a source's reading thread, or whoever it hands the frame to)."""
        if callable(self._pixels):
            self._pixels = self._pixels()
        return self._pixels

    def at(self, timestamp_ms: float) -> Frame:
        """This picture at another time; pixels not yet made are still made only when used
        (by whichever of the two frames is used)."""
        return Frame(self._pixels, timestamp_ms, self.index)


class FrameSource(Protocol):
    """What every source offers: iteration over frames, a rate, a name, and ``close``."""

    name: str
    fps: float
    frame_count: int | None
    is_live: bool
    still_images: bool

    def __iter__(self) -> Iterator[Frame]: ...
    def close(self) -> None: ...
    def __enter__(self) -> FrameSource: ...
    def __exit__(self, *exc: object) -> None: ...


class _ClosingSource:
    """Context-manager plumbing shared by the sources."""

    def __enter__(self):  # noqa: ANN204 - returns the concrete source
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


@contextlib.contextmanager
def iterating(frames: Iterable[Frame]) -> Generator[Iterator[Frame], None, None]:
    """The iterator over ``frames``, closed on leaving the block however it is left (a
    generator's ``finally`` runs then, so a video file is released by the thread that decodes
    it, not by the garbage collector)."""
    iterator = iter(frames)
    try:
        yield iterator
    finally:
        close = getattr(iterator, "close", None)
        if callable(close):
            close()


def usable_cores() -> int:
    """CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class VideoFileSource(_ClosingSource):
    """A video file decoded with PyAV; timestamps are the frames' presentation times.

    decode_threads: FFmpeg decoder threads. The default leaves one core to the pose model,
    which runs beside the decoder: on a two-core machine decoding is single-threaded, the
    cheapest in CPU time, and still several times faster than the model.
    """

    is_live = False
    still_images = False

    def __init__(self, path: str | Path, decode_threads: int | None = None) -> None:
        import av

        self.path = Path(path)
        self.name = str(self.path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: " + ("not a regular file" if self.path.exists()
                                                 else "no such video file"))
        if self.path.stat().st_size == 0:
            raise InputError(f"{self.path}: the file is empty (0 bytes)")
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path}: not a readable video ({_short(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path}: the file has no video stream")
        self._stream = self._container.streams.video[0]
        threads = usable_cores() - 1 if decode_threads is None else decode_threads
        threads = max(1, threads)
        if threads > 1:
            self._stream.thread_type = "AUTO"
        self._stream.codec_context.thread_count = threads
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 30.0
        self.frame_count = int(self._stream.frames) or None
        self._decoded_count = 0
        self._stopped_by: str | None = None
        self._stored_size = (int(self._stream.codec_context.width),
                             int(self._stream.codec_context.height))
        if self._stored_size[0] * self._stored_size[1] > MAX_FRAME_PIXELS:
            self._container.close()
            raise InputError(f"{self.path}: frames of {self._stored_size[0]}x"
                             f"{self._stored_size[1]} pixels are larger than the "
                             f"{MAX_FRAME_PIXELS} pixels allowed")

    def __iter__(self) -> Iterator[Frame]:
        try:
            for frame, timestamp_ms, index in self._decoded():
                yield Frame(functools.partial(_packed_rgb, frame), timestamp_ms, index)
        finally:
            self.close()

    def frames_at(self, times_ms: Iterable[float]) -> Iterator[Frame]:
        """The frames shown at ``times_ms`` (as ``Frame.timestamp_ms`` gives them, within
        ``SAME_FRAME_MS``), in time order; times no frame has are passed over.

        Only these frames are converted to RGB, and where a keyframe lies between one wanted
        frame and the next, decoding jumps to it instead of decoding every frame on the way.
        """
        targets = iter(sorted(set(times_ms)))
        target = next(targets, None)
        timeline = self._timeline() if target is not None else None
        decoded = self._decoded()
        position_ms = -np.inf if timeline is None else timeline[0][0]  # decoded up to here
        try:
            while target is not None:
                if timeline is not None:
                    times, keys = timeline
                    before = np.searchsorted(keys, target + SAME_FRAME_MS) - 1
                    if before >= 0 and keys[before] > position_ms + SAME_FRAME_MS:
                        decoded.close()
                        self._container.seek(
                            int(round(keys[before] / 1000.0 / self._stream.time_base)),
                            stream=self._stream, backward=True)
                        decoded = self._decoded(start_index=int(np.searchsorted(times,
                                                                                keys[before])))
                reached = next((d for d in decoded if d[1] > target - SAME_FRAME_MS), None)
                if reached is None:
                    return
                frame, position_ms, index = reached
                while target is not None and target < position_ms - SAME_FRAME_MS:
                    target = next(targets, None)  # no frame at that time
                if target is not None and abs(position_ms - target) < SAME_FRAME_MS:
                    yield Frame(_packed_rgb(frame), position_ms, index)
                    target = next(targets, None)
        finally:
            decoded.close()
            self.close()

    def _decoded(self, start_index: int = 0
                 ) -> Generator[tuple[object, float, int], None, None]:
        """(PyAV frame, timestamp in ms, index) from the decoder's position on; times strictly
        increase. Raises InputError when not one frame decodes."""
        import av

        index = start_index
        last_ms = -np.inf
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is None or self._stream.time_base is None:
                    timestamp_ms = index * 1000.0 / self.fps
                else:
                    timestamp_ms = float(frame.pts * self._stream.time_base) * 1000.0
                if timestamp_ms <= last_ms:  # a repeated or reordered time: keep order strict
                    timestamp_ms = last_ms + 1.0
                if not abs(timestamp_ms) <= MAX_TIMESTAMP_MS:
                    raise InputError(f"{self.path}: frame {index} is stamped at "
                                     f"{timestamp_ms:.0f} ms, beyond the {MAX_TIMESTAMP_MS:.0f}"
                                     " ms (ten days) a video may run")
                last_ms = timestamp_ms
                yield frame, timestamp_ms, index
                index += 1
        except av.FFmpegError as exc:
            if index == start_index:
                raise InputError(f"{self.path}: video data cannot be decoded ({_short(exc)})") \
                    from None
            self._stopped_by = _short(exc)
        if index == start_index:
            raise InputError(f"{self.path}: the video holds no decodable frames")
        if start_index == 0:
            self._decoded_count = index

    def shortfall(self) -> str | None:
        """After reading to the end: one line when decoding stopped at damaged data or fewer
        frames decoded than the container declares (by more than ``TRUNCATED_SHARE``), else
        None. The reader reports it: the decoding thread's own output could be lost."""
        decoded, declared = self._decoded_count, self.frame_count
        short = declared is not None and declared > 0 and decoded < declared * TRUNCATED_SHARE
        if not (short or self._stopped_by):
            return None
        of = f" of {declared}" if declared else ""
        why = f"; {self._stopped_by}" if self._stopped_by else ""
        return (f"{self.path}: decoding stopped after {decoded}{of} frames (the file may be "
                f"truncated{why})")

    @property
    def width(self) -> int:
        """Frame width in pixels as shown (as ``Frame.rgb`` holds it), turns included."""
        return self._shown_size[0]

    @property
    def height(self) -> int:
        """Frame height in pixels as shown, turns included."""
        return self._shown_size[1]

    @functools.cached_property
    def _shown_size(self) -> tuple[int, int]:
        """(width, height) as the video is shown: a phone video stored on its side with a
        quarter turn in its display matrix is shown, and converted, with its sides swapped.
        Decodes the first frame through a second handle to read the turn, so only when asked
        (the live view sizes itself by it; extraction takes the size from the frames)."""
        import av

        width, height = self._stored_size
        try:
            with av.open(str(self.path)) as probe:
                first = next(probe.decode(video=0), None)
        except (av.FFmpegError, UnicodeDecodeError):
            return width, height  # the reading proper reports what is wrong
        rotation = int(getattr(first, "rotation", 0) or 0) if first is not None else 0
        return (height, width) if rotation % 180 else (width, height)

    def _timeline(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(presentation times of all frames, of the keyframes), sorted, in ms, read from the
        packets without decoding; None when they cannot be trusted to seek by (a packet
        without a time, or two frames at one time)."""
        import av

        times, keys = [], []
        try:
            with av.open(str(self.path)) as probe:
                stream = probe.streams.video[0]
                for packet in probe.demux(stream):
                    if packet.size == 0:
                        continue
                    if packet.pts is None or stream.time_base is None:
                        return None
                    times.append(float(packet.pts * stream.time_base) * 1000.0)
                    if packet.is_keyframe:
                        keys.append(times[-1])
        except (av.FFmpegError, IndexError):
            return None
        ordered = np.sort(times)
        if not keys or np.any(np.diff(ordered) <= 0):
            return None
        return ordered, np.sort(keys)

    def close(self) -> None:
        self._container.close()


def _packed_rgb(frame: object) -> np.ndarray:
    """A PyAV video frame as (H, W, 3) uint8 RGB with packed rows, turned upright.

    One conversion thread: it is fast, and a pool of them would compete with the model. Rows
    may be padded in the decoder's buffer: MediaPipe needs packed rows.
    """
    rgb = frame.to_ndarray(format="rgb24", threads=1)  # type: ignore[attr-defined]
    rotation = int(getattr(frame, "rotation", 0) or 0)
    if rotation % 360:
        rgb = np.rot90(rgb, k=(rotation // 90) % 4)
    return np.ascontiguousarray(rgb)


class ImageFolderSource(_ClosingSource):
    """Still images in a folder, in name order, each scored on its own (IMAGE mode)."""

    is_live = False
    still_images = True

    def __init__(self, folder: str | Path, fps: float = IMAGE_FOLDER_FPS) -> None:
        self.path = Path(folder)
        self.name = str(self.path)
        if not self.path.is_dir():
            raise InputError(f"{self.path}: no such folder")
        self.files = sorted(p for p in self.path.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise InputError(f"{self.path}: the folder holds no images "
                             f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        self.fps = fps
        self.frame_count: int | None = len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        for index in range(len(self.files)):
            yield self._frame(index)

    def frames_at(self, times_ms: Iterable[float]) -> Iterator[Frame]:
        """The images shown at ``times_ms`` (within ``SAME_FRAME_MS``), in time order; only
        those are read."""
        for t_ms in sorted(set(times_ms)):
            index = int(round(t_ms * self.fps / 1000.0))
            on_a_frame = abs(index * 1000.0 / self.fps - t_ms) < SAME_FRAME_MS
            if on_a_frame and 0 <= index < len(self.files):
                yield self._frame(index)

    def _frame(self, index: int) -> Frame:
        """The image at ``index``, read when its pixels are first used."""
        return Frame(functools.partial(self._read_rgb, index), index * 1000.0 / self.fps, index)

    def _read_rgb(self, index: int) -> np.ndarray:
        import cv2

        file = self.files[index]
        check_image_size(file)
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"{file}: not a readable image")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Nothing stays open between images."""


def check_image_size(file: Path) -> None:
    """Refuse an image whose header declares more than ``MAX_FRAME_PIXELS`` pixels, or that
    is not an image at all, before it is decoded (only the header is read)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width = height = MAX_FRAME_PIXELS
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InputError(f"{file}: not a readable image") from None
    if width * height > MAX_FRAME_PIXELS:
        raise InputError(f"{file}: an image larger than the {MAX_FRAME_PIXELS} pixels allowed")


class CameraSource(_ClosingSource):
    """A live camera by index or a stream URL, through OpenCV; timestamps from a monotonic clock.

    ``read_timeout_s``: a camera that gives no frame for this long is reported as disconnected
    (the iterator ends; callers that want to retry open a new source).
    """

    is_live = True
    still_images = False
    frame_count: int | None = None

    def __init__(self, device: int | str, width: int | None = None,
                 height: int | None = None) -> None:
        import cv2

        self.device = device
        self.name = f"camera {device}" if isinstance(device, int) else str(device)
        self._capture = cv2.VideoCapture(device)
        if not self._capture.isOpened():
            self._capture.release()
            raise InputError(f"{self.name}: cannot open the camera or stream")
        if width and height:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(rate) if rate and 1 <= rate <= 240 else 30.0
        self._start = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        index = 0
        try:
            while True:
                ok, bgr = self._capture.read()
                if not ok or bgr is None:
                    log.warning("%s: frame read failed after %d frames", self.name, index)
                    return
                timestamp_ms = (time.monotonic() - self._start) * 1000.0
                yield Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), timestamp_ms, index)
                index += 1
        finally:
            self.close()

    def close(self) -> None:
        self._capture.release()


def _short(exc: BaseException) -> str:
    """An FFmpeg error in a few words: its first line, without the error number."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"\[Errno -?\d+\] ", "", text)[:160]


def names_camera(spec: str | int | Path) -> bool:
    """Whether ``spec`` names a camera (an index such as 0 or "0") or a stream URL."""
    return isinstance(spec, int) or (isinstance(spec, str) and (spec.isdigit()
                                                                or "://" in spec))


def open_source(spec: str | int | Path, *, decode_threads: int | None = None
                ) -> VideoFileSource | ImageFolderSource | CameraSource:
    """Open a camera index ("0" or 0), a stream URL, an image folder or a video file.

    decode_threads: passed to ``VideoFileSource`` for a video file.
    """
    if names_camera(spec):
        if isinstance(spec, str) and spec.isdigit():
            if not spec.isascii() or \
                    int(spec[:MAX_CAMERA_DIGITS + 1]) >= 10 ** MAX_CAMERA_DIGITS:
                raise InputError(f"camera {printable(spec)[:40]}: not a camera index (0 to "
                                 f"{10 ** MAX_CAMERA_DIGITS - 1})")
            spec = int(spec)
        return CameraSource(spec if isinstance(spec, int) else str(spec))
    text = str(spec)
    if not text.strip():
        raise InputError("the source is empty: name a camera index, a video file or an image "
                         "folder")
    path = Path(text)
    if path.is_dir():
        return ImageFolderSource(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    return VideoFileSource(path, decode_threads=decode_threads)
