import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Lockout tests sign in dozens of times; PBKDF2 would dominate their run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
