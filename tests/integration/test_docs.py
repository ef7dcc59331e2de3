"""/docs and /redoc come from the tracker itself: no external host in the pages, every asset
they name answers 200, and their policy lets them load nothing from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_keys import make
from tracker.bootstrap import Tracker

pytestmark = pytest.mark.integration

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_name_no_external_host_and_their_assets_are_served(
    client: TestClient, page: str
) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = ASSET.findall(html)
    assert any(a.endswith(".js") for a in assets), html
    for asset in assets:
        assert asset.startswith("/static-offline-docs/"), asset
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert client.get("/openapi.json").status_code == 200
