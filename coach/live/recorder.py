"""``PoseRecorder`` moved to ``coach.pose_recorder``; this name stays only until
``coach.live_scoring`` and ``coach.live.coaching`` import it from there."""

from coach.pose_recorder import PoseRecorder

__all__ = ["PoseRecorder"]
