"""The product's own words in the owner's language: gettext catalogs made with Babel.

Source strings are English, in the code, wrapped in `_()` / `ngettext()` (Babel extracts them into
`locales/messages.pot`). Each other language has `locales/<lang>/LC_MESSAGES/messages.po`. The .po
file is the one source of truth and is read at run time (Babel turns it into a gettext catalog in a
few milliseconds, once per process per language), so a fresh clone, a wheel and an editable install
need no compile step and a stale .mo can never shadow an edited .po. See docs/i18n.md.

Placeholders are Python's named `%(name)s`, so that a translation may reorder them.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from knowledge.language import LANGUAGES, Language, from_locale

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE: Language = "en"  # the msgids themselves


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def translator(language: str | None) -> gettext.NullTranslations:
    """The catalog for `language` ("zh", "en", or a locale tag such as "zh-hans"); English, the
    source language, and any language without a catalog get the strings as written."""
    return _catalog(from_locale(language, SOURCE_LANGUAGE))


@lru_cache(maxsize=len(LANGUAGES))
def _catalog(language: Language) -> gettext.NullTranslations:
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    return _load_po(path)


def _load_po(path: Path) -> gettext.GNUTranslations:
    # Imported here: Babel costs ~40 ms to import, paid only by processes that speak Chinese.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy (unchecked) translation is not shown
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return message


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """"1 document", "2 documents": counts in the operator's English output (ingest and eval
    reports), which is not translated; texts for owners use `ngettext`."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
