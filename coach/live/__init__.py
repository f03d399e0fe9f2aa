"""The live coaching session: capture, setup check, the coaching loop, window and keys."""

# OpenCV is loaded before anything in here loads PyAV: both wheels ship their own copy of
# libxcb, and when PyAV's is loaded first, opening OpenCV's window hangs for good.
import cv2  # noqa: F401
