"""pytest configuration of the repository: what to collect."""

import importlib.util

# skae.onnx needs the onnx extra; without it, its doctest is not collected
# (tests/test_onnx.py skips itself).
collect_ignore = []
if importlib.util.find_spec("skl2onnx") is None:
    collect_ignore.append("skae/onnx.py")
