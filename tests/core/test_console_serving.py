"""The web console is served the same way offline (devstack/console.py) and on AWS (template.yaml: CloudFront from
the bucket's console/ prefix, the API on the same domain): same files, same security policy, no traversal."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devstack.console import CONSOLE_DIR, CSP, serve_console
from devstack.template import load_template

T = load_template()
CDN = T["Resources"]["Cdn"]["Properties"]["DistributionConfig"]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next(v for k, v in headers if k.lower() == name.lower())


def _behaviour(pattern: str) -> dict[str, Any]:
    return next(b for b in CDN["CacheBehaviors"] if b["PathPattern"] == pattern)


def test_index_redirect_files_and_types() -> None:
    status, headers, _ = serve_console("GET", "/console", None)
    assert status == 301 and _header(headers, "Location") == "/console/"
    status, headers, body = serve_console("GET", "/console/", None)
    assert status == 200 and body == (CONSOLE_DIR / "index.html").read_bytes()
    assert _header(headers, "Content-Type").startswith("text/html")
    for path, kind in (("js/main.js", "text/javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        status, headers, body = serve_console("GET", f"/console/{path}?v=1", None)
        assert status == 200 and body == (CONSOLE_DIR / path).read_bytes()
        assert _header(headers, "Content-Type").startswith(kind)
        assert _header(headers, "X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/console/../pyproject.toml",
        "/console/%2e%2e/pyproject.toml",
        "/console/js/../../README.md",
        "/console/.git",
        "/console/missing.js",
        "/consolex",
        "/console//etc/passwd",
    ],
)
def test_nothing_outside_the_folder(path: str) -> None:
    status, _, body = serve_console("GET", path, None)
    assert status == 404 and body == b"not found"


def test_only_reads() -> None:
    assert serve_console("POST", "/console/", b"x")[0] == 405


def test_every_page_script_and_style_is_local() -> None:
    """Nothing is fetched from a third party at run time: every src/href of index.html and every import is relative."""
    html = (CONSOLE_DIR / "index.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs and all(not re.match(r"^[a-z]+:|^//", ref) for ref in refs), refs
    for script in (CONSOLE_DIR / "js").glob("*.js"):
        for ref in re.findall(r'from "([^"]+)"|import\("([^"]+)"\)', script.read_text(encoding="utf-8")):
            target = next(r for r in ref if r)
            assert target.startswith("./") and (script.parent / target).is_file(), (script.name, target)


def test_cloudfront_serves_the_console_with_the_offline_policy() -> None:
    console = _behaviour("/console*")
    assert console["TargetOriginId"] == "images"
    assert console["AllowedMethods"] == ["GET", "HEAD"]
    policy = T["Resources"]["ConsoleResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    deployed = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert " ".join(deployed.split()) == CSP.format(cdn="")  # same origin there: no extra image host
    # the API the console calls is on the same domain, uncached, with every header and query string
    api_origin = next(o for o in CDN["Origins"] if o["Id"] == "api")
    assert api_origin["OriginPath"] == "/v1"
    for pattern in ("/midjourney/*", "/admin/*"):
        behaviour = _behaviour(pattern)
        assert behaviour["TargetOriginId"] == "api"
        assert "POST" in behaviour["AllowedMethods"]
        assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [("/console/", "/console/index.html"), ("/console/js/main.js", "/console/js/main.js"), ("/console", "301")],
)
def test_the_cloudfront_function_finds_the_index(uri: str, expected: str, tmp_path: Path) -> None:
    code = T["Resources"]["ConsoleIndexFunction"]["Properties"]["FunctionCode"]
    script = tmp_path / "fn.js"
    script.write_text(
        code + f"\nconst r = handler({{request: {{uri: {uri!r}}}}});\n"
        "console.log(r.statusCode ? String(r.statusCode) + ' ' + r.headers.location.value : r.uri);\n",
        encoding="utf-8",
    )
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    assert out.split()[0] == expected
    if expected == "301":
        assert out.split()[1] == "/console/"
