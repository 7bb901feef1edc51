"""Methods other than MotionFlow, behind one interface (`baselines.base.Method`) and one registry."""

from baselines import animatediff, cameractrl, dynamicrafter, motionctrl, oracle, static, videocrafter, warp  # noqa: F401  (importing registers the methods)
from baselines.base import METHODS, Method, MethodRequirements

__all__ = ["METHODS", "Method", "MethodRequirements"]
