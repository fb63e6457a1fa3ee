"""Web addresses as documents: fetched with httpx (time limit, size cap, content-type check) into a
file that then goes through the same loaders as an uploaded one (HTML → the web-page path)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from ingest.loaders import LoadError

MB = 1024 * 1024
MAX_PAGE_BYTES = 20 * MB
TIMEOUT_S = 20.0
_SUFFIX_OF_TYPE = {
    "text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt", "text/markdown": ".md",
    "text/csv": ".csv", "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}


def is_web_address(text: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", str(text), re.IGNORECASE))


def page_stem(url: str) -> str:
    """A readable, stable file stem for a web address: host and path ("example-com-guides-export")."""
    parts = urlsplit(url)
    host = (parts.hostname or "page").removeprefix("www.")
    path = re.sub(r"\.(html?|php|aspx?)$", "", parts.path.strip("/"), flags=re.IGNORECASE)
    stem = re.sub(r"[^\w]+", "-", f"{host} {path}").strip("-")
    return stem[:80] or "page"


def fetch_web_page(url: str, folder: Path, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_PAGE_BYTES) -> Path:
    """Downloads `url` into `folder` and returns the file; a `LoadError` says plainly what failed."""
    import httpx

    limit_mb = max_bytes / MB  # in MB as the limit is set (20 × 1024²), not 21 decimal ones
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=True, max_redirects=5,
                          headers={"User-Agent": "sme-advisor (document ingest)"}) as client:
            with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise LoadError(f"the web address answered HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "")
                media_type = content_type.split(";")[0].strip().lower()
                suffix = _SUFFIX_OF_TYPE.get(media_type)
                if suffix is None:
                    raise LoadError(f"the web address returned {media_type or 'no content type'}, "
                                    "not a web page or a supported document")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise LoadError(f"the page is too large ({int(declared) / MB:.1f} MB; the limit is {limit_mb:.0f} MB)")
                data = bytearray()
                for piece in response.iter_bytes():
                    data += piece
                    if len(data) > max_bytes:
                        raise LoadError(f"the page is too large (over {limit_mb:.0f} MB)")
                charset = response.charset_encoding
    except httpx.TimeoutException as error:
        raise LoadError(f"the web address did not answer within {timeout_s:.0f} s") from error
    except httpx.ConnectError as error:
        raise LoadError(f"cannot reach {urlsplit(url).hostname or url}: {_connect_reason(error)}") from error
    except httpx.InvalidURL as error:  # not an HTTPError: raised before any request
        raise LoadError(f"not a valid web address ({error})") from error
    except httpx.HTTPError as error:
        raise LoadError(f"cannot fetch the web address ({type(error).__name__}: {error})"[:300]) from error
    body = bytes(data)
    if suffix in (".html", ".txt", ".md", ".csv") and charset:
        try:  # the server's declared charset beats guessing; files on disk are UTF-8
            body = body.decode(charset).encode("utf-8")
        except (LookupError, UnicodeDecodeError):
            pass
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{page_stem(url)}{suffix}"
    target.write_bytes(body)
    return target


def _connect_reason(error: Exception) -> str:
    text = str(error)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
            or "No address associated" in text or "Temporary failure in name resolution" in text:
        return "no such host (check the address, or the machine's internet connection)"
    if "Connection refused" in text:
        return "the connection was refused (nothing answers on that port)"
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return f"its HTTPS certificate was not accepted ({text[:160]})"
    return text[:200] or type(error).__name__
