"""Methods other than MotionFlow, behind one interface (`baselines.base.Method`) and one registry."""

from baselines import (  # noqa: F401  (importing registers the methods)
    animatediff,
    autoencoder,
    cameractrl,
    depth_warp,
    dynamicrafter,
    motionctrl,
    motionflow_method,
    oracle,
    static,
    videocrafter,
    warp,
)
from baselines.base import METHODS, Method, MethodRequirements, create_method

__all__ = ["METHODS", "Method", "MethodRequirements", "create_method"]
