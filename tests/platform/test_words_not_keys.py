"""Every page a role can reach, on the demo company, in Chinese: people read words, never keys.

The walk starts from every page of the URL map that takes no arguments and follows the links
each page offers (a few of each kind), signed in as each demo role. It fails when the visible
text shows an internal id (a clause id such as `attendance.hours`, an event kind such as
`notify.message_created`, `user:5`, `employee:53`) or an English word outside the product terms.
Code blocks, tooltips and the "technical details" folds HR opens (`data-technical`) are not
visible text.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from lms.demo import DEMO_LOGINS
from tests.conftest import make_test_config

ID_PATTERNS = (re.compile(r"\b[a-z]+\.[a-z_]+\b"), re.compile(r"\buser:\d+"), re.compile(r"\bemployee:\d+"),
               # an instant as stored (UTC, ISO) instead of the company's zone and format
               re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|[+-]00:00\b|\bUTC\b"))
# Words that are product terms in a Chinese company too (file formats, channel names, the demo's
# sign-in names and its sample e-mail domain are stripped before this check).
ALLOWED_ENGLISH = {"PDF", "CSV", "XLSX", "XLS", "ZIP", "JSON", "JSONL", "HR", "API", "SMS", "ID", "QR", "URL",
                   "IP", "English", "HTTP", "HTTPS", "SHA", "OpenAPI", "Markdown", "YAML", "EMS", "DingTalk", "Redis",
                   "PostgreSQL", "SQLite", "LMS", "Bearer", "PNG", "JPG", "JPEG", "RQ", "HRIS", "KiB", "MB",
                   "Excel", "Windows", "GBK", "UTF", "ISO", "APP"}
DEMO_USERNAMES = {username for username, *_ in DEMO_LOGINS}
# Mail addresses, web addresses and file names are what they are, in any language.
VERBATIM = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|[\w-]*\.(?:pdf|csv|xlsx|zip|jsonl|json|py|png|jpe?g|html)\b")
SKIPPED_ENDPOINTS = {"static", "auth.logout", "web.set_language", "web.livez", "web.healthz"}
PER_ENDPOINT = 3


class VisibleText(HTMLParser):
    """The text a person reads: no script, style, code, tooltips or technical folds."""

    HIDDEN = {"script", "style", "code", "pre", "template", "head"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: does it hide its content?
        self.chunks: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href") and "download" not in attributes:
            self.links.append(attributes["href"])
        if tag in self.VOID:
            return
        self.stack.append(tag in self.HIDDEN or "data-technical" in attributes)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack):
            self.chunks.append(data)


def _problems(text: str) -> list[str]:
    text = VERBATIM.sub(" ", text)
    found = [match.group(0) for pattern in ID_PATTERNS for match in pattern.finditer(text)]
    for word in re.findall(r"[A-Za-z][A-Za-z]+", text):
        if word not in ALLOWED_ENGLISH and word not in DEMO_USERNAMES:
            found.append(word)
    return found


def walk(app, client) -> dict[str, list[str]]:
    """Visit the role's pages; returns {url: [offending words]} and the endpoints seen."""
    adapter = app.url_map.bind("localhost")
    queue = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and rule.endpoint not in SKIPPED_ENDPOINTS
             and not rule.rule.startswith("/api/")]
    seen_urls: set[str] = set()
    per_endpoint: Counter = Counter()
    problems: dict[str, list[str]] = {}
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if url in seen_urls or parts.netloc not in ("", "localhost") or parts.path.startswith(("/api/", "/static/")):
            continue
        seen_urls.add(url)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except HTTPException:
            continue
        if endpoint in SKIPPED_ENDPOINTS or per_endpoint[endpoint] >= PER_ENDPOINT:
            continue
        per_endpoint[endpoint] += 1
        response = client.get(url)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        parser = VisibleText()
        parser.feed(response.get_data(as_text=True))
        found = _problems(" ".join(parser.chunks))
        if found:
            problems[url] = sorted(set(found))
        base = parts.path + (f"?{parts.query}" if parts.query else "")
        queue.extend(urljoin(base, link).split("#")[0] for link in parser.links)
    return problems, per_endpoint


@pytest.fixture
def app_config(_migrated):
    return make_test_config(_migrated, LMS_LOCALE="zh_CN")


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return app


@pytest.mark.parametrize(("username", "password"), [(u, p) for u, p, *_ in DEMO_LOGINS])
def test_every_page_speaks_words_not_keys(demo, username, password):
    client = demo.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    problems, visited = walk(demo, client)
    assert sum(visited.values()) > 5
    assert not problems, "\n".join(f"{url}: {', '.join(words)}" for url, words in sorted(problems.items()))
