"""The performance benchmark of issue #5: `make bench` (python -m bench). See bench/README.md."""
