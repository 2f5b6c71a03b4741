"""The web console (/console) in a real browser: headless Chromium from the system's packages, driven by Playwright,
against the whole offline stack. Saves the screenshots the README shows: into MJAPI_SCREENSHOT_DIR when set
(`MJAPI_SCREENSHOT_DIR=docs/screenshots pytest tests/e2e/test_console_browser.py` refreshes the README's), else into
pytest's temporary directory, so a test run never changes the work tree.

Skipped, saying why, when Playwright or a Chromium cannot be started (`apt-get install chromium`; .ci/run does it)."""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from devstack.stack import RunningStack
from tests.e2e.conftest import ADMIN, Client

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1360, "height": 860}


def _chromium() -> str | None:
    found = os.environ.get("MJAPI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium found: apt-get install -y chromium (or set MJAPI_CHROMIUM to a Chromium binary)")
    with sync_api.sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=30_000)
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {path} could not be started: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


class Console:
    """One browser tab on the console, failing the test on any script error or CSP violation it logs."""

    def __init__(self, browser: Any, stack: RunningStack, shots: Path) -> None:
        self.shots = shots
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)
        self.url = f"{stack.api_url}/console"

    def _console(self, message: Any) -> None:
        text = message.text
        # the API's 4xx answers are logged by Chromium as failed loads; the app shows them itself
        if message.type == "error" and "Failed to load resource" not in text:
            self.problems.append(text)

    def sign_in(self, token: str = "", admin: str = "", gateway_key: str = "") -> None:
        page = self.page
        page.goto(self.url)
        page.wait_for_selector("#signin-form")
        page.fill("#signin-token", token)
        if admin:
            page.click("#signin-admin summary")
            page.fill("#signin-admin-key", admin)
        if gateway_key:
            page.click("#signin-gateway summary")
            page.fill("#signin-api-key", gateway_key)
        page.press("#signin-token", "Enter")
        page.wait_for_selector("#app:not([hidden])")

    def shot(self, name: str, **kwargs: Any) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / name
        self.page.screenshot(path=str(path), **kwargs)
        return path

    def close(self) -> None:
        self.context.close()
        assert not self.problems, self.problems


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("MJAPI_SCREENSHOT_DIR")
    return Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def console(browser: Any, stack: RunningStack, shots: Path) -> Iterator[Console]:
    tab = Console(browser, stack, shots)
    yield tab
    tab.close()


def _png_bytes(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(out, format="PNG")
    return out.getvalue()


def _job_card(console: Console, status: str, nth: int = 0) -> Any:
    return console.page.locator(f'.job[data-status="{status}"]').nth(nth)


def test_sign_in_imagine_watch_progress_press_u1_and_open_history(
    console: Console, client: Client, stack: RunningStack
) -> None:
    page = console.page
    token = client.token(50)
    page.goto(console.url)
    assert page.evaluate("() => sessionStorage.length") == 0
    console.sign_in(token)
    assert page.evaluate("() => sessionStorage.getItem('mjapi.token')") == token
    assert page.evaluate("() => localStorage.length") == 0  # the token is kept for the session only

    stack.simulator.set_speed(8)  # slow enough to watch the progress bar move
    try:
        page.fill("#prompt", "a glass frog on a mossy branch, macro photography")
        page.click('#ratios button[data-ratio="3:2"]')
        page.select_option("#mode", "fast")
        assert page.text_content("#final-prompt") == "a glass frog on a mossy branch, macro photography --ar 3:2"
        page.press("#prompt", "Control+Enter")
        page.locator(".job").first.wait_for()
        card = page.locator(f'.job[data-id="{page.locator(".job").first.get_attribute("data-id")}"]')
        seen: list[int] = []
        page.wait_for_function(
            "() => { const p = document.querySelector('.job progress'); return p && p.value > 0 && p.value < 100 }",
            timeout=40_000,
        )
        page.wait_for_selector(".job .job-media img.preview", timeout=40_000)  # the preview, without a reload
        console.shot("console-progress.png")
        while card.get_attribute("data-status") != "succeeded":
            seen.append(int(card.locator("progress").evaluate("p => p.value")))
            page.wait_for_timeout(250)
            assert len(seen) < 400, seen
    finally:
        stack.simulator.set_speed(200)
    assert card.locator(".pct").text_content() == "100%"
    assert card.locator("progress").evaluate("p => p.value") == 100
    assert seen == sorted(seen) and any(0 < v < 100 for v in seen), seen
    assert "fast" in (card.locator(".job-meta").text_content() or "")  # the account's mode
    grid = card.locator(".job-media img.result")
    grid.wait_for()
    assert grid.evaluate("img => img.naturalWidth / img.naturalHeight") == pytest.approx(1.5, abs=0.05)
    labels = card.locator(".mj-button").all_text_contents()
    assert {"U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "🔄"} <= set(labels)
    console.shot("console-grid.png")

    # U1 by keyboard: focus the button and press Enter
    card.get_by_role("button", name="U1", exact=True).focus()
    page.keyboard.press("Enter")
    upscale = page.locator(".job").first
    page.wait_for_function("() => document.querySelectorAll('.job').length === 2")
    page.wait_for_selector('.job:first-child[data-status="succeeded"] .job-media img.result')
    assert "U1" in (upscale.locator(".job-title").text_content() or "")
    assert "Upscaled image" in (upscale.locator(".job-media img").get_attribute("alt") or "")
    up_labels = set(upscale.locator(".mj-button").all_text_contents())
    assert {"Vary (Region)", "Custom Zoom", "Zoom Out 2x"} <= up_labels
    assert "pressed" in (card.get_by_role("button", name="U1", exact=True).get_attribute("class") or "")
    console.shot("console-upscale.png", full_page=False)

    # History: the tab by keyboard (arrow right from Create), a gallery of both jobs
    page.focus("#tab-create")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.id") == "tab-history"
    page.wait_for_selector("#history .shot")
    shots = page.locator("#history .shot")
    assert shots.count() == 2
    assert "a glass frog" in (shots.nth(1).text_content() or "")
    assert shots.nth(0).locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert console.shot("console-history.png").stat().st_size > 10_000

    # opening a history entry brings its job back into the live feed
    shots.nth(1).locator("button").click()
    page.wait_for_selector("#view-create:not([hidden])")
    assert page.locator(".job").count() == 2


def test_the_api_validation_messages_show_under_the_prompt(console: Console, client: Client) -> None:
    console.sign_in(client.token(5))
    page = console.page
    page.fill("#prompt", "a cat --foo")
    page.click("#imagine-submit")
    page.wait_for_selector("#prompt-error:not(:empty)")
    assert page.text_content("#prompt-error") == "invalid_parameter: Unrecognized parameter --foo"
    page.fill("#prompt", "")
    page.click("#imagine-submit")
    page.wait_for_function("() => document.querySelector('#prompt-error').textContent.startsWith('invalid_request')")
    assert page.locator(".job").count() == 0

    page.click("#signout")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.evaluate("() => sessionStorage.length") == 0
    page.fill("#signin-token", "mjk_wrong")
    page.press("#signin-token", "Enter")
    page.wait_for_selector("#signin-error:not(:empty)")
    assert (page.text_content("#signin-error") or "").startswith("unauthorized")


def test_buttons_with_forms_mask_painter_describe_and_blend_by_drop(
    console: Console, client: Client, tmp_path: Path
) -> None:
    token = client.token(30)
    grid = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a paper boat", "mode": "fast"})
    grid_id = grid.json()["id"]
    assert client.wait_job(token, grid_id)["status"] == "succeeded"
    up = client.http.get("/midjourney/action", params={"token": token, "job": grid_id, "action": "U2"})
    up_id = up.json()["action_job_id"]
    assert client.wait_job(token, up_id)["status"] == "succeeded"

    console.sign_in(token)
    page = console.page
    page.click("#tab-history")
    page.locator("#history .shot button").first.click()  # the newest job: the upscale, back into the live feed
    card = page.locator(f'.job[data-id="{up_id}"]')
    card.locator(".mj-button").first.wait_for()

    # Custom Zoom asks for the prompt (with --zoom) in a dialog
    card.get_by_role("button", name="Custom Zoom").click()
    dialog = page.locator("#prompt-dialog")
    dialog.wait_for()
    assert (page.input_value("#prompt-dialog-text")).endswith("--zoom 2")
    page.fill("#prompt-dialog-text", "a paper boat on a pond --zoom 1.5")
    page.click("#prompt-dialog-ok")
    page.wait_for_function("() => document.querySelectorAll('.job').length === 2")
    page.wait_for_selector('.job:first-child[data-status="succeeded"]')
    assert "zoom" in (page.locator(".job").first.locator(".job-title").text_content() or "").lower()

    # Vary (Region): the mask painter, a rectangle added with the keyboard-friendly fields, and one brush stroke
    card.get_by_role("button", name="Vary (Region)").click()
    page.wait_for_selector("#mask-dialog[open]")
    page.wait_for_function("() => document.querySelector('#mask-image').naturalWidth > 0")
    page.click("#mask-ok")  # nothing painted yet: refused with a message
    page.wait_for_selector("#mask-error:not(:empty)")
    page.fill("#rect-x", "10")
    page.fill("#rect-w", "30")
    page.click("#rect-add")
    box = page.locator("#mask-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.8, steps=5)
    page.mouse.up()
    page.fill("#mask-prompt", "a paper boat with a red sail")
    console.shot("console-mask.png")
    mask_url = page.evaluate("() => import('./js/mask.js').then(m => m.maskDataUrl())")
    with Image.open(io.BytesIO(base64.b64decode(mask_url.split(",", 1)[1]))) as mask:
        width, height = mask.size
        gray = mask.convert("L")
        assert gray.getpixel((int(width * 0.25), int(height * 0.5))) == 255  # inside the rectangle
        assert gray.getpixel((int(width * 0.77), int(height * 0.75))) == 255  # under the brush stroke
        assert gray.getpixel((int(width * 0.05), int(height * 0.05))) == 0  # kept
    page.click("#mask-ok")
    page.wait_for_function("() => document.querySelectorAll('.job').length === 3")
    page.wait_for_selector('.job:first-child[data-status="succeeded"]')

    # Describe by dropping a file on the drop zone
    page.click("#tool-describe")
    _drop(page, "#describe-drop", [("red.png", _png_bytes((200, 30, 30)))])
    page.wait_for_selector("#describe-preview:not([hidden])")
    page.click("#describe-submit")
    page.wait_for_function("() => document.querySelectorAll('.job').length === 4")
    described = page.locator(".job").first
    described.locator(".job-prompts li").first.wait_for()
    assert described.locator(".job-prompts li").count() == 4
    assert "1️⃣" in described.locator(".mj-button").all_text_contents()

    # Blend two dropped images
    page.click("#tool-blend")
    _drop(page, "#blend-drop", [("red.png", _png_bytes((200, 30, 30))), ("blue.png", _png_bytes((30, 30, 200)))])
    assert page.locator("#blend-list li").count() == 2
    page.select_option("#blend-dimensions", "landscape")
    page.click("#blend-submit")
    page.wait_for_function("() => document.querySelectorAll('.job').length === 5")
    page.wait_for_selector('.job:first-child[data-status="succeeded"] .job-media img.result')
    blend = page.locator(".job").first.locator(".job-media img")
    assert blend.evaluate("img => img.naturalWidth > img.naturalHeight")


def test_an_api_gateway_key_rides_on_every_api_request(console: Console, client: Client) -> None:
    """Deployments with ApiKeys=true make API Gateway refuse requests without x-api-key: the console sends the key
    given at sign-in with each call (and forgets it on sign-out)."""
    sent: list[tuple[str, str | None]] = []
    console.page.on(
        "request",
        lambda request: (
            sent.append((request.url, request.headers.get("x-api-key")))
            if "/midjourney/" in request.url or "/admin/" in request.url
            else None
        ),
    )
    console.sign_in(client.token(5), admin=ADMIN, gateway_key="gw-key-0123")
    page = console.page
    page.fill("#prompt", "a paper lantern")
    page.click("#imagine-submit")
    page.wait_for_selector('.job[data-status="succeeded"]')
    paths = {urlsplit(url).path for url, _ in sent}
    assert {"/midjourney/history", "/midjourney/imagine", "/midjourney/job", "/admin/accounts"} <= paths, paths
    assert {key for _, key in sent} == {"gw-key-0123"}, sent
    page.click("#signout")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.evaluate("() => sessionStorage.length") == 0


def test_shorten_lists_five_prompts_and_imagines_the_chosen_one(console: Console, client: Client) -> None:
    console.sign_in(client.token(10))
    page = console.page
    page.click("#tool-shorten")
    page.click("#shorten-submit")  # nothing written: refused in the page, nothing sent
    page.wait_for_selector("#shorten-error:not(:empty)")
    assert page.locator(".job").count() == 0

    long_prompt = "a very detailed and elaborate painting of an old lighthouse on a stormy cliff at dusk"
    page.fill("#shorten-prompt", long_prompt)
    page.click("#shorten-submit")
    shortened = page.locator(".job").first
    shortened.locator(".job-prompts li").nth(4).wait_for()
    listed = shortened.locator(".job-prompts li").all_text_contents()
    assert len(listed) == 5 and all(text.strip() for text in listed)
    assert "lighthouse" in " ".join(listed).lower()
    page.wait_for_timeout(500)  # the progress bar's fill is animated: let it reach 100 % for the screenshot
    console.shot("console-shorten.png")

    shortened.get_by_role("button", name="1️⃣").click()  # asks for the prompt, prefilled with the first one
    page.locator("#prompt-dialog").wait_for()
    chosen = page.input_value("#prompt-dialog-text")
    assert chosen and chosen in listed[0]
    page.click("#prompt-dialog-ok")
    page.wait_for_function("() => document.querySelectorAll('.job').length === 2")
    page.wait_for_selector('.job:first-child[data-status="succeeded"] .job-media img.result')
    assert chosen.split(" --")[0] in (page.locator(".job").first.locator(".job-prompt").text_content() or "")


def _drop(page: Any, selector: str, files: list[tuple[str, bytes]]) -> None:
    """A real drop event carrying files, as the browser fires it when files are dragged from the desktop."""
    payload = [{"name": name, "bytes": list(data)} for name, data in files]
    page.evaluate(
        """([selector, files]) => {
            const dt = new DataTransfer();
            for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, {type: 'image/png'}));
            const zone = document.querySelector(selector);
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        [selector, payload],
    )


def test_admin_sees_accounts_and_mints_a_token(console: Console) -> None:
    console.sign_in(admin=ADMIN)
    page = console.page
    page.wait_for_selector("#view-accounts:not([hidden]) #accounts tbody tr")
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 2
    text = page.text_content("#accounts") or ""
    for word in ("demo1", "demo2", "fast", "relax", "ok"):
        assert word in text
    console.shot("console-accounts.png")

    page.click("#tab-tokens")
    page.fill("#token-count", "7")
    page.fill("#token-label", "browser")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#token-made:not([hidden])")
    token = page.text_content("#token-value") or ""
    assert token.startswith("mjk_")
    page.click("#token-use")
    page.wait_for_selector("#view-create:not([hidden])")
    assert page.evaluate("() => sessionStorage.getItem('mjapi.token')") == token
    assert not page.is_disabled("#imagine-submit")
