"""Runs: suites of clips x trajectory sets x methods x estimators, driven stage by stage into a run directory."""
