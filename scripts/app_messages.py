"""Extract the app's messages into its Vietnamese catalogue, keeping every translation already made.

    .venv/bin/python scripts/app_messages.py          # update app/locale/vi/LC_MESSAGES/app.po
    .venv/bin/python scripts/app_messages.py --check  # exit 1 when a message lacks a translation

Messages are the string literals passed to ``_()`` and ``n_()`` in ``app/``
(see ``audit_app.text``); a message that is no longer used is dropped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
CATALOGUE = APP / "locale" / "vi" / "LC_MESSAGES" / "app.po"
KEYWORDS = {"_": None, "n_": (1, 2)}


def extracted() -> Catalog:
    """Every message of the app's source, with where it is used."""
    catalogue = Catalog(locale="vi", domain="app", project="audit-toolkit app", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(APP), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)):
        catalogue.add(message, locations=[(f"app/{filename}", lineno)], auto_comments=comments, context=context)
    return catalogue


def untranslated(catalogue: Catalog) -> list[str]:
    """Message ids with no (or a fuzzy) translation."""
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a translation is missing")
    args = parser.parse_args()
    template = extracted()
    if CATALOGUE.exists():
        with CATALOGUE.open("rb") as handle:
            catalogue = read_po(handle, locale="vi", domain="app")
    else:
        catalogue = Catalog(locale="vi", domain="app", project="audit-toolkit app", charset="utf-8")
    catalogue.update(template, no_fuzzy_matching=True)
    catalogue.obsolete.clear()
    missing = untranslated(catalogue)
    if args.check:
        for message in missing:
            print(f"untranslated: {message!r}")
        return 1 if missing else 0
    CATALOGUE.parent.mkdir(parents=True, exist_ok=True)
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalogue, width=100, sort_output=False, include_previous=False)
    print(f"wrote {CATALOGUE.relative_to(ROOT)}: {len(catalogue)} messages, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
