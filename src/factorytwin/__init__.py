"""factorytwin: an open-source digital twin of a smart factory."""

__version__ = "0.1.0"
