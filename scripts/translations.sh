#!/usr/bin/env bash
# Refreshes the message catalogs after the code's texts changed (see docs/i18n.md):
#   1. extracts every _()/gettext/ngettext/pgettext/N_ string into sme_advisor/locales/messages.pot,
#   2. merges new and changed strings into each language's messages.po (new ones untranslated,
#      changed ones marked fuzzy): translate those, then run tests/test_i18n.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
"$PYBABEL" extract --mapping-file babel.cfg --keywords N_ --add-comments TRANSLATORS: --no-location --project "SME Advisor" \
    --sort-output --output-file sme_advisor/locales/messages.pot .
"$PYBABEL" update --input-file sme_advisor/locales/messages.pot --output-dir sme_advisor/locales \
    --domain messages --ignore-obsolete
