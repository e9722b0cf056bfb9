"""Processing engines: `native` (numpy + numba) and `otb` (Orfeo ToolBox command-line apps)."""
