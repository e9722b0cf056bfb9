"""S1Tiling's logging set-up: the `[Processing] mode` words `debug` and `logging`.

S1Tiling reads a YAML logging configuration; the useful part of it is plain: messages on the
console, and with `logging` in the mode, `S1Processor-main.log` (`S1Processor-main.debug.log`
in debug mode) and `S1Processor-main.warning.log` in the current folder (S1Tiling's YAML names
them relatively; the folder it is given is where it looks for that YAML). `debug` lowers the level to
DEBUG (and sets `OTB_LOGGER_LEVEL=DEBUG` for the OTB engine, as S1Tiling does). Calling it
again replaces the handlers it installed, and only those.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from .secrets import redact_logging

__all__ = ["LOG_FORMAT", "init_logger", "mode_words"]

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
_CONSOLE_FORMAT = "%(levelname)s - %(message)s"
_MARK = "_s1tiling_cloud_handler"


def mode_words(mode: str | None) -> set[str]:
    """The lower-case words of a mode (`"Normal logging"` -> {"normal", "logging"})."""
    return {word for word in (mode or "").replace(",", " ").lower().split() if word}


def init_logger(config_log_dir: str | os.PathLike, mode: str | None = None, *,
                console: bool = True, log_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Configure the root logger for `mode`; log files go to `log_dir`, by default the current
    folder, as S1Tiling's (`config_log_dir`, S1Tiling's folder of `logging.conf.yaml`, is
    accepted for its signature's sake). Returns the set-up."""
    redact_logging()
    words = mode_words(mode)
    debug = "debug" in words
    level = logging.DEBUG if debug else logging.INFO
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    files: list[str] = []
    handlers: list[logging.Handler] = []
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(_CONSOLE_FORMAT))
        stream.setLevel(level)
        handlers.append(stream)
    if "logging" in words:
        folder = Path(log_dir) if log_dir is not None else Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
        main = folder / f"S1Processor-main{'.debug' if debug else ''}.log"
        important = folder / "S1Processor-main.warning.log"
        for path, file_level in ((main, level), (important, logging.WARNING)):
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            handler.setLevel(file_level)
            handlers.append(handler)
            files.append(str(path))
    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if debug:
        os.environ["OTB_LOGGER_LEVEL"] = "DEBUG"
    return {"mode": mode, "level": logging.getLevelName(level), "files": files, "console": console}
