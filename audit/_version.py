"""The toolkit's version and the versions of the packages whose code shapes a result."""

from __future__ import annotations

import functools
import platform
from importlib import metadata

__version__ = "0.1.0"

_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "duckdb", "pydantic", "pyarrow")


@functools.cache
def _installed() -> tuple[tuple[str, str], ...]:
    """Python's and each numeric package's installed version."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def package_versions() -> dict[str, str]:
    """Python's and each numeric package's installed version (read once per process)."""
    return dict(_installed())
