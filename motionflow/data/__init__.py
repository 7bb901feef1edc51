"""Datasets of clips (frames + cameras). Import from the modules (kept apart so that importing one,
such as video_io, does not import the others):

- video_io: videos as uint8 [F, H, W, 3] in MP4 files and PNG folders
- clips: Clip, ClipError, the ClipDataset interface and the DATASET_LAYOUTS registry
- re10k_dataset / dl3dv_dataset: the two on-disk layouts (readers and writers)
- datasets: open_dataset(root), whatever its layout
- bundled: the six real RealEstate10K clips shipped with the package
- synthetic: the renderer of clips with exactly known cameras; build: synthetic datasets on disk"""
