"""MotionFlow: camera-trajectory-controlled image-to-video diffusion."""

__version__ = "0.1.0"
