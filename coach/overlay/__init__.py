"""Drawing on frames: small annotator classes, one job each, ``annotate(scene, ...) -> scene``.

Scenes are RGB uint8 images (H, W, 3); annotators draw in place and return the scene.
"""
