"""Pieces of a report page, found in the HTML the report writes."""

from __future__ import annotations

import base64
import re
from html import unescape

VIDEO_SOURCE = re.compile(r'<video src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"')
EXTERNAL_REFERENCE = re.compile(
    r"""(?:src|href)\s*=\s*(?!["']?(?:data:|#))|url\((?!#)|@import""", re.IGNORECASE
)
"""A reference to anything but an embedded data URI or a fragment of the page itself."""


def embedded_videos(html: str) -> list[bytes]:
    return [base64.b64decode(encoded) for encoded in VIDEO_SOURCE.findall(html)]


def clip_sections(html: str) -> list[str]:
    return re.findall(r'<section class="clip".*?</section>', html, flags=re.DOTALL)


def table_rows(html: str) -> list[list[str]]:
    """The text of every body cell, row by row, of the tables in `html`."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)
        if cells:
            rows.append([unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells])
    return rows


def status_list(html: str, status: str) -> list[list[str]]:
    """The rows of the full record list of `status` in the failures section."""
    match = re.search(rf'<details[^>]*data-status="{status}".*?</details>', html, flags=re.DOTALL)
    return [] if match is None else table_rows(match.group(0))
