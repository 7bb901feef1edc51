"""One module per `mfbench` command; each is a thin layer over library functions."""
