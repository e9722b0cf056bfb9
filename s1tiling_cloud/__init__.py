"""s1tiling-cloud: S1Tiling's Sentinel-1 processing, cloud-native."""

__version__ = "0.1.0"
