"""The numbers every table is made of.

Camera alignment (no torch needed): `camera.camera_metrics` under a preset of `presets`
(motionflow, cameractrl, cami2v, sim3), scale rules in `alignment`, aggregation over videos in
`aggregate`. Visual quality: `suite.VisualMetricSuite` (PSNR, SSIM, LPIPS per frame; FID, KID, FVD
over sets of videos); importing `suite` registers every visual metric. Pretrained files are declared
in `weight_specs` and read only from the local weights root."""
