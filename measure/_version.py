"""The engine version: recorded in every PlatformKey and calibration profile (counts and fits of
another version are not compared), and read by the build (pyproject.toml)."""
__version__ = "0.1.0"
