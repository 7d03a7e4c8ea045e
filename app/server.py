"""``audit app``: start the auditors' app on this machine, private by default.

The app is served by Streamlit on ``127.0.0.1`` (this machine only) with
usage statistics off, no error details for visitors, and the upload limit
given. Before the server accepts its first visitor, this process imports the
engine and audits the opening example, so the first page shows a finished
audit at once.
"""

from __future__ import annotations

import os
from pathlib import Path

MAIN = Path(__file__).resolve().parent / "main.py"


def streamlit_options(*, port: int, address: str, max_upload_mb: int, secrets: Path | None) -> dict[str, object]:
    """Streamlit's settings for the app, as ``streamlit run`` flags take them."""
    options: dict[str, object] = {
        "server.port": port,
        "server.address": address,           # set explicitly: Streamlit then never looks up this machine's
        "server.headless": True,             # public IP address (a request to an outside service)
        "server.maxUploadSize": max_upload_mb,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,   # no usage statistics
        "browser.serverAddress": "localhost" if address in ("127.0.0.1", "localhost") else address,
        "client.showErrorDetails": "none",   # visitors never see a traceback
        "client.toolbarMode": "minimal",
        "global.developmentMode": False,
        "theme.base": "light",
    }
    if secrets is not None:
        options["secrets.files"] = str(secrets.resolve())
    return options


def _check_port(address: str, port: int) -> None:
    """Fail before the slow start when nothing can listen on ``address:port``."""
    import socket

    from audit.errors import ReasonCode, UsageError

    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            raise UsageError(f"--port: the app cannot listen on {address}:{port} ({error.strerror or error}); "
                             f"another program (perhaps another audit app) uses it. Stop that program or choose "
                             f"another port, e.g. --port {port + 1}", reason=ReasonCode.OPTION_INVALID) from None


def serve(*, port: int = 8501, address: str = "127.0.0.1", max_upload_mb: int = 200, registry: Path | None = None,
          secrets: Path | None = None, warm: bool = True) -> None:
    """Run the app until interrupted (Ctrl+C).

    Raises
    ------
    UsageError
        When the port is taken (another app is serving on it): choose another with ``--port``.
    """
    from audit_app import settings

    _check_port(address, port)
    os.environ[settings.MAX_UPLOAD_ENV] = str(max_upload_mb)
    if registry is not None:
        os.environ[settings.REGISTRY_ENV] = str(registry.resolve())
    os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if warm:
        from audit_app.actions import opening_audit

        opening_audit(settings.settings().examples)
    from streamlit.web import cli as streamlit_cli

    flags = [f"--{name}={value}" for name, value in streamlit_options(
        port=port, address=address, max_upload_mb=max_upload_mb, secrets=secrets).items()]
    streamlit_cli.main(["run", str(MAIN), *flags], prog_name="audit app", standalone_mode=True)
