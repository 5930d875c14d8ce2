"""Sign-in, roles, the user command, failed-login throttling, and /healthz."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from streams.roles import ROLES
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/streams/", "/streams/new/", "/recordings/", "/audit/", "/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_login_page_is_our_own_and_needs_no_login(client: Any) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"<h1>Sign in</h1>" in response.content


def test_the_role_groups_hold_exactly_their_permissions() -> None:
    for role in ROLES.values():
        group = Group.objects.get(name=role.group)
        assert sorted(p.codename for p in group.permissions.all()) == sorted(role.permissions)


def test_producers_cannot_create_edit_or_delete(make_user: Any) -> None:
    producer = make_user("producer")
    assert producer.has_perm("streams.finish_stream")
    assert producer.has_perm("streams.reveal_secrets")
    for codename in ("create_stream", "edit_stream", "delete_stream", "view_audit_log"):
        assert not producer.has_perm(f"streams.{codename}")


def test_reviewers_can_only_view(make_user: Any) -> None:
    reviewer = make_user("reviewer")
    assert reviewer.has_perm("streams.view_streams")
    assert reviewer.has_perm("streams.view_recordings")
    assert not reviewer.has_perm("streams.reveal_secrets")


def test_the_command_creates_a_user_in_a_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEW_PASSWORD", "a-long-and-unusual-passphrase-42")
    out = StringIO()
    call_command(
        "create_console_user", "dana", "--role", "producer", "--password-env", "NEW_PASSWORD", stdout=out
    )
    user = User.objects.get(username="dana")
    assert [g.name for g in user.groups.all()] == ["Producer"]
    assert user.check_password("a-long-and-unusual-passphrase-42")
    assert "Created dana as Producer" in out.getvalue()


def test_the_command_rejects_a_weak_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEW_PASSWORD", "1234")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_console_user", "eve", "--role", "reviewer", "--password-env", "NEW_PASSWORD")
    assert not User.objects.filter(username="eve").exists()


def test_signing_in_with_the_right_password_lands_on_the_streams_list(client: Any, make_user: Any) -> None:
    make_user("reviewer", "rita")
    response = client.post("/login/", {"username": "rita", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/streams/"


def test_repeated_failed_sign_ins_are_locked_out_even_with_the_right_password(
    client: Any, make_user: Any
) -> None:
    make_user("reviewer", "rita")
    for _ in range(5):
        response = client.post("/login/", {"username": "rita", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code in {200, 429}
    response = client.post("/login/", {"username": "rita", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content


def test_a_reviewer_gets_403_on_admin_only_pages(reviewer_client: Any) -> None:
    for url in ("/streams/new/", "/audit/"):
        response = reviewer_client.get(url)
        assert response.status_code == 403
        assert b"You can't do that here" in response.content


def test_healthz_needs_no_login_and_says_fastpix_answers(client: Any, emulator: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "fastpix": "ok",
        "ages": {"last_event": None, "last_reconcile": None, "last_sample": None, "last_refresh": None},
    }


def test_healthz_says_when_fastpix_is_unreachable(client: Any, settings: Any) -> None:
    from streams.client import reset_client

    settings.FASTPIX_API_BASE = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    reset_client()
    response = client.get("/healthz")
    assert response.json()["fastpix"] == "unreachable"
    reset_client()


def test_healthz_says_when_credentials_are_wrong(client: Any, emulator: Any, settings: Any) -> None:
    from streams.client import reset_client

    settings.FASTPIX_SECRET_KEY = "not-the-secret"
    reset_client()
    assert client.get("/healthz").json()["fastpix"] == "unauthorized"


def test_a_changed_role_applies_on_the_next_request(client: Any, make_user: Any, emulator: Any) -> None:
    user = make_user("reviewer", "rolf")
    client.force_login(user)
    assert client.get("/streams/new/").status_code == 403  # permissions now cached
    user.groups.set([Group.objects.get(name="Stream admin")])
    assert client.get("/streams/new/").status_code == 200
    user.groups.clear()
    assert client.get("/streams/").status_code == 403


def test_a_deactivated_user_loses_access_at_once(client: Any, make_user: Any, emulator: Any) -> None:
    user = make_user("admin", "ada")
    client.force_login(user)
    assert client.get("/streams/new/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/streams/new/").status_code == 302  # signed out: to the login page


def test_an_htmx_request_after_the_session_expired_navigates_to_the_login_page(client: Any) -> None:
    response = client.get("/streams/live/?page=1", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/?next=/streams/live/")
    assert b"Sign in" not in response.content  # nothing to swap into the page's cells
