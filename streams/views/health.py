"""/healthz: is the console up, does FastPix answer, and how fresh is the console's memory? No login;
FastPix's answer is cached so probes stay cheap, and the ages cost two small indexed queries."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from streams.client import FastPixError, Unauthorized, get_client
from streams.live import fresh
from streams.workspace.freshness import freshness


def _probe() -> str:
    try:
        get_client().list_streams(page=1, limit=1)
    except Unauthorized:
        return "unauthorized"
    except FastPixError:
        return "unreachable"
    return "ok"


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    fastpix = fresh("healthz:fastpix", _probe, ttl=10).value
    # The console itself is up whatever FastPix says: 200, with FastPix's state in the body. `ages`: seconds
    # since the last webhook event, full reconcile, viewer sample and live refresh (null: never).
    return JsonResponse({"status": "ok", "fastpix": fastpix, "ages": freshness().ages()})
