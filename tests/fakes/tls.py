"""TLS for the fake servers: one throwaway trustme CA and a server certificate for 127.0.0.1.

The fakes serve real HTTPS so that our clients are tested with their production TLS
settings. Clients learn to trust the CA only through the standard variables
(`SSL_CERT_FILE` for httpx and aiohttp, `REQUESTS_CA_BUNDLE` for msal's requests), exactly
as an operator behind a TLS-inspecting proxy would configure them.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_IDENTITIES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class FakeTLS:
    """A CA, its bundle on disk, and a server certificate for the fakes."""

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_bundle: Path  # PEM file to point SSL_CERT_FILE / REQUESTS_CA_BUNDLE at

    def server_context(self) -> ssl.SSLContext:
        """An SSL context for an aiohttp server presenting the fake certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts only the fake CA (for test helpers, not for the code under test)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def make_tls(directory: Path) -> FakeTLS:
    """Create a CA and a server certificate; write the CA bundle into `directory`."""
    ca = trustme.CA()
    server_cert = ca.issue_cert(*SERVER_IDENTITIES)
    bundle = directory / "fake-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return FakeTLS(ca=ca, server_cert=server_cert, ca_bundle=bundle)
