"""A fake Bot Framework token issuer for inbound activities: OpenID metadata and a JWKS.

The real channel signs every activity it POSTs to a bot with a key published at
``https://login.botframework.com/v1/.well-known/openidconfiguration`` (``jwks_uri``, keys
with ``endorsements`` naming the channels). Tests point ``BOTFRAMEWORK_OPENID_METADATA_URL``
and ``BOTFRAMEWORK_TOKEN_ISSUER`` here and sign activities with `token()`; keys are generated
in the test process.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.base import FakeServer, RecordedRequest

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeOpenIdServer(FakeServer):
    """OpenID metadata at ``/v1/.well-known/openidconfiguration``, keys at ``/v1/.well-known/keys``."""

    issuer: str = ISSUER
    kid: str = "fake-botframework-key"
    endorsements: tuple[str, ...] = ("msteams", "emulator", "webchat")
    key: rsa.RSAPrivateKey = field(default_factory=new_key)

    @property
    def metadata_url(self) -> str:
        return f"{self.origin}/v1/.well-known/openidconfiguration"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(RecordedRequest("GET", request.path, 200))
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.origin}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(RecordedRequest("GET", request.path, 200))
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256", endorsements=list(self.endorsements))
        return web.json_response({"keys": [jwk]})

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        key: rsa.RSAPrivateKey | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        lifetime: int = 3600,
        issued_ago: int = 0,
        kid: str | None = None,
    ) -> str:
        """A channel token as the Bot Framework sends it (``serviceurl`` claim, audience = the bot's app id)."""
        now = int(time.time()) - issued_ago
        claims = {
            "serviceurl": service_url,
            "nbf": now,
            "iat": now,
            "exp": now + lifetime,
            "iss": issuer or self.issuer,
            "aud": audience or app_id,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})
