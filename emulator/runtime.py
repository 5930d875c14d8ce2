"""What one emulator instance owns: state, settings, credentials, faults and the request log."""

from __future__ import annotations

import base64
import binascii
import hmac
import random
from dataclasses import dataclass, replace

from emulator.faults import FaultBook, RequestLog
from emulator.seed import seed_workspace
from emulator.state import Clock, State, utc_now

# Well-known demo credentials of a local emulator, not secrets.
DEFAULT_TOKEN_ID = "demo-token-id"  # noqa: S105
DEFAULT_SECRET = "demo-secret-key"  # noqa: S105
PERMISSIONS = ("read", "write")


@dataclass
class Settings:
    latency_ms: float = 0.0
    simulate: bool = False
    processing_seconds: float = 0.0


@dataclass(frozen=True)
class Credential:
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
    ) -> None:
        self._initial = Settings(
            latency_ms=latency_ms, simulate=simulate, processing_seconds=processing_seconds
        )
        self._initial_credentials = {token_id: Credential(secret, frozenset(PERMISSIONS))}
        self.rng_seed = rng_seed
        self.settings = replace(self._initial)
        self.credentials = dict(self._initial_credentials)
        self.state = State(clock=clock, rng_seed=rng_seed, processing_seconds=processing_seconds)
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.reset(seed=seed)

    def reset(self, *, seed: int = 0, rng_seed: int | None = None) -> None:
        """Back to the configuration the emulator started with, optionally seeded with `seed` streams."""
        if rng_seed is not None:
            self.rng_seed = rng_seed
        self.settings = replace(self._initial)
        self.credentials = dict(self._initial_credentials)
        self.faults.clear()
        self.requests.clear()
        self.state.clear(rng_seed=self.rng_seed)
        self.state.processing_seconds = self.settings.processing_seconds
        if seed > 0:
            rng = random.Random(f"seed-{self.rng_seed}") if self.rng_seed is not None else random.Random()
            seed_workspace(self.state, seed, rng)

    def apply(self, settings: Settings) -> None:
        self.settings = settings
        self.state.processing_seconds = settings.processing_seconds

    def add_credential(self, token_id: str, secret: str, permissions: frozenset[str]) -> None:
        self.credentials[token_id] = Credential(secret, permissions)

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
