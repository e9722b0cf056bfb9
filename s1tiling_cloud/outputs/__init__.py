"""What S1Tiling's outputs are called and what they say about themselves.

`names`: file and folder names (S1Tiling's `fname_fmt` / `dname_fmt` and their fields);
`metadata`: the GeoTIFF metadata keys of every product kind, plus our provenance keys.
"""
