"""The backend that signs people in and loads the signed-in user on every request."""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from common.rows import RowReader

# Where sessions signed in before this backend existed name their backend. It stays in
# settings.AUTHENTICATION_BACKENDS, after AccountBackend, so that those sessions (candidates
# in the middle of an exam while a release is deployed) stay signed in.
DJANGO_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ACCOUNT_BACKEND = "common.accounts.AccountBackend"


@functools.cache
def _user_by_id() -> RowReader:
    # Made on first use: the user model is known only once the apps are loaded.
    model = get_user_model()
    return RowReader(model, f"{model._meta.pk.column} = %s")


class AccountBackend(ModelBackend):
    """Django's ModelBackend, with the user of each request read by a statement built once
    (common.rows). The ORM's get() spent about 0.3 ms of CPU building that one query,
    on every request of every candidate: as much as a tenth of an autosave.

    A refused password stops the sign-in here: the ModelBackend listed after this one
    would only check the same password again (a second PBKDF2 run per failed try).
    """

    def get_user(self, user_id):
        user = _user_by_id().get([user_id])
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            raise PermissionDenied
        return user
