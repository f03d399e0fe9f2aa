"""Spoken cues: the real espeak-ng synthesiser (speech captured to a file), the cooldown."""

from __future__ import annotations

import shutil
import time

import pytest

from coach.errors import CoachError
from coach.voice import Voice


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _recording_program(tmp_path, body: str):
    """A stand-in for espeak-ng that records each call (and runs ``body``)."""
    script = tmp_path / "speak.sh"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'calls.txt'}\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_missing_program_is_a_clear_error():
    with pytest.raises(CoachError, match="espeak-ng.*not installed.*without --voice"):
        Voice(program="espeak-ng-not-here")


def test_cooldown_and_repeat_rules(tmp_path):
    clock = _Clock()
    voice = Voice(cooldown_s=4.0, repeat_after_s=12.0,
                  program=_recording_program(tmp_path, "true"), clock=clock)
    assert voice.say("Lengthen your spine")
    voice.close()
    clock.now += 1.0
    assert not voice.say("Level your shoulders")  # within the cooldown
    clock.now += 4.0
    assert not voice.say("Lengthen your spine")  # same cue again too soon
    assert voice.say("Level your shoulders")
    voice.close()
    clock.now += 13.0
    assert voice.say("Lengthen your spine")  # long enough ago
    voice.close()
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert [c.split("-- ")[-1] for c in calls] == [
        "Lengthen your spine", "Level your shoulders", "Lengthen your spine"]
    assert all(c.startswith("-v en -s 150") for c in calls)


def test_busy_speech_is_not_interrupted(tmp_path):
    clock = _Clock()
    voice = Voice(cooldown_s=0.0, program=_recording_program(tmp_path, "sleep 2"), clock=clock)
    assert voice.say("first")
    assert voice.speaking
    assert not voice.say("second")  # the first is still being spoken
    voice.close(wait_s=0.1)  # stops speech that runs too long
    assert not voice.speaking


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_real_espeak_ng_speaks(tmp_path):
    wav = tmp_path / "speech.wav"
    espeak = shutil.which("espeak-ng")
    program = _recording_program(tmp_path, f'exec {espeak} --stdout "$@" > {wav}')
    with Voice(program=program) as voice:
        assert voice.say("Draw your chin back, your head is pushed forward")
    deadline = time.monotonic() + 10
    while wav.stat().st_size < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    data = wav.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert len(data) > 20_000  # about two seconds of speech at 22 kHz
