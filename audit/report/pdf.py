"""The report as PDF: the self-contained HTML laid out by WeasyPrint, offline.

WeasyPrint is given a URL fetcher that serves ``data:`` URLs only and refuses
every other scheme (http, https, ftp, file, ...), so making a PDF never opens
a connection or reads a file, whatever the HTML refers to. A refused resource
is left out (an image shows as its alt text), and the refusal is logged on
the ``audit.report.pdf`` logger.

WeasyPrint loads Pango, a C library, when it is imported. If Pango is
missing, :func:`html_to_pdf` raises a :class:`~audit.errors.UsageError` that
names the Debian packages to install.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from audit.errors import ReasonCode, UsageError

__all__ = ["DEBIAN_PACKAGES", "OfflineURLFetcher", "RefusedURL", "html_to_pdf"]

DEBIAN_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")
"""The Debian/Ubuntu packages that provide the C libraries WeasyPrint needs (as its install guide lists)."""

_LOGGER = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """Raised by the URL fetcher for any URL that is not a ``data:`` URL."""


def _weasyprint() -> Any:
    """The weasyprint module, or a UsageError saying which system packages to install."""
    try:
        weasyprint = importlib.import_module("weasyprint")
    except OSError as error:  # cffi could not dlopen Pango (or GObject, HarfBuzz, fontconfig)
        packages = " ".join(DEBIAN_PACKAGES)
        raise UsageError(
            "PDF output needs the Pango text-layout library, which WeasyPrint loads at run time, "
            f"and it could not be loaded ({error}). On Debian or Ubuntu install it with "
            f"'sudo apt-get install -y --no-install-recommends {packages}' (scripts/setup.sh does this "
            "when run as root); on other systems see "
            "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html. "
            "The HTML report does not need it.",
            reason=ReasonCode.PDF_UNAVAILABLE) from error
    if not hasattr(weasyprint.urls, "URLFetcher"):
        raise UsageError(
            f"PDF output needs WeasyPrint 68 or later (for its URLFetcher class, which lets the report "
            f"refuse every network request); WeasyPrint {weasyprint.__version__} is installed. "
            "Upgrade it with: pip install 'weasyprint>=68'",
            reason=ReasonCode.PDF_UNAVAILABLE)
    return weasyprint


def _is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


class OfflineURLFetcher:
    """Factory of WeasyPrint URL fetchers that serve ``data:`` URLs and refuse all others.

    :meth:`build` returns an instance of a subclass of
    :class:`weasyprint.urls.URLFetcher` (WeasyPrint 68 and later), whose
    ``fetch`` raises :class:`RefusedURL` before any network or file access for
    every scheme but ``data``. Each refused URL is appended to ``refused``.
    """

    def __init__(self) -> None:
        self.refused: list[str] = []

    def check(self, url: str) -> None:
        """Raise :class:`RefusedURL` (and record ``url``) unless ``url`` is a ``data:`` URL."""
        if not _is_data_url(url):
            self.refused.append(url)
            _LOGGER.warning("refused to fetch %s: a report may embed data: URLs only", url[:200])
            raise RefusedURL(f"refused to fetch {url[:200]!r}: a report may embed data: URLs only")

    def build(self, weasyprint: Any) -> Any:
        """A URL fetcher for this WeasyPrint module that reports to this object."""
        guard = self
        base = weasyprint.urls.URLFetcher

        class _Fetcher(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=False)

            def fetch(self, url: str, headers: Any = None) -> Any:
                guard.check(url)
                return super().fetch(url, headers)

        return _Fetcher()


def html_to_pdf(html: str, path: Path) -> Path:
    """Write ``html`` as a PDF file at ``path``, fetching nothing from the network or the disk.

    Parameters
    ----------
    html : str
        A complete, self-contained HTML document (fonts and images as
        ``data:`` URLs, e.g. with :func:`audit.report.fonts.font_face_css`).
        Any other URL it refers to is refused and left out, with a warning
        on the ``audit.report.pdf`` logger.
    path : pathlib.Path
        Where to write the PDF; missing parent folders are created. The file
        is written to a temporary name first and then renamed, so a failed
        run never leaves half a PDF behind.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    UsageError
        If WeasyPrint's system libraries (Pango) are missing, the message
        names the Debian packages to install; if WeasyPrint is older than 68,
        it says to upgrade.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.pdf"
    >>> html_to_pdf("<p>Kiểm toán thuật toán</p>", out).read_bytes()[:5]
    b'%PDF-'
    """
    data = pdf_bytes(html)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as target:
            target.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def pdf_bytes(html: str) -> bytes:
    """``html`` as the bytes of a PDF, made in memory (see :func:`html_to_pdf` for what may be fetched).

    Raises
    ------
    UsageError
        If WeasyPrint or its system libraries are missing (the message says what to install).
    """
    weasyprint = _weasyprint()
    fetcher = OfflineURLFetcher().build(weasyprint)
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url=None)
    # One FontConfiguration for the document and its stylesheets, so @font-face data: fonts are used.
    font_config = weasyprint.text.fonts.FontConfiguration()
    return bytes(document.write_pdf(font_config=font_config))
