"""One C extension; its compiler flags come from CFLAGS, which `fitwheel build` sets per variant."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("leveldemo._native", sources=["csrc/leveldemo.c"])])
