"""HTTP Basic auth (contract §1.2, A20) and the JSON error envelope on every kind of error (§1.4, A26)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from emulator.testing import EmulatorControl, EmulatorServer
from tests.emulator.support import assert_error, data

UNAUTHORIZED_DESCRIPTION = (
    "This happens because of 1)Miss match between access token and secret key "
    "2)Miss match between access token and workspace 3)No valid Access token provided."
)
FORBIDDEN_DESCRIPTION = (
    "The Access token does not have permissions to perform the request. Check access token's permissions. "
    "Read more https://docs.fastpix.io/docs/user-roles"
)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("demo-token-id", "wrong-secret"),
        basic("someone-else", "demo-secret-key"),
        basic("demo-token-id", ""),
        {"Authorization": "Bearer demo-secret-key"},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    ],
    ids=["missing", "wrong-secret", "unknown-token", "empty-secret", "bearer", "garbage", "no-colon"],
)
def test_missing_or_bad_credentials_are_401_with_the_vendor_text(
    anonymous: httpx.Client, headers: dict[str, str]
) -> None:
    response = anonymous.get("/live/streams", headers=headers)
    assert_error(response, 401, "unauthorized", UNAUTHORIZED_DESCRIPTION)


def test_good_credentials_are_accepted(anonymous: httpx.Client) -> None:
    assert (
        anonymous.get("/live/streams", headers=basic("demo-token-id", "demo-secret-key")).status_code == 200
    )


def test_auth_is_checked_before_routing_so_unknown_paths_are_401_without_credentials(
    anonymous: httpx.Client,
) -> None:
    assert_error(anonymous.get("/no/such/route"), 401, "unauthorized")


class TestReadOnlyToken:
    @pytest.fixture
    def reader(self, emulator_server: EmulatorServer, control: EmulatorControl) -> Iterator[httpx.Client]:
        control.add_credentials("reader-token", "reader-secret", ("read",))
        with httpx.Client(
            base_url=emulator_server.api_base, auth=("reader-token", "reader-secret")
        ) as client:
            yield client

    def test_a_read_only_token_can_read(self, reader: httpx.Client, control: EmulatorControl) -> None:
        stream_id = control.create_stream(status="active", views=7)["streamId"]
        assert data(reader.get(f"/live/streams/{stream_id}"))["streamId"] == stream_id
        assert data(reader.get(f"/live/streams/{stream_id}/viewer-count")) == {"views": 7}
        assert reader.get("/live/streams").status_code == 200

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("POST", "", None),
            ("PATCH", "/{id}", {"metadata": {"a": "b"}}),
            ("PUT", "/{id}/live-disable", None),
            ("PUT", "/{id}/finish", None),
            ("DELETE", "/{id}", None),
            ("POST", "/{id}/playback-ids", {"accessPolicy": "public"}),
        ],
    )
    def test_a_read_only_token_gets_403_forbidden_on_a_mutation_and_nothing_changes(
        self, reader: httpx.Client, control: EmulatorControl, method: str, suffix: str, body: dict | None
    ) -> None:
        stream = control.create_stream(status="active")
        path = "/live/streams" + suffix.format(id=stream["streamId"])
        if method == "POST" and not suffix:
            body = {"playbackSettings": {}, "inputMediaSettings": {}}
        response = reader.request(method, path, json=body)
        assert_error(response, 403, "forbidden", FORBIDDEN_DESCRIPTION)
        assert control.stream_state(stream["streamId"])["stream"] == stream
        assert len(reader.get("/live/streams").json()["data"]) == 1

    def test_reset_forgets_added_tokens(self, reader: httpx.Client, control: EmulatorControl) -> None:
        control.reset()
        assert_error(reader.get("/live/streams"), 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nothing-here", 404, "route not found"),
        ("GET", "/live/streams/", 404, "route not found"),
        ("GET", "/live/streams/abc/unknown", 404, "route not found"),
        ("PUT", "/live/streams", 405, "method not allowed"),
        ("POST", "/live/streams/abc/finish", 405, "method not allowed"),
        ("GET", "/live/streams/abc", 404, "stream not found"),
        ("GET", "/on-demand/4fa85f64-5717-4562-b3fc-2c963f66afa6", 404, "media workspace relation not found"),
    ],
)
def test_routing_errors_are_json_envelopes(
    api: httpx.Client, method: str, path: str, status: int, message: str
) -> None:
    assert_error(api.request(method, path), status, message)


def test_405_lists_every_method_of_the_path(api: httpx.Client) -> None:
    response = api.put("/live/streams")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_paths_outside_v1_and_the_control_api_are_json_404s(emulator_server: EmulatorServer) -> None:
    response = httpx.get(f"{emulator_server.base_url}/v2/live/streams")
    assert_error(response, 404, "route not found")


def test_an_oversized_body_is_a_json_error(api: httpx.Client) -> None:
    response = api.post("/live/streams", content=b"{" + b" " * 1_100_000 + b"}")
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == 413
