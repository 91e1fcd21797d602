"""Resolve what the user named (files, folders, URLs) into raw inputs with a stable source key."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse, urlunparse

from ..errors import InputError
from .loaders import SUPPORTED, suffix_for


@dataclass(frozen=True)
class RawInput:
    source: str  # absolute path or normalised URL: the key a changed document is replaced under
    data: bytes
    suffix: str


def is_url(value: str) -> bool:
    return "://" in value or value.lower().startswith(("www.", "http:", "https:"))


def expand(values: list[str]) -> Iterator[str | InputError]:
    """Files named directly, every supported file under a folder (sorted), and URLs as given."""
    for value in values:
        if is_url(value):
            yield value
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUPPORTED and not _hidden(p.relative_to(path))
            )
            if not found:
                yield InputError(str(path), "the folder holds no supported files (.txt .md .html .pdf .docx)")
            yield from (str(p.resolve()) for p in found)
        elif path.exists():
            yield str(path.resolve())
        else:
            yield InputError(value, "no such file or folder")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def read_file(path_str: str, max_bytes: int) -> RawInput:
    path = Path(path_str)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        kinds = " ".join(sorted(SUPPORTED))
        raise InputError(path_str, f"unsupported file type {suffix or '(none)'!r}; supported: {kinds}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(path_str, f"the file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        if size == 0:
            raise InputError(path_str, "the file is empty")
        data = path.read_bytes()
    except PermissionError:
        raise InputError(path_str, "permission denied") from None
    except IsADirectoryError:
        raise InputError(path_str, "is a folder") from None
    except OSError as exc:
        raise InputError(path_str, f"cannot read the file ({exc.strerror})") from None
    return RawInput(source=path_str, data=data, suffix=suffix)


def normalise_url(url: str) -> str:
    if url.lower().startswith("www."):
        url = "https://" + url
    p = urlparse(url)
    host = (p.hostname or "").rstrip(".").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host + (f":{p.port}" if p.port else "")
    return urlunparse((p.scheme.lower(), netloc, p.path or "/", "", p.query, ""))


def _check_host(url: str, host: str, block_private: bool) -> None:
    if not block_private:
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        raise InputError(url, f"cannot resolve host {host!r}") from None
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        # Not only RFC 1918 and loopback: anything not globally routable (100.64/10 carrier-grade NAT,
        # 169.254 link-local cloud metadata, IPv4-mapped IPv6, 0.0.0.0, reserved ranges) is refused.
        if not addr.is_global or addr.is_multicast:
            raise InputError(url, f"refusing a private or loopback address ({addr}) because private URLs are blocked")


def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    max_redirects: int,
    block_private: bool,
    transport: object = None,
) -> RawInput:
    """GET with our own redirect loop (so each hop is checked), a size cap and a content-type check."""
    import httpx

    original = url
    p = urlparse(url if not url.lower().startswith("www.") else "https://" + url)
    if p.scheme.lower() not in ("http", "https") or not p.hostname:
        raise InputError(original, "only http(s) URLs can be ingested")
    current = normalise_url(url)
    kwargs: dict[str, object] = {"timeout": timeout_s, "follow_redirects": False}
    if transport is not None:
        kwargs["transport"] = transport
    with httpx.Client(**kwargs) as client:  # type: ignore[arg-type]
        for _hop in range(max_redirects + 1):
            parsed = urlparse(current)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise InputError(original, f"redirected to a non-http(s) URL {current!r}")
            _check_host(original, parsed.hostname, block_private)
            try:
                with client.stream("GET", current, headers={"User-Agent": "cqc-assistant/0.1"}) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("location")
                        if not location:
                            raise InputError(original, f"HTTP {resp.status_code} redirect without a Location")
                        current = normalise_url(urljoin(current, location))
                        continue
                    if resp.status_code >= 400:
                        raise InputError(original, f"the server answered HTTP {resp.status_code}")
                    ctype = resp.headers.get("content-type", "")
                    suffix = suffix_for(parsed.path, ctype)
                    if suffix not in SUPPORTED:
                        raise InputError(original, f"unsupported content type {ctype.split(';')[0] or '(none)'!r}")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise InputError(
                            original,
                            f"the response is {int(declared):,} bytes, over the {max_bytes:,}-byte limit",
                        )
                    body = bytearray()
                    for part in resp.iter_bytes():
                        body.extend(part)
                        if len(body) > max_bytes:
                            raise InputError(original, f"the response is over the {max_bytes:,}-byte limit")
                    return RawInput(source=normalise_url(url), data=bytes(body), suffix=suffix)
            except httpx.TimeoutException:
                raise InputError(original, f"timed out after {timeout_s:g}s") from None
            except httpx.HTTPError as exc:
                raise InputError(original, f"cannot fetch the URL ({type(exc).__name__}: {str(exc)[:120]})") from None
        raise InputError(original, f"too many redirects (more than {max_redirects})")
