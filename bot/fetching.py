"""Fetch one article from the web for ``qabot add URL``: http(s) only, timeouts, a size limit,
a content-type check, redirects followed one by one (at most ``MAX_REDIRECTS``).

``refuse_private`` is the guard for links sent by chat users: passed as ``guard``, it is
checked on the first URL and on every redirect, after DNS resolution, so a link cannot make
the bot reach loopback, private or link-local addresses. The CLI fetches what its user gives.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from typing import Callable, NamedTuple

from retrieval.formats import size_text

MAX_BYTES = 20 << 20  # a page or document bigger than this is not an article to answer from
MAX_REDIRECTS = 5
DEADLINE = 60.0  # seconds for the whole download: a server dripping bytes is given up on
TIMEOUTS = {"connect": 10.0, "read": 20.0, "write": 10.0, "pool": 10.0}
USER_AGENT = "qabot (article fetch for a question-answering bot)"
# content type -> what it is; octet-stream is sniffed (servers send PDFs as that)
KINDS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text", "application/pdf": "pdf",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
         "application/octet-stream": "sniff"}


class FetchError(Exception):
    """A URL could not be fetched as an article: the message names the URL and why."""


class Fetched(NamedTuple):
    url: str  # after redirects
    kind: str  # html, text, pdf, docx or sniff (see KINDS)
    data: bytes


def fetch(url: str, guard: Callable[[str], None] | None = None, max_bytes: int | None = None) -> Fetched:
    """The body of ``url``; ``FetchError`` for a bad scheme, an HTTP error, a content type that is
    no article, a body over ``max_bytes``, too many redirects, a timeout or a refused address."""
    import httpx  # loaded late: only adding from the web needs it

    first, max_bytes = url, max_bytes or MAX_BYTES
    try:
        with httpx.Client(follow_redirects=False, timeout=httpx.Timeout(**TIMEOUTS),
                          headers={"User-Agent": USER_AGENT}) as client:
            for _ in range(MAX_REDIRECTS + 1):
                checked(url, guard)
                with client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    return body(response, url, max_bytes)
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out; try again later") from None
    except httpx.HTTPError as exc:  # connection refused, bad TLS, a broken response …
        raise FetchError(f"{url}: cannot fetch ({type(exc).__name__}: {exc})") from None
    raise FetchError(f"{first}: more than {MAX_REDIRECTS} redirects; give the page's final address")


def checked(url: str, guard: Callable[[str], None] | None) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http:// and https:// addresses are fetched")
    if guard:
        guard(url)


def body(response, url: str, max_bytes: int) -> Fetched:
    """The checked body of a response that is not a redirect."""
    if response.status_code >= 400:
        raise FetchError(f"{url}: HTTP {response.status_code} {response.reason_phrase}; check the address")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = KINDS.get(content_type)
    if kind is None:
        raise FetchError(f"{url}: {content_type or 'no content type'} is not a web page, PDF, Word or text file")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url}: {size_text(int(declared))}, over the {size_text(max_bytes)} limit")
    chunks, size, start = [], 0, time.monotonic()
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: over the {size_text(max_bytes)} limit")
        if time.monotonic() - start > DEADLINE:
            raise FetchError(f"{url}: still downloading after {DEADLINE:.0f} s; given up")
        chunks.append(chunk)
    return Fetched(str(response.url), kind, b"".join(chunks))


def refuse_private(url: str) -> None:
    """``FetchError`` unless every address the URL's host resolves to is public: no loopback,
    private, link-local, multicast or reserved address (IPv4 inside IPv6 too)."""
    import httpx

    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{url}: cannot resolve {host} ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchError(f"{url}: {host} is a loopback, private or link-local address ({address}); not fetched")
