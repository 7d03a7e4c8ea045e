"""Errors shown as messages that say what to fix, never as a traceback or a blank page.

Every page body runs inside :func:`guarded`. A toolkit error (bad file, bad
set-up, bad spec) is shown as it is worded by the toolkit, which names the
file, column or field and says what to do. Anything else is a bug: the visitor
sees a short apology with the error's type, and the details go to the server
log only (``AUDIT_DEBUG=1`` shows the traceback in the app as well, for
developers). Streamlit's own control flow (``st.rerun``, ``st.stop``,
``st.switch_page``) derives from ``BaseException`` and passes through.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from audit.errors import AuditError
from audit_app.text import _, plain_lines

LOG = logging.getLogger("audit_app")


def show_error(error: AuditError, *, heading: str | None = None) -> None:
    """A toolkit error as a message box: an optional heading in the visitor's language, then the details."""
    lines = [f"**{heading}**"] if heading else []
    lines.append(plain_lines(error))
    problems = getattr(error, "problems", None) or ()
    if problems and len(problems) > 1:
        lines.append(_("Fix every problem listed, then try again."))
    st.error("\n\n".join(lines))


@contextmanager
def guarded(heading: str | None = None) -> Iterator[None]:
    """Run a page (or part of one); turn any error into a message the visitor can act on."""
    try:
        yield
    except AuditError as error:
        show_error(error, heading=heading)
    except Exception as error:  # noqa: BLE001 - the last line of defence: never a traceback for the visitor
        LOG.exception("internal error in the app")
        if os.environ.get("AUDIT_DEBUG"):
            st.exception(error)
        else:
            st.error(_("Something went wrong inside the toolkit (a bug, not a problem with your data or set-up): "
                       "{kind}. Your data and set-up are still here; please report this with the steps that led "
                       "to it.").format(kind=type(error).__name__))
