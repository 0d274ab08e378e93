"""Dashboard sessions driven in headless Chromium (Playwright's async API), for the load benchmark
(:mod:`app.bench.load`): open a page, press Train, sample what the page shows, press Stop.

Every time here is the browser's or this machine's clock; the training stamps each epoch with
``time.time()`` (the status line marks the epoch up as the time it finished, ``<time datetime>``), so how far the page is behind the
training is read in the page itself."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

#: the status line's state, read inside the page (Panel's panes live in shadow roots)
READ_STATE = """() => {
  const find = (root, css) => { const hit = root.querySelector(css); if (hit) return hit;
    for (const e of root.querySelectorAll("*")) if (e.shadowRoot) { const h = find(e.shadowRoot, css); if (h) return h; }
    return null; };
  // the status pane's shadow root is found once: its content is replaced on every update, the root is not
  let root = window.__hybridlabStatusRoot;
  if (!root || !root.host || !root.host.isConnected || !root.querySelector(".status")) {
    const status = find(document, ".status");
    root = window.__hybridlabStatusRoot = status ? status.getRootNode() : null;
  }
  const status = root && root.querySelector(".status"), epoch = root && root.querySelector(".epoch");
  const line = status && status.parentElement;
  return {status: status ? status.textContent : null, epoch: epoch ? Number(epoch.textContent) : null,
          produced: epoch && epoch.getAttribute("datetime") ? Date.parse(epoch.getAttribute("datetime")) / 1000 : null,
          queued: line ? line.textContent.includes("position") : false, now: Date.now() / 1000}; }"""
ENDED = ("stopped", "cancelled", "finished")


@dataclass
class Sample:
    status: str | None
    epoch: int | None
    produced: float | None
    queued: bool
    now: float


@dataclass
class BrowserSession:
    """One participant: a page of the dashboard and what was measured in it."""

    page: object
    ready_seconds: float | None = None
    response_seconds: float | None = None
    train_clicked: float | None = None
    first_kge_seconds: float | None = None
    started_at_once: bool | None = None
    saw_queue_position: bool = False
    stop_seconds: float | None = None
    stop_status: str | None = None
    open_error: str | None = None
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser, url: str, timeout_s: float = 120) -> "BrowserSession":
        """A new page; ``response_seconds``: from the request until the server answered (it builds
        the session's page first); ``ready_seconds``: until Train can be pressed (None and
        ``open_error`` set when that took over ``timeout_s``)."""
        page = await browser.new_page(viewport={"width": 1440, "height": 900})
        session = cls(page)
        page.on("pageerror", lambda error: session.errors.append(str(error)))
        start = time.perf_counter()
        try:
            # the server builds the session's document before it answers: its share of the wait
            await page.goto(url, timeout=timeout_s * 1000, wait_until="commit")
            session.response_seconds = time.perf_counter() - start
            train = page.get_by_role("button", name="Train", exact=True)
            await train.wait_for(timeout=timeout_s * 1000)
            while not await train.is_enabled():
                await asyncio.sleep(0.05)
        except Exception as e:  # Playwright's TimeoutError: this page counts as never ready
            session.open_error = f"{type(e).__name__}: {str(e).splitlines()[0]}"
            return session
        session.ready_seconds = time.perf_counter() - start
        return session

    @property
    def ready(self) -> bool:
        return self.ready_seconds is not None

    async def read(self) -> Sample:
        return Sample(**await self.page.evaluate(READ_STATE))

    async def train(self, timeout_s: float = 300) -> None:
        """Press Train; ``first_kge_seconds`` once the first validation KGE shows (in the background)."""
        await self.page.get_by_role("button", name="Train", exact=True).click()
        self.train_clicked = time.perf_counter()
        asyncio.get_running_loop().create_task(self._first_kge(timeout_s))

    async def _first_kge(self, timeout_s: float) -> None:
        try:
            await self.page.locator(".kge-values").first.wait_for(timeout=timeout_s * 1000)
            self.first_kge_seconds = time.perf_counter() - self.train_clicked
        except Exception:  # no KGE within the time (a queued training): left as None
            pass

    async def follow(self, seconds: float, every: float = 1.0) -> None:
        """Sample the status line for ``seconds``."""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            sample = await self.read()
            self.samples.append(sample)
            self.saw_queue_position |= sample.queued
            if self.started_at_once is None:  # the first sample, taken after every page pressed Train
                self.started_at_once = sample.status == "training"
            await asyncio.sleep(every)

    async def stop(self, timeout_s: float = 60) -> None:
        """Press Stop and time it until the status line says stopped, cancelled or finished."""
        await self.page.get_by_role("button", name="Stop", exact=True).click(timeout=timeout_s * 1000)
        start = time.perf_counter()
        while time.perf_counter() - start < timeout_s:
            status = (await self.read()).status
            if status in ENDED:
                self.stop_seconds, self.stop_status = time.perf_counter() - start, status
                return
            await asyncio.sleep(0.1)

    def lags(self) -> list[float]:
        """How old the epoch shown was, at each sample while training (s)."""
        return [s.now - s.produced for s in self.samples if s.status == "training" and s.produced is not None]

    def seconds_per_epoch(self) -> float | None:
        """From the training's own stamps of the epochs this page showed."""
        shown = [(s.epoch, s.produced) for s in self.samples if s.status == "training" and s.produced is not None]
        if len(shown) < 2 or shown[-1][0] <= shown[0][0]:
            return None
        return (shown[-1][1] - shown[0][1]) / (shown[-1][0] - shown[0][0])
