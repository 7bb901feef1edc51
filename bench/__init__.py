"""mfbench: the benchmark harness for camera-controlled video generation."""
