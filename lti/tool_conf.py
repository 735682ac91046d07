"""pylti1p3's view of the registrations: read from the database on each request."""

from __future__ import annotations

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration as LibRegistration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti.keys import active_key
from lti.models import Registration


def lib_registration(registration: Registration) -> LibRegistration:
    """The library's registration object, carrying the tool's active key for signing."""
    key = active_key()
    return (
        LibRegistration()
        .set_issuer(registration.issuer)
        .set_client_id(registration.client_id)
        .set_key_set_url(registration.keyset_url)
        .set_auth_login_url(registration.auth_login_url)
        .set_auth_token_url(registration.access_token_url)
        .set_tool_private_key(key.private_key_pem)
        .set_tool_public_key(key.public_key_pem)
    )


class DatabaseToolConf(ToolConfAbstract):
    """Every issuer may have several client ids (one registration per program)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _find(self, iss: str, client_id: str | None) -> Registration | None:
        found = Registration.objects.filter(issuer=iss)
        if client_id:
            return found.filter(client_id=client_id).first()
        # A login request may leave the client id out: fine while the issuer has one.
        return found.first() if found.count() == 1 else None

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        registration = self._find(iss, None)
        return lib_registration(registration) if registration else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        registration = self._find(iss, client_id)
        return lib_registration(registration) if registration else None

    def find_deployment(self, iss, deployment_id):
        return None

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        registration = self._find(iss, client_id)
        if registration is None or deployment_id not in (registration.deployment_ids or []):
            return None
        return Deployment().set_deployment_id(deployment_id)
