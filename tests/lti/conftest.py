from __future__ import annotations

import pytest

from tenancy.models import Program
from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, ISSUER, Platform, PlatformServer, rsa_pair


@pytest.fixture(scope="session")
def platform_keys():
    return rsa_pair()


@pytest.fixture
def platform(platform_keys):
    private, public = platform_keys
    return Platform(private_key=private, public_key=public)


@pytest.fixture
def lms(platform):
    server = PlatformServer(platform)
    yield server
    server.close()


@pytest.fixture
def registration(db, lms, client):
    from lti.services import registration_save

    Program.objects.get_or_create(slug="him-college", defaults={"name": "HIM college"})
    registration = registration_save(
        program_slug="him-college",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        auth_url=f"{lms.url}/auth",
        token_url=f"{lms.url}/token",
        jwks_url=f"{lms.url}/jwks",
    )
    # The platform knows the tool's keys as the tool publishes them.
    lms.platform.get_registration().set_tool_key_set(client.get("/lti/jwks/").json())
    return registration
