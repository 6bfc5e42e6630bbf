"""Polite, resilient HTTP for scrapers and API clients (httpx + tenacity).

:class:`Fetcher` adds to an ``httpx.Client``:

* **robots.txt** -- fetched once per host (``urllib.robotparser``); a disallowed URL raises
  :class:`Disallowed` before any request is made; a ``Crawl-delay`` raises the pacing;
* **per-host rate limit** -- at least ``min_interval`` seconds between request starts to one
  host, across threads;
* **retries** -- 429, 5xx, timeouts, dropped connections and responses the caller's ``check``
  rejects (a truncated page) are retried up to ``attempts`` times with exponential backoff and
  full jitter (tenacity ``wait_random_exponential``); a ``Retry-After`` header sets the floor;
* **redirects** -- followed here, hop by hop (at most 10): ``headers`` (tokens) go only to the
  origin the caller asked for, never to another host or port a redirect points to (httpx itself
  drops only ``Authorization`` across origins, not ``X-Api-Key``);
* **Retry-After** -- obeyed up to :func:`stockroom.config.max_retry_after` seconds; a server
  asking longer fails the run with that figure instead of being ignored or cut short;
* **JSON** -- :meth:`Fetcher.get_json` retries a body that does not parse (a truncated
  response) and names the URL when it gives up;
* **secrets** -- headers are never logged; error messages carry method, URL and status only.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from stockroom.errors import StockroomError

log = logging.getLogger(__name__)
USER_AGENT = "StockroomBot/0.1 (+https://github.com/stockroom; polite crawler)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(StockroomError):
    """A request failed for good (after retries, or with a status that is not retried)."""


class Refused(FetchError):
    """The server refused the credentials (HTTP 401/403): retrying cannot help."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class Disallowed(FetchError):
    """robots.txt of the host disallows this URL for our user agent."""


class Retryable(Exception):
    """A response worth retrying; ``retry_after`` (seconds) from the server when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    waited_s: float = 0.0
    reasons: list[str] = field(default_factory=list)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


MAX_REDIRECTS = 10


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class Fetcher:
    """GET with robots.txt, per-host pacing and retries. Use as a context manager.

    ``headers`` are sent with every request (tokens go here; they are never logged).
    ``check(response)`` may raise :class:`Retryable` for a 200 that is not usable yet.
    """

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        respect_robots: bool = True,
        headers: dict[str, str] | None = None,
        user_agent: str = USER_AGENT,
    ):
        self.min_interval = min_interval
        self.attempts = attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.respect_robots = respect_robots
        self.stats = FetchStats()
        self._credentials = dict(headers or {})
        self._client = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": user_agent}
        )
        self._user_agent = user_agent
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- robots and pacing ---------------------------------------------------------------------

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            parser = urllib.robotparser.RobotFileParser(f"{origin}/robots.txt")
            try:
                response = self._request(f"{origin}/robots.txt", robots=False)
                lines = response.text.splitlines() if response.status_code == 200 else []
            except FetchError:
                lines = []  # no robots.txt reachable: everything allowed (RFC 9309 2.3.1.3)
            parser.parse(lines)
            self._robots[origin] = parser
        return self._robots[origin]

    def _pace(self, url: str) -> None:
        host = urlsplit(url).netloc
        interval = self.min_interval
        parser = self._robots.get(f"{urlsplit(url).scheme}://{host}")
        if parser is not None:
            interval = max(interval, float(parser.crawl_delay(self._user_agent) or 0))
        with self._lock:
            now = time.monotonic()
            start = max(now, self._last.get(host, -1e9) + interval)
            self._last[host] = start
        if start > now:
            self.stats.waited_s += start - now
            time.sleep(start - now)

    # -- requests ------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        params: dict | None = None,
        check: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        """GET ``url`` politely; returns the (2xx) response or raises :class:`FetchError`."""
        if self.respect_robots:
            full = str(httpx.URL(url, params=params))
            if not self._robots_for(url).can_fetch(self._user_agent, full):
                raise Disallowed(f"robots.txt disallows {full}")
        return self._request(url, params=params, check=check)

    def get_json(self, url: str, params: dict | None = None) -> object:
        """GET ``url`` and parse its JSON body; a body that does not parse (cut short) is
        retried like a 503. Raises :class:`FetchError` naming the URL when it never parses."""
        parsed: list[object] = []
        self.get(url, params=params, check=self._parses(parsed, "GET"))
        return parsed[-1]

    def post_json(self, url: str, body: dict) -> object:
        """POST ``body`` as JSON to ``url`` (an API's query, not a change: retried like a GET)
        and parse the JSON answer, with the retries of :meth:`get_json`."""
        parsed: list[object] = []
        self._request(url, check=self._parses(parsed, "POST"), method="POST", body=body)
        return parsed[-1]

    @staticmethod
    def _parses(parsed: list, method: str) -> Callable[[httpx.Response], None]:
        def parses(response: httpx.Response) -> None:
            try:
                parsed.append(response.json())  # parsed once, kept for the caller
            except ValueError as exc:
                raise Retryable(
                    f"{method} {response.url}: the body is not complete JSON ({exc})"
                ) from None

        return parses

    def _wait(self, state: RetryCallState) -> float:
        from stockroom import config

        backoff = wait_random_exponential(multiplier=self.backoff, max=self.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        floor = getattr(exc, "retry_after", None) or 0.0
        if floor > config.max_retry_after():
            raise FetchError(
                f"{exc}: the server asks to wait {floor:,.0f} s before retrying, above the "
                f"{config.max_retry_after():,.0f} s limit (STOCKROOM_MAX_RETRY_AFTER); "
                "run again later"
            )
        return max(backoff, floor)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.stats.retries += 1
        self.stats.reasons.append(str(exc))
        log.info("retrying after %s (attempt %d)", exc, state.attempt_number)

    def _request(
        self,
        url: str,
        params: dict | None = None,
        robots: bool = True,
        check: Callable[[httpx.Response], None] | None = None,
        method: str = "GET",
        body: dict | None = None,
    ) -> httpx.Response:
        def once() -> httpx.Response:
            self._pace(url)
            self.stats.requests += 1
            try:
                response = self._follow(url, params, method, body)
            except httpx.TimeoutException as exc:
                raise Retryable(f"{method} {url}: timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise Retryable(f"{method} {url}: {type(exc).__name__}") from None
            if response.status_code in RETRY_STATUSES:
                raise Retryable(
                    f"{method} {response.url}: HTTP {response.status_code}",
                    _retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code in (401, 403):
                raise Refused(
                    f"{method} {response.url}: HTTP {response.status_code} (not "
                    "authorised: check the source's token)",
                    response.status_code,
                )
            if response.status_code >= 400:
                raise FetchError(f"{method} {response.url}: HTTP {response.status_code}")
            if check is not None:
                check(response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            # a FetchError raised while waiting (Retry-After above the limit) ends the retries
            wait=self._wait,
            retry=retry_if_exception_type(Retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(once)
        except Retryable as exc:
            raise FetchError(f"{exc} (gave up after {self.attempts} attempts)") from None

    def _follow(
        self, url: str, params: dict | None, method: str = "GET", body: dict | None = None
    ) -> httpx.Response:
        """One request with its redirects; credentials only ever go to the first URL's
        origin (a POST is re-sent as a POST only on 307/308, as HTTP says)."""
        request = self._client.build_request(method, url, params=params, json=body)
        origin = _origin(request.url)
        for _hop in range(MAX_REDIRECTS + 1):
            if _origin(request.url) == origin:
                request.headers.update(self._credentials)
            response = self._client.send(request)
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            keep = response.status_code in (307, 308) and method != "GET"
            request = self._client.build_request(
                method if keep else "GET",
                request.url.join(location),
                json=body if keep else None,
            )
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects")
