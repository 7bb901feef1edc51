"""The MotionFlow network (paper Section 3) on diffusers / transformers."""

from motionflow.models.components import MotionFlowComponents, load_components
from motionflow.models.config import MotionFlowConfig
from motionflow.models.inputs import image_to_tensor, trajectory_plucker, video_to_uint8
from motionflow.models.motionflow import MotionFlowConditions, MotionFlowModel

__all__ = [
    "MotionFlowComponents",
    "MotionFlowConditions",
    "MotionFlowConfig",
    "MotionFlowModel",
    "image_to_tensor",
    "load_components",
    "trajectory_plucker",
    "video_to_uint8",
]
