"""Dozor: traffic cameras -> YOLO detectors -> Kafka -> tamper-evident evidence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dozor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+src"
