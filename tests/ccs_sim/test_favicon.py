"""The site's icon: declared on every page, so browsers stop asking for /favicon.ico."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.templatetags.static import static
from django.test import RequestFactory

ICON = "img/favicon.svg"


def icon_link() -> str:
    return f'<link rel="icon" href="{static(ICON)}" type="image/svg+xml">'


def test_the_icon_is_a_self_contained_svg_that_staticfiles_serves():
    path = finders.find(ICON)
    assert path, f"{ICON} is not found by the staticfiles finders"
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Nothing fetched from elsewhere: no external images, fonts or stylesheets.
    assert not [el for el in root.iter() if any("href" in name for name in el.attrib)]
    response = serve(RequestFactory().get(static(ICON)), ICON, insecure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
def test_site_and_admin_pages_declare_the_icon(client, instructor):
    # The sign-in pages: the site's base.html, and the admin, which does not extend it.
    for url in ["/login/", "/admin/login/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert icon_link() in response.content.decode(), url
    client.force_login(instructor)
    for url in ["/admin/", "/admin/questionbank/itemversion/", "/admin/exams/examform/assemble/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert icon_link() in response.content.decode(), url
