"""Training MotionFlow: the pretraining stand-in and the two stages of Section 3.6, through accelerate."""

from motionflow.training.backbone import BackboneDenoiser
from motionflow.training.checkpoint import TrainingProgress, load_checkpoint, save_checkpoint
from motionflow.training.config import (
    DataSettings,
    ModelSettings,
    OptimSettings,
    PhaseConfig,
    TrainingConfig,
    load_training_config,
)
from motionflow.training.data import UnusableClip, build_training_items
from motionflow.training.losses import epsilon_loss, training_scheduler
from motionflow.training.trainer import Trainer, TrainingError, TrainingResult, train

__all__ = [
    "BackboneDenoiser",
    "DataSettings",
    "ModelSettings",
    "OptimSettings",
    "PhaseConfig",
    "Trainer",
    "TrainingConfig",
    "TrainingError",
    "TrainingProgress",
    "TrainingResult",
    "UnusableClip",
    "build_training_items",
    "epsilon_loss",
    "load_checkpoint",
    "load_training_config",
    "save_checkpoint",
    "train",
    "training_scheduler",
]
