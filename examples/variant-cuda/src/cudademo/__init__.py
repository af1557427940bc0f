"""cudademo: a CUDA build per toolkit and a CPU build, published as variants of one release."""

from ._native import device, scale

__all__ = ["device", "scale"]
