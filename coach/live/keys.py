"""The keys of the coaching window and the commands they give (no OpenCV needed to read)."""

from __future__ import annotations

#: Key codes (as ``cv2.waitKey`` returns them, low byte) and their commands.
KEYS = {
    ord("p"): "pause", ord(" "): "pause",
    ord("r"): "restart",
    ord("q"): "quit", 27: "quit",  # Esc
}
#: What the keys do, for the screen and the help text.
KEY_HELP = "Space/P pause   R restart   Q/Esc quit"
