"""The live coaching session: capture, setup check, the coaching loop, window and keys."""
