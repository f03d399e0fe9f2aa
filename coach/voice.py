"""Spoken cues through the offline espeak-ng speech synthesiser, with a cooldown.

For movements where the person cannot watch the screen. Speech runs in a child process so
the coaching loop never waits for it; a new cue is spoken only when the previous one has
finished and the cooldown since it started has passed, and the same cue is not repeated
within ``repeat_after_s``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable

from coach.errors import CoachError

log = logging.getLogger(__name__)

#: Words per minute: slower than espeak-ng's default of 175, for calm practice.
SPEECH_RATE_WPM = 150


class Voice:
    """Speak cues aloud; ``say`` returns at once and tells whether the cue was spoken.

    cooldown_s: at least this long between the starts of two spoken cues, in seconds.
    repeat_after_s: the same text is not spoken again within this many seconds.
    clock: seconds, monotonic (injectable for tests).
    """

    def __init__(self, cooldown_s: float = 4.0, repeat_after_s: float = 12.0,
                 program: str = "espeak-ng", voice: str = "en",
                 clock: Callable[[], float] = time.monotonic) -> None:
        path = shutil.which(program)
        if path is None:
            raise CoachError(f"spoken cues need the '{program}' program, which is not installed "
                             "(Debian/Ubuntu: sudo apt-get install espeak-ng); run without "
                             "--voice to coach on screen only")
        self._command = [path, "-v", voice, "-s", str(SPEECH_RATE_WPM)]
        self.cooldown_s = cooldown_s
        self.repeat_after_s = repeat_after_s
        self._clock = clock
        self._process: subprocess.Popen[bytes] | None = None
        self._last_start = -float("inf")
        self._last_said: dict[str, float] = {}

    @property
    def speaking(self) -> bool:
        """True while the previous cue is still being spoken."""
        return self._process is not None and self._process.poll() is None

    def say(self, text: str) -> bool:
        """Speak ``text`` unless speech is busy, in cooldown, or it was said just now."""
        text = text.strip()
        now = self._clock()
        if not text or self.speaking or now - self._last_start < self.cooldown_s:
            return False
        if now - self._last_said.get(text, -float("inf")) < self.repeat_after_s:
            return False
        try:
            self._process = subprocess.Popen([*self._command, "--", text],
                                             stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)
        except OSError as err:
            log.warning("could not start speech: %s", err)
            return False
        self._last_start = now
        self._last_said[text] = now
        return True

    def close(self, wait_s: float = 5.0) -> None:
        """Let the last cue finish (up to ``wait_s``), then stop speech."""
        if self._process is None:
            return
        try:
            self._process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> Voice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
