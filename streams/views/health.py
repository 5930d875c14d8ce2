"""/healthz: is the console up, and does FastPix answer? No login; cached so probes stay cheap."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from streams.client import FastPixError, Unauthorized, get_client
from streams.live import fresh


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
    # The console itself is up whatever FastPix says: 200, with FastPix's state in the body.
    return JsonResponse({"status": "ok", "fastpix": fastpix})
