"""Web pages: trafilatura finds the article (headings, lists and tables kept); pages too short
for its heuristics are walked directly with selectolax's lexbor parser."""

from __future__ import annotations

import logging
import re

from ingest.document import Document, DocumentBuilder

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SKIPPED = "script, style, noscript, template, nav, footer, header, aside, form, button, svg"


def load_html(html: str) -> Document:
    import trafilatura

    # It logs an ERROR for every page too short for its heuristics; the fallback below handles them.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    xml = trafilatura.extract(html, output_format="xml", include_comments=False, include_tables=True,
                              favor_recall=True, deduplicate=True)
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata is not None else None
    document = _from_trafilatura_xml(xml) if xml else None
    if document is None or len(document.blocks) <= 1:
        # Short pages: trafilatura finds nothing, or flattens the page into one paragraph; the
        # markup itself (navigation and scripts removed) then says more, as long as it is not
        # much longer than what trafilatura kept.
        dom = _from_dom(html)
        kept = len(document.text) if document is not None else 0
        if dom.blocks and (document is None or not document.blocks or len(dom.text) <= 1.5 * kept + 200):
            document = dom
            title = title or dom.title
    document.title = title.strip() if title and title.strip() else None
    return document


def _from_trafilatura_xml(xml: str) -> Document | None:
    from lxml import etree

    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    main = root.find("main")
    if main is None:
        return None
    builder = DocumentBuilder("html")
    _walk_xml(main, builder)
    return builder.document


def _walk_xml(element, builder: DocumentBuilder) -> None:  # type: ignore[no-untyped-def]
    for child in element:
        tag = child.tag
        if tag == "head":
            level = _HEADINGS.get(child.get("rend", ""), 2)
            builder.heading(_text(child), level)
        elif tag == "p":
            builder.paragraph(_text(child))
        elif tag == "list":
            for item in child.iter("item"):
                # An item's own words, without a nested list's items (those come as their own).
                own = [item.text or ""] + [(_text(c) if c.tag != "list" else "") + (c.tail or "") for c in item]
                builder.paragraph("".join(own), list_item=True)
        elif tag == "table":
            rows = [[_text(cell) for cell in row.iter("cell")] for row in child.iter("row")]
            heads = sum(1 for row in child.iter("row") if row.find("cell[@role='head']") is not None)
            builder.table(rows, header_rows=1 if heads or len(rows) > 1 else 0)
        elif tag in ("quote", "div", "main"):
            _walk_xml(child, builder)
        elif tag == "code":
            continue
        elif _text(child):
            builder.paragraph(_text(child))


def _text(element) -> str:  # type: ignore[no-untyped-def]
    return " ".join("".join(element.itertext()).split())


def _from_dom(html: str) -> Document:
    """A page as its markup says: headings, paragraphs, list items and tables in order."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    builder = DocumentBuilder("html")
    title_node = tree.css_first("title")
    builder.document.title = title_node.text(strip=True) if title_node is not None else None
    for node in tree.css(_SKIPPED):
        node.decompose()
    root = tree.body or tree.root
    if root is not None:
        _walk_dom(root, builder)
    return builder.document


def _walk_dom(node, builder: DocumentBuilder) -> None:  # type: ignore[no-untyped-def]
    pending: list[str] = []  # loose text and inline elements between blocks

    def flush() -> None:
        if pending:
            builder.paragraph(" ".join(pending))
            pending.clear()

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text" or tag in ("a", "b", "strong", "em", "i", "span", "code", "small", "sup", "sub"):
            text = _dom_text(child)
            if text:
                pending.append(text)
        elif tag == "br":
            flush()
        elif tag in _HEADINGS:
            flush()
            builder.heading(_dom_text(child), _HEADINGS[tag])
        elif tag in ("p", "blockquote", "pre", "dt", "dd", "figcaption"):
            flush()
            builder.paragraph(_dom_text(child))
        elif tag == "li":
            flush()
            builder.paragraph(_dom_text(child), list_item=True)
        elif tag == "table":
            flush()
            rows = [[_dom_text(cell) for cell in row.css("th, td")] for row in child.css("tr")]
            has_head = child.css_first("th") is not None
            builder.table(rows, header_rows=1 if has_head or len(rows) > 1 else 0)
        elif child.is_element_node:
            flush()
            _walk_dom(child, builder)
    flush()


def _dom_text(node) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", node.text(deep=True, separator="")).strip()
