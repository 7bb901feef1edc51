"""Plücker ray embedding of a trajectory (Sitzmann et al. 2021), the order CameraCtrl uses.

For the pixel centre (u + 0.5, v + 0.5): d = normalize(R_c2w K^-1 [u + 0.5, v + 0.5, 1]^T),
o = t_c2w, embedding (o x d, d). The paper's Eq. 3 prints `R K [w, h, 1] + t`; that is a typo for
this standard definition (K^-1, and a direction has no translation)."""

from __future__ import annotations

import torch

from motionflow.errors import PoseError


def plucker_embedding(
    c2w: torch.Tensor,
    intrinsics: torch.Tensor,
    image_size: tuple[int, int],
    grid_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Plücker embedding [F, 6, h, w] of cameras c2w [F, 4, 4] with K [F, 3, 3] in pixels of image_size.

    Computed in c2w's floating dtype and on its device (float32 for integer input).

    `grid_size` (h, w) evaluates it on another grid of the same field of view, such as the latent
    grid (K is rescaled so that grid cells cover the same rays as the image's pixels would)."""
    c2w = torch.as_tensor(c2w)
    dtype = c2w.dtype if c2w.is_floating_point() else torch.float32
    c2w = c2w.to(dtype)
    intrinsics = torch.as_tensor(intrinsics, dtype=dtype, device=c2w.device)
    if intrinsics.shape == (3, 3):
        intrinsics = intrinsics.expand(len(c2w), 3, 3)
    if c2w.ndim != 3 or c2w.shape[1:] != (4, 4) or intrinsics.shape != (len(c2w), 3, 3):
        raise PoseError(
            f"expected c2w [F, 4, 4] and K [F, 3, 3] (or [3, 3]), got {tuple(c2w.shape)} and {tuple(intrinsics.shape)}"
        )
    height, width = image_size
    grid_h, grid_w = grid_size if grid_size is not None else image_size
    scale_x, scale_y = grid_w / width, grid_h / height
    fx = intrinsics[:, 0, 0] * scale_x
    fy = intrinsics[:, 1, 1] * scale_y
    cx = intrinsics[:, 0, 2] * scale_x
    cy = intrinsics[:, 1, 2] * scale_y
    skew = intrinsics[:, 0, 1] * scale_x

    v, u = torch.meshgrid(
        torch.arange(grid_h, dtype=dtype, device=c2w.device) + 0.5,
        torch.arange(grid_w, dtype=dtype, device=c2w.device) + 0.5,
        indexing="ij",
    )
    # K^-1 [u, v, 1] for an upper-triangular K, per frame: [F, h, w]
    y_cam = (v[None] - cy[:, None, None]) / fy[:, None, None]
    x_cam = (u[None] - cx[:, None, None] - skew[:, None, None] * y_cam) / fx[:, None, None]
    directions_cam = torch.stack([x_cam, y_cam, torch.ones_like(x_cam)], dim=1).flatten(2)  # [F, 3, h*w]
    directions = torch.bmm(c2w[:, :3, :3], directions_cam)
    # rsqrt of a channel sum: several times faster on the CPU than Tensor.norm over dim 1
    directions = directions * torch.rsqrt((directions * directions).sum(dim=1, keepdim=True))
    origins = c2w[:, :3, 3:].expand_as(directions)
    moments = torch.linalg.cross(origins, directions, dim=1)
    return torch.cat([moments, directions], dim=1).unflatten(2, (grid_h, grid_w))
