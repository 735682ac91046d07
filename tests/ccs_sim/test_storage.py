"""The production static files storage (DEBUG off): hashed names from the manifest, each
URL worked out once per process."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

from ccs_sim.storage import StaticFilesStorage


@pytest.fixture
def collected(tmp_path):
    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: black; }\n")
    root = tmp_path / "out"
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "ccs_sim.storage.StaticFilesStorage"},
    }
    with override_settings(STATICFILES_DIRS=[source], STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield StaticFilesStorage()


def test_the_url_is_the_hashed_name_and_is_worked_out_once(collected):
    plain = CompressedManifestStaticFilesStorage()
    original = CompressedManifestStaticFilesStorage.url
    with mock.patch.object(
        CompressedManifestStaticFilesStorage,
        "url",
        autospec=True,
        side_effect=original,
    ) as worked_out:
        first = collected.url("css/app.css")
        again = collected.url("css/app.css")
    assert first == again == plain.url("css/app.css")
    assert first.startswith("/static/css/app.") and first.endswith(".css")
    assert first != "/static/css/app.css"
    assert worked_out.call_count == 1


def test_a_name_missing_from_the_manifest_is_refused_every_time(collected):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            collected.url("css/missing.css")
