"""Oversized and malformed requests are answered 4xx with a message, before any view."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PASSWORD, program

MB = 1024 * 1024


class TrapStream(io.RawIOBase):
    """A wsgi.input that fails the test if more than `allowed` bytes are read from it."""

    def __init__(self, allowed: int = 0):
        self.allowed = allowed
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.read_bytes += len(buffer)
        if self.read_bytes > self.allowed:
            raise AssertionError(f"the body was read ({self.read_bytes} bytes)")
        buffer[:] = b"x" * len(buffer)
        return len(buffer)


def test_an_anonymous_60_mb_post_to_login_is_413_without_reading_the_body(client, db):
    trap = TrapStream(allowed=0)
    response = client.generic(
        "POST",
        "/login/",
        b"",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(60 * MB),
        **{"wsgi.input": trap},
    )
    assert response.status_code == 413
    assert trap.read_bytes == 0
    page = response.content.decode()
    assert "Request too large" in page
    assert "60.0 MB" in page and "5.0 MB" in page


def test_a_body_within_the_cap_is_read_normally(client, candidate):
    response = client.post("/login/", {"username": "cand", "password": PASSWORD})
    assert response.status_code == 302


def test_the_bank_import_has_a_larger_cap_than_other_pages(client, instructor):
    client.force_login(instructor)
    trap = TrapStream(allowed=0)
    kwargs = {
        "content_type": "multipart/form-data; boundary=x",
        "CONTENT_LENGTH": str(30 * MB),
        "wsgi.input": trap,
    }
    assert (
        client.generic("POST", "/admin/questionbank/itemversion/import/", b"", **kwargs).status_code
        == 413
    )
    assert client.generic("POST", "/cohorts/join/", b"", **kwargs).status_code == 413
    assert trap.read_bytes == 0


def test_the_import_forms_own_20_mb_message_comes_before_the_request_cap(client, instructor):
    client.force_login(instructor)
    upload = SimpleUploadedFile("bank.json", b" " * (21 * MB), content_type="application/json")
    response = client.post("/admin/questionbank/itemversion/import/", {"file": upload})
    assert response.status_code == 400
    assert "The file is larger than 20 MB." in response.content.decode()


def test_a_non_numeric_content_length_is_400(client, db):
    response = client.generic("POST", "/login/", b"", CONTENT_LENGTH="lots")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/codebook/cm/%00/",
        "/codebook/panel/cm/%00/",
        "/codebook/%FF%FE/x/",
        "/exams/attempts/%00/",
        "/codebook/?q=%00",
        "/codebook/?q=%C3%28",
        "/cohorts/1/members/?q=%00",
    ],
)
def test_nul_and_invalid_utf8_in_the_address_are_400_with_a_message(client, manager, url):
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bad request" in page
    assert "NUL" in page or "UTF-8" in page


def test_nul_in_a_cohorts_member_search_is_400_not_500(client, manager):
    from cohorts.models import Cohort

    cohort = Cohort.objects.create(name="Cohort A", program=program("a"))
    cohort.managers.add(manager)
    client.force_login(manager)
    assert client.get(f"/cohorts/{cohort.pk}/members/?q=ok").status_code == 200
    assert client.get(f"/cohorts/{cohort.pk}/members/?q=%00").status_code == 400


def test_an_overlong_query_is_400(client, candidate):
    client.force_login(candidate)
    response = client.get("/codebook/", {"q": "A" * 5000})
    assert response.status_code == 400
    assert "at most 4096" in response.content.decode()


def test_nul_in_a_posted_form_field_is_400(client, candidate):
    client.force_login(candidate)
    response = client.post("/cohorts/join/", {"code": "AB\x00CD"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_deeply_nested_json_in_the_bank_import_is_refused_with_a_message(client, instructor):
    client.force_login(instructor)
    deep = "[" * 100_000 + "]" * 100_000
    upload = SimpleUploadedFile("bank.json", deep.encode(), content_type="application/json")
    response = client.post(
        "/admin/questionbank/itemversion/import/", {"file": upload, "program": program("a").pk}
    )
    assert response.status_code == 400
    assert (
        "Nothing was imported. JSON, field &#x27;(structure)&#x27;: is nested more than 32 levels deep"
        in response.content.decode()
    )


def test_moderately_deep_json_is_refused_before_it_reaches_the_database(client, instructor):
    client.force_login(instructor)
    bank = {"format": "ccs-sim-bank", "version": 1, "items": [{"key": "U-1", "stem": [[[]]]}]}
    node = bank["items"][0]
    for _ in range(40):
        node = node.setdefault("x", {})
    upload = SimpleUploadedFile(
        "bank.json", json.dumps(bank).encode(), content_type="application/json"
    )
    response = client.post(
        "/admin/questionbank/itemversion/import/", {"file": upload, "program": program("a").pk}
    )
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.content.decode()
