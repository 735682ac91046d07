"""The tool's signing keys: generated on first need, rotated by `lti_rotate_key`.

The private key stays in the database and in this process; only public halves are served
(`/lti/jwks/`).
"""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto.jwk import JWK

from lti.models import ToolKey


def _new_key_fields() -> dict:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # The kid is the key's thumbprint, as pylti1p3 derives it when signing.
    kid = JWK.from_pem(public_pem.encode()).thumbprint()
    return {"kid": kid, "private_key_pem": private_pem, "public_key_pem": public_pem}


def active_key() -> ToolKey:
    """The key the tool signs with now, created the first time it is needed."""
    key = ToolKey.objects.filter(is_active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return ToolKey.objects.create(is_active=True, **_new_key_fields())
    except IntegrityError:  # another process created it first
        return ToolKey.objects.get(is_active=True)


@transaction.atomic
def key_rotate() -> tuple[ToolKey, ToolKey | None]:
    """A new active key; the old one is retired but stays in the JWKS for a while so that
    tokens signed with it still verify. Returns (new, retired)."""
    old = ToolKey.objects.select_for_update().filter(is_active=True).first()
    if old is not None:
        old.is_active = False
        old.retired_at = timezone.now()
        old.save(update_fields=["is_active", "retired_at"])
    new = ToolKey.objects.create(is_active=True, **_new_key_fields())
    return new, old


def public_jwk(key: ToolKey) -> dict:
    jwk = json.loads(JWK.from_pem(key.public_key_pem.encode()).export_public())
    jwk.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
    return jwk


def jwks() -> dict:
    active_key()
    return {"keys": [public_jwk(k) for k in ToolKey.objects.published(timezone.now())]}
