"""What one emulator instance owns: state, settings, credentials, faults, the request log, the rate limiter
and the webhook deliveries."""

from __future__ import annotations

import base64
import binascii
import hmac
import random
from dataclasses import dataclass, replace

from emulator.faults import FaultBook, RequestLog
from emulator.ratelimit import RateLimiter
from emulator.seed import seed_workspace
from emulator.state import Clock, State, utc_now
from emulator.webhooks import Target, Webhooks

# Well-known demo credentials of a local emulator, not secrets.
DEFAULT_TOKEN_ID = "demo-token-id"  # noqa: S105
DEFAULT_SECRET = "demo-secret-key"  # noqa: S105
PERMISSIONS = ("read", "write")


@dataclass
class Settings:
    latency_ms: float = 0.0
    simulate: bool = False
    processing_seconds: float = 0.0
    rate_limit: float = 0.0  # /v1 requests per second per token id; 0: no limit


@dataclass(frozen=True)
class Credential:
    token_id: str
    secret: str
    permissions: frozenset[str]

    @property
    def can_write(self) -> bool:
        return "write" in self.permissions


class Emulator:
    def __init__(
        self,
        *,
        token_id: str = DEFAULT_TOKEN_ID,
        secret: str = DEFAULT_SECRET,
        seed: int = 0,
        latency_ms: float = 0.0,
        simulate: bool = False,
        processing_seconds: float = 0.0,
        rng_seed: int | None = None,
        clock: Clock = utc_now,
        live: int | None = None,
        rate_limit: float = 0.0,
        webhook: Target | None = None,
    ) -> None:
        self._initial = Settings(
            latency_ms=latency_ms,
            simulate=simulate,
            processing_seconds=processing_seconds,
            rate_limit=rate_limit,
        )
        self._initial_credentials = {token_id: Credential(token_id, secret, frozenset(PERMISSIONS))}
        self.rng_seed = rng_seed
        self.settings = replace(self._initial)
        self.credentials = dict(self._initial_credentials)
        self.state = State(clock=clock, rng_seed=rng_seed, processing_seconds=processing_seconds)
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.rate_limiter = RateLimiter()
        self.webhooks = Webhooks(settle=self.state.settle, initial=webhook)
        self.state.webhooks = self.webhooks
        self.reset(seed=seed, live=live)

    def reset(self, *, seed: int = 0, rng_seed: int | None = None, live: int | None = None) -> None:
        """Back to the configuration the emulator started with, optionally seeded with `seed` streams
        (`live` of them active, when given). Seeding happens with webhooks off: it emits no events."""
        if rng_seed is not None:
            self.rng_seed = rng_seed
        self.webhooks.clear()
        self.settings = replace(self._initial)
        self.credentials = dict(self._initial_credentials)
        self.faults.clear()
        self.requests.clear()
        self.rate_limiter.clear()
        self.state.clear(rng_seed=self.rng_seed)
        self.state.processing_seconds = self.settings.processing_seconds
        if seed > 0:
            rng = random.Random(f"seed-{self.rng_seed}") if self.rng_seed is not None else random.Random()
            seed_workspace(self.state, seed, rng, live=live)
        self.webhooks.reset()  # the start-up target again (the CLI flags), after seeding

    def apply(self, settings: Settings) -> None:
        self.settings = settings
        self.state.processing_seconds = settings.processing_seconds

    def add_credential(self, token_id: str, secret: str, permissions: frozenset[str]) -> None:
        self.credentials[token_id] = Credential(token_id, secret, permissions)

    def over_rate_limit(self, credential: Credential) -> int | None:
        """Seconds to wait (for `Retry-After`) when this token has used up its requests, else None."""
        return self.rate_limiter.take(credential.token_id, self.settings.rate_limit)

    def authenticate(self, authorization: bytes | None) -> Credential | None:
        """HTTP Basic, username = Access Token ID, password = Secret Key (contract §1.2)."""
        if not authorization:
            return None
        scheme, _, encoded = authorization.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        token_id, sep, secret = decoded.partition(":")
        credential = self.credentials.get(token_id)
        if (
            not sep
            or credential is None
            or not hmac.compare_digest(credential.secret.encode(), secret.encode())
        ):
            return None
        return credential
