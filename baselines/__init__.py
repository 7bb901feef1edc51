"""Methods other than MotionFlow, behind one interface (`baselines.base.Method`) and one registry."""

from baselines import oracle, static, warp  # noqa: F401  (importing registers the methods)
from baselines.base import METHODS, Method, MethodRequirements

__all__ = ["METHODS", "Method", "MethodRequirements"]
