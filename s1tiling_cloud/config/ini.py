"""Reading S1Tiling's INI `.cfg`: environment interpolation and typed options with clear errors.

S1Tiling parses with `configparser.ConfigParser(os.environ)`, so `%(TMPDIR)s` or `%(HOME)s`
expand to environment variables and option names are case-insensitive. Passing the
environment as *defaults* also makes every variable look like an option of every section
(a `TMP` variable would silently provide `[Paths] tmp`); here the environment only feeds the
interpolation, with the same precedence (the file's values first). Section names are matched
case-insensitively, so the `[PATHS]` spelling of S1Tiling's docs works too.

Every failure is a `ConfigurationError` that names the section, the option and the file.
"""

from __future__ import annotations

import configparser
import re
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from ..exceptions import ConfigurationError
from .secrets import has_user_info, is_credential

__all__ = ["IniReader", "split_list"]

_SPLIT = re.compile(r"[\s,]+")
_NONE_WORDS = ("", "none")


def split_list(value: str | None) -> list[str]:
    """S1Tiling's list syntax: items separated by commas and/or spaces (`S1A, S1B S1C`)."""
    return [item for item in _SPLIT.split(value or "") if item]


class _EnvironmentInterpolation(configparser.BasicInterpolation):
    """`%(NAME)s` from the file's options first, then from the environment."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__()
        # Option names are lower-cased by the parser, so are the keys it looks up (but for the
        # case-keeping read of [Metadata]); a `%` in a variable's value is literal, as it must
        # survive BasicInterpolation's recursion.
        # Credential variables are never expanded (`secrets`): a `.cfg` could copy them into
        # tags, STAC items, plans and logs.
        escaped = {key: value.replace("%", "%%") for key, value in environ.items()
                   if not is_credential(key, environ)}
        self._environ = {**{key.lower(): value for key, value in escaped.items()}, **escaped}

    def before_get(self, parser, section, option, value, defaults):
        return super().before_get(parser, section, option, value, ChainMap(defaults, self._environ))


class IniReader:
    """Typed access to the options of one `.cfg`; `source` names it in every error."""

    def __init__(self, text: str, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self._text = text
        self._environ = environ
        self._parser = self._parse(text, str.lower)
        self._sections = self._index_sections(self._parser)

    def _parse(self, text: str, optionxform) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=_EnvironmentInterpolation(self._environ))
        parser.optionxform = optionxform  # type: ignore[method-assign, assignment]
        try:
            parser.read_string(text, source=self.source)
        except configparser.Error as error:
            raise ConfigurationError(f"Cannot parse the configuration: {error}", self.source) from error
        return parser

    def _index_sections(self, parser: configparser.ConfigParser) -> dict[str, str]:
        """Lower-cased section name -> the file's spelling; the same section twice is an error."""
        index: dict[str, str] = {}
        for name in parser.sections():
            key = name.lower()
            if key in index:
                raise ConfigurationError(f"Section [{index[key]}] is given twice (also as [{name}])",
                                         self.source)
            index[key] = name
        return index

    # ---- structure -------------------------------------------------------------------------

    def error(self, message: str) -> ConfigurationError:
        return ConfigurationError(message, self.source)

    def has_section(self, section: str) -> bool:
        return section.lower() in self._sections

    def sections(self) -> list[str]:
        return list(self._parser.sections())

    def options(self, section: str) -> list[str]:
        """The options the file gives in `section` (lower case), `[DEFAULT]` ones excluded."""
        name = self._sections.get(section.lower())
        if name is None:
            return []
        defaults = set(self._parser.defaults())
        return [option for option in self._parser.options(name) if option not in defaults]

    def has(self, section: str, option: str) -> bool:
        name = self._sections.get(section.lower())
        return name is not None and self._parser.has_option(name, option.lower())

    def items_case_kept(self, section: str) -> dict[str, str]:
        """Options of `section` with the file's spelling of their names (for `[Metadata]`)."""
        if not self.has_section(section):
            return {}
        parser = self._parse_case_kept()
        name = self._sections[section.lower()]
        defaults = set(parser.defaults())
        return {option: self._interpolate(parser, name, option) for option in parser.options(name)
                if option not in defaults}

    def _parse_case_kept(self) -> configparser.ConfigParser:
        return self._parse(self._text, str)

    # ---- values ----------------------------------------------------------------------------

    def get(self, section: str, option: str, default: Any = ...) -> Any:
        """The option's string (interpolated, stripped); `default` when absent, else an error."""
        name = self._sections.get(section.lower())
        if name is None or not self._parser.has_option(name, option.lower()):
            if default is not ...:
                return default
            if name is None:
                raise self.error(f"No section: '{section}' (needed for option '{option}')")
            raise self.error(f"No option '{option}' in section: '{section}'")
        return self._interpolate(self._parser, name, option.lower(), section).strip()

    def _interpolate(self, parser: configparser.ConfigParser, name: str, option: str,
                     section: str | None = None) -> str:
        try:
            value = parser.get(name, option)
        except configparser.InterpolationMissingOptionError as error:
            if is_credential(error.reference, self._environ):
                raise self.error(f"Cannot decode '{option}' option '{section or name}' section: "
                                 f"%({error.reference})s is a credential variable; credentials "
                                 "are never expanded in the configuration") from None
            raise self.error(f"Cannot decode '{option}' option '{section or name}' section: "
                             f"%({error.reference})s is neither an option of the section nor an "
                             "environment variable") from error
        except configparser.InterpolationError as error:
            message = f"Cannot decode '{option}' option '{section or name}' section: {error}"
            raise self.error(message) from error
        if has_user_info(value):  # s3://KEY:SECRET@bucket: refused, and not repeated
            raise self.error(f"'{option}' option '{section or name}' section: credentials are never "
                             "read from the configuration file; remove them from the URL and set "
                             "them in the environment or a Kubernetes Secret")
        return value

    def get_optional(self, section: str, option: str) -> str | None:
        """The option's string, None when absent or empty."""
        value = self.get(section, option, None)
        return value or None

    def getint(self, section: str, option: str, default: Any = ...) -> Any:
        return self._typed(section, option, default, int, "an integer")

    def getfloat(self, section: str, option: str, default: Any = ...) -> Any:
        return self._typed(section, option, default, float, "a number")

    def getboolean(self, section: str, option: str, default: Any = ...) -> Any:
        return self._typed(section, option, default, self._boolean, "a boolean (True/False)")

    def getboolean_or_none(self, section: str, option: str) -> bool | None:
        """A boolean that may also be `None` (or absent): S1Tiling's tri-state options."""
        value = self.get(section, option, None)
        if value is None or value.strip().lower() in _NONE_WORDS:
            return None
        return self.getboolean(section, option)

    def _typed(self, section: str, option: str, default: Any, convert, kind: str) -> Any:
        value = self.get(section, option, default)
        if value is default and default is not ...:
            return default
        try:
            return convert(value)
        except ValueError as error:
            raise self.error(f"Cannot decode '{option}' option '{section}' section: "
                             f"{value!r} is not {kind}") from error

    @staticmethod
    def _boolean(value: str) -> bool:
        word = value.strip().lower()
        if word not in configparser.ConfigParser.BOOLEAN_STATES:
            raise ValueError(f"Not a boolean: {value}")
        return configparser.ConfigParser.BOOLEAN_STATES[word]
