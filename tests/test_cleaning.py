from __future__ import annotations

from ingest.cleaning import clean_text
from ingest.starter import starter_files

ARTICLE = """Why cash flow planning matters for a small bakery

Owners of small bakeries often watch sales closely but forget about the timing of payments.
A thirteen-week cash flow forecast shows when supplier invoices and wages will bunch together.
Planning this way lets an owner negotiate payment terms before a shortfall appears, not after.
Banks also look more kindly on loan requests that come with a clear forecast of cash needs.
"""


def test_starter_articles_lose_their_boilerplate_and_keep_their_text() -> None:
    cleaned = {path.stem: clean_text(path.read_text(encoding="utf-8")) for path in starter_files()}
    everything = "\n".join(cleaned.values())
    for junk in ("Gas Valve", "KINGSIR", "cn-kingsir.com", "Leave A Reply", "will not be published",
                 "Most Viewed", "回到顶部", "0086-27", "service@e-works", "ICP", "Copyright", "Accenture releases",
                 "2017-03-15 17:26:07"):
        assert junk not in everything, junk
    # The articles' own last sentences survive.
    assert cleaned["small-micro-enterprise-innovation"].endswith("the biggest innovation a small enterprise can make.")
    assert cleaned["smes-solidify-industrial-economy"].endswith('complement its industrial structure," he added.')
    assert cleaned["little-giants-growing"].endswith("ever more important roles in their industries.")


def test_comment_prompt_and_related_list_end_the_article() -> None:
    page = ARTICLE + "\nRelated Articles\n\nTen tips for payroll\n\nHow to price croissants\n\nLeave a comment\n\nName\n"
    assert clean_text(page) == clean_text(ARTICLE)


def test_contact_copyright_cookie_and_share_lines_are_removed_anywhere() -> None:
    page = ("We use cookies to improve your experience. Accept all cookies\n\n" + ARTICLE +
            "\nShare on Facebook\n\nTel: +44 20 7946 0958\n\nEmail: info@example.org\n\n"
            "© 2024 Example Media Ltd. All rights reserved.\n")
    cleaned = clean_text(page)
    assert "cookies" not in cleaned and "Facebook" not in cleaned and "7946" not in cleaned
    assert "rights reserved" not in cleaned and "info@example.org" not in cleaned
    assert "thirteen-week cash flow forecast" in cleaned


def test_trailing_advertisement_is_removed_but_a_related_closing_paragraph_stays() -> None:
    closing = ("In short, a cash flow forecast helps a small bakery plan payments, wages and loan "
               "requests before problems appear.")
    advert = ("Industrial Pumps\n\nLeading manufacturers and suppliers of centrifugal pumps, diaphragm pumps "
              "and spare parts at the best price.\n\nACME PUMP CO., LTD. https://www.acme-pumps.example")
    cleaned = clean_text(ARTICLE + "\n" + closing + "\n\n" + advert)
    assert cleaned.endswith(closing)
    assert "pumps" not in cleaned.lower()


def test_an_article_without_boilerplate_is_unchanged_apart_from_white_space() -> None:
    assert clean_text("  " + ARTICLE.replace("\n", "\r\n") + "\n\n\n") == ARTICLE.strip()


def test_only_web_captures_get_the_web_rules_and_every_removal_is_recorded() -> None:
    from ingest.cleaning import clean, looks_like_web_capture
    from tests.input_documents import GRANT_GUIDE, WEB_CAPTURE

    captured = {path.stem: looks_like_web_capture(path.read_text(encoding="utf-8")) for path in starter_files()}
    assert captured["little-giants-growing"] and captured["smes-solidify-industrial-economy"]
    assert captured["small-micro-enterprise-innovation"]  # the valve advert glued to its end
    guide = clean(GRANT_GUIDE)  # a "Comments" heading, a contact section with e-mail and phone
    assert not guide.web_capture and guide.removals == [] and "Tel: +49 30 1234 5678" in guide.text
    assert clean(WEB_CAPTURE, "document").text == clean(WEB_CAPTURE, "document").text.strip()
    assert "Maria" in clean(WEB_CAPTURE, "document").text  # an office document is never cut
    page = clean(WEB_CAPTURE)
    assert page.web_capture and "Maria" not in page.text and "share prompts" in page.by_kind()
    assert page.removed_chars == sum(page.by_kind().values()) and page.removed_share > 0.25
    assert page.text.endswith("sees a shortfall coming five weeks ahead.")


def test_the_starter_shelf_splits_by_the_language_each_article_is_written_in() -> None:
    english, chinese = starter_files("en"), starter_files("zh")
    assert english and chinese and sorted(english + chinese) == starter_files()
    assert "little-giants-growing.txt" in {p.name for p in english}
    assert all(p.name.startswith("zh-") for p in chinese)  # the shelf's own naming agrees
