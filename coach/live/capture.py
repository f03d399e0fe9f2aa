"""The live session's capture and pose threads live in ``coach.pipeline``, shared with
recording and extraction; these names stay only until ``coach.live.session`` imports them
from there."""

from coach.pipeline import CaptureStatus, FrameCapture, PoseStage

__all__ = ["CaptureStatus", "FrameCapture", "PoseStage"]
