"""A fake Microsoft Entra ID token endpoint (OAuth 2.0 client credentials, v2.0 endpoints).

Serves `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`
the way login.microsoftonline.com does: a client secret or a signed client assertion
(certificate credential) buys an RS256 access token carrying the app's `roles`; a wrong
secret is a 401 `invalid_client` with an AADSTS code, an unknown tenant a 400.
The issued tokens are checked by the fake Graph through `validate()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from tests.fakes.base import FakeServer, RecordedRequest

_DER = Encoding.DER
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class AppRegistration:
    """An app registration with its credentials and granted application permissions."""

    client_id: str
    secret: str | None = None
    certificate_pem: bytes | None = None  # public certificate registered for the app
    roles: tuple[str, ...] = ()


@dataclass
class FakeTokenServer(FakeServer):
    """Fake Entra ID token service for one tenant."""

    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    apps: dict[str, AppRegistration] = field(default_factory=dict)
    tokens_issued: int = 0
    token_lifetime: int = 3600
    _signing_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def register(self, app: AppRegistration) -> AppRegistration:
        self.apps[app.client_id] = app
        return app

    @property
    def authority_host(self) -> str:
        """What AZURE_AUTHORITY_HOST would be set to."""
        return self.origin

    def token_endpoint(self, tenant: str | None = None) -> str:
        return f"{self.origin}/{tenant or self.tenant_id}/oauth2/v2.0/token"

    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    # -- helpers for other fakes ---------------------------------------------------------

    def validate(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of an access token this server issued; raises `jwt.InvalidTokenError`."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self._signing_key.public_key(),
            algorithms=["RS256"],
            audience=audience,
            issuer=self.issuer(),
        )
        return claims

    # -- handlers ------------------------------------------------------------------------

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        self.requests.append(RecordedRequest("GET", request.path, 200 if tenant == self.tenant_id else 400))
        if tenant != self.tenant_id:
            return self._error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the "
                "correct tenant ID and are signing into the correct cloud.",
            )
        base = f"{self.origin}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "token"],
                "tenant_region_scope": "EU",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        form = await request.post()
        response = self._issue(tenant, {k: str(v) for k, v in form.items()})
        self.requests.append(RecordedRequest("POST", request.path, response.status))
        return response

    def _issue(self, tenant: str, form: dict[str, str]) -> web.Response:
        if tenant != self.tenant_id:
            return self._error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            self.violation(f"token request with grant_type={form.get('grant_type')!r}")
            return self._error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client_id = form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None:
            return self._error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        scope = form.get("scope", "")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            # client credentials only accept the resource's `/.default` scope
            self.violation(f"token request with scope {scope!r}")
            return self._error(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid.")
        problem = self._check_credential(app, form, tenant)
        if problem is not None:
            return problem
        now = int(time.time())
        claims = {
            "aud": scopes[0].removesuffix("/.default"),
            "iss": self.issuer(),
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "appid": client_id,
            "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "tid": tenant,
            "roles": list(app.roles),
            "ver": "1.0",
        }
        self.tokens_issued += 1
        token = jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"kid": "fake-key"})
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    def _check_credential(self, app: AppRegistration, form: dict[str, str], tenant: str) -> web.Response | None:
        if "client_secret" in form:
            if app.secret is None or not hmac.compare_digest(form["client_secret"], app.secret):
                return self._error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
                )
            return None
        if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE and "client_assertion" in form:
            return self._check_assertion(app, form["client_assertion"], tenant)
        return self._error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )

    def _check_assertion(self, app: AppRegistration, assertion: str, tenant: str) -> web.Response | None:
        def refused(code: int, text: str) -> web.Response:
            return self._error(401, "invalid_client", code, text)

        if app.certificate_pem is None:
            return refused(700027, "Client assertion contains an invalid signature. No certificate is registered.")
        cert = x509.load_pem_x509_certificate(app.certificate_pem)
        header = jwt.get_unverified_header(assertion)
        sha1 = base64.urlsafe_b64encode(hashlib.sha1(cert.public_bytes(_DER)).digest()).rstrip(b"=").decode()
        sha256 = base64.urlsafe_b64encode(hashlib.sha256(cert.public_bytes(_DER)).digest()).rstrip(b"=").decode()
        # x5t is base64url of the certificate hash; clients differ on keeping the '=' padding
        if str(header.get("x5t", "")).rstrip("=") != sha1 and str(header.get("x5t#S256", "")).rstrip("=") != sha256:
            return refused(
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not "
                "found., Thumbprint of key used by client: '" + str(header.get("x5t")) + "']",
            )
        try:
            claims = jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=self.token_endpoint(tenant),
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            return refused(700027, f"Client assertion failed signature validation: {exc}")
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return refused(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        return None

    def _error(self, status: int, error: str, code: int, text: str) -> web.Response:
        trace = str(uuid.uuid4())
        correlation = str(uuid.uuid4())
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return web.json_response(
            {
                "error": error,
                "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {correlation} "
                f"Timestamp: {stamp}",
                "error_codes": [code],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"{self.origin}/error?code={code}",
            },
            status=status,
        )
