"""QTI 3.0 packages: the sample bank's round trip, an independent reader, refused packages."""

from __future__ import annotations

import copy
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from questionbank import qti
from questionbank.exchange import BankImportError, bank_export, bank_import
from questionbank.models import AngoffRating, Case, Item, ItemVersion, Option, StatusChange
from tests.questionbank.test_exchange import document

pytestmark = pytest.mark.django_db

QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"


def wipe_bank() -> None:
    AngoffRating.objects.all().delete()
    StatusChange.objects.all().delete()
    Option.objects.all().delete()
    ItemVersion.objects.all().delete()
    Item.objects.all().delete()
    Case.objects.all().delete()


def bank_state():
    return bank_export(include_retired=True)


@pytest.fixture
def sample_bank():
    call_command("load_sample_bank", verbosity=0)
    return bank_state()


def members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- Round trip -------------------------------------------------------------------------
def test_the_sample_bank_package_holds_every_field_of_every_case_and_item(sample_bank):
    assert len(sample_bank["items"]) > 300 and len(sample_bank["cases"]) > 10
    read, _, _ = qti.package_document(qti.qti_export())
    # The whole bank document, field by field: keys, domains, kinds, choose, partial credit,
    # stems, options in order with their keys, rationales, references, code-set years,
    # statuses, cases with sections and coding, Angoff ratings.
    assert read == sample_bank


def test_export_wipe_import_gives_the_bank_the_json_import_gives(sample_bank):
    package = qti.qti_export()
    wipe_bank()
    result = qti.qti_import(content=package, create_missing_judges=True)
    assert result.items_created == len(sample_bank["items"])
    assert result.cases_created == len(sample_bank["cases"])
    from_qti = bank_state()
    # The same document through the bank's own import, on an empty bank: whatever rules
    # that import applies (status, ratings), a QTI import applies the same.
    wipe_bank()
    bank_import(copy.deepcopy(sample_bank), create_missing_judges=True)
    assert from_qti == bank_state()


def test_reimporting_an_exported_package_changes_nothing(sample_bank):
    # The shared sample bank comes back whole only through the operator's restore: an
    # ordinary import holds what it changes for review.
    result = qti.qti_import(content=qti.qti_export(), restore=True)
    assert result.items_created == result.items_revised == result.cases_created == 0
    assert result.items_unchanged == len(sample_bank["items"])
    assert bank_state() == sample_bank


def test_multiline_text_leading_spaces_other_coding_and_unknown_fields_survive():
    data = document()
    data["cases"][0]["sections"][0]["body"] = "Line one\n\n  indented line\nlast"
    data["cases"][0]["coding"] = {"principal_diagnosis": "I50.33", "procedures": []}
    data["items"][0]["stem"] = "First line\nsecond <line> & more"
    data["items"][0]["references"] = ""
    data["items"][1]["partial_credit"] = True
    bank_import(data, create_missing_judges=True)
    before = bank_state()
    before["items"][0]["enemies"] = ["T-0002"]  # a field a later bank format might add
    package = qti.package_build(cases=before["cases"], items=before["items"])
    read, _, _ = qti.package_document(package)
    assert read == before


def test_partial_credit_is_a_qti_mapping_scored_by_map_response():
    data = document()
    data["items"][1]["partial_credit"] = True
    bank_import(data, create_missing_judges=True)
    files = members(qti.qti_export(item_keys=["T-0002"]))
    item = etree.fromstring(files["items/T-0002.xml"])
    ns = {"q": qti.QTI_NS}
    mapping = item.find("q:qti-response-declaration/q:qti-mapping", ns)
    assert mapping.get("lower-bound") == "0"
    values = {e.get("map-key"): float(e.get("mapped-value")) for e in mapping}
    assert values == {"A": 0.5, "B": 0.5, "C": -0.5, "D": -0.5}
    assert item.find(".//q:qti-map-response", ns) is not None
    interaction = item.find(".//q:qti-choice-interaction", ns)
    assert interaction.get("max-choices") == "2"


def test_export_of_selected_items_brings_their_cases_only():
    bank_import(document(), create_missing_judges=True)
    names = set(members(qti.qti_export(item_keys=["T-0001"])))
    assert names == {"imsmanifest.xml", "items/T-0001.xml", "stimuli/IP-T1.xml"}
    names = set(members(qti.qti_export(item_keys=["T-0002"])))
    assert names == {"imsmanifest.xml", "items/T-0002.xml"}


# --- An independent reader --------------------------------------------------------------
def test_citolab_qti_convert_reads_the_package_and_finds_each_part(sample_bank):
    """Citolab's qti-convert (not ours) reads the QTI 3.0 package and converts it to QTI 2.1.

    Every item must convert without a warning beyond the stimulus being inlined, with its
    keys, its choice interaction and its case text where QTI 2.1 expects them.
    """
    from qti_convert import downgrade_package_files

    files = members(qti.qti_export())
    result = downgrade_package_files(files)
    codes = {w.code for w in result.warnings}
    assert codes <= {"stimulus-inlined"}, [str(w.message) for w in result.warnings]
    case_items = [i for i in sample_bank["items"] if i.get("case")]
    by_key = {c["key"]: c for c in sample_bank["cases"]}
    for record in sample_bank["items"]:
        root = etree.fromstring(result.files[f"items/{record['key']}.xml"].encode())
        assert root.tag == f"{QTI21}assessmentItem"
        interaction = root.find(f".//{QTI21}choiceInteraction")
        assert interaction.get("maxChoices") == str(record["choose"])
        choices = interaction.findall(f"{QTI21}simpleChoice")
        assert ["".join(c.itertext()) for c in choices] == [o["text"] for o in record["options"]]
        correct = {v.text for v in root.iterfind(f".//{QTI21}correctResponse/{QTI21}value")}
        keyed = {
            c.get("identifier") for c, o in zip(choices, record["options"], strict=True) if o["key"]
        }
        assert correct == keyed
        if record.get("case"):
            text = "".join(root.find(f"{QTI21}itemBody").itertext())
            assert by_key[record["case"]]["sections"][0]["heading"] in text
    assert case_items  # the sample bank has case items, so the stimulus path was exercised
    manifest = etree.fromstring(result.files["imsmanifest.xml"].encode())
    types = {r.get("type") for r in manifest.iter("{*}resource")}
    assert types == {"imsqti_item_xmlv2p1"}


# --- Refused packages -------------------------------------------------------------------
@pytest.fixture
def good_package():
    bank_import(document(), create_missing_judges=True)
    package = qti.qti_export()
    wipe_bank()
    return package


def refused(content: bytes, expected: str):
    with pytest.raises(BankImportError) as caught:
        qti.qti_import(content=content, create_missing_judges=True)
    assert expected in str(caught.value)
    assert not Item.objects.exists() and not Case.objects.exists()
    return caught.value


def test_not_a_zip_is_refused():
    refused(b"just text, not a zip", "is not a zip file")


def test_a_zip_without_manifest_is_refused(good_package):
    files = members(good_package)
    del files["imsmanifest.xml"]
    refused(zipped(files), "has no imsmanifest.xml")


def test_bad_xml_names_the_file_and_the_line(good_package):
    files = members(good_package)
    files["items/T-0002.xml"] = (
        b"<?xml version='1.0'?>\n<qti-assessment-item>\n<oops></qti-assessment-item>"
    )
    refused(zipped(files), "items/T-0002.xml: is not well-formed XML (line 3")


def test_an_xml_bomb_is_refused_before_any_entity_is_expanded(good_package):
    files = members(good_package)
    files["imsmanifest.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<manifest>&lol2;</manifest>"
    )
    refused(zipped(files), "declares a DTD")


def test_a_zip_bomb_member_is_refused(good_package, monkeypatch):
    monkeypatch.setattr(qti, "MAX_MEMBER_BYTES", 1024 * 1024)
    files = members(good_package)
    files["items/big.xml"] = b"\0" * (2 * 1024 * 1024)  # compresses to about 2 KB
    refused(zipped(files), "items/big.xml: unpacks to more than 1 MB")


def test_a_member_whose_header_understates_its_size_is_refused(good_package, monkeypatch):
    monkeypatch.setattr(qti, "MAX_MEMBER_BYTES", 1024 * 1024)
    files = members(good_package)
    files["imsmanifest.xml"] = (
        files["imsmanifest.xml"] + b"<!--" + b" " * (2 * 1024 * 1024) + b"-->"
    )
    content = bytearray(zipped(files))
    # Lie in the central directory: claim the manifest unpacks to 10 bytes.
    start = content.find(b"PK\x01\x02")
    while start >= 0:
        name_len = int.from_bytes(content[start + 28 : start + 30], "little")
        if content[start + 46 : start + 46 + name_len] == b"imsmanifest.xml":
            content[start + 24 : start + 28] = (10).to_bytes(4, "little")
        start = content.find(b"PK\x01\x02", start + 4)
    with pytest.raises(BankImportError) as caught:
        qti.qti_import(content=bytes(content))
    assert "imsmanifest.xml" in str(caught.value)
    assert not Item.objects.exists()


def test_a_package_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(qti, "MAX_PACKAGE_BYTES", 100)
    refused(b"PK" + b"\0" * 200, "is larger than")


@pytest.mark.parametrize(
    "name", ["../evil.xml", "/etc/passwd", "items/../../evil.xml", "C:/evil.xml", "items\\evil.xml"]
)
def test_a_member_with_a_traversing_name_is_refused(good_package, name):
    files = members(good_package)
    files[name] = b"<x/>"
    refused(zipped(files), "unsafe path")


def test_a_manifest_href_outside_the_package_is_refused(good_package):
    files = members(good_package)
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace(
        b'href="items/T-0001.xml"', b'href="../../etc/passwd"', 1
    )
    refused(zipped(files), "outside the package")


def test_a_bad_record_names_the_file_in_the_package(good_package):
    files = members(good_package)
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace(
        b'code-set-year="2026"', b'code-set-year="1999"'
    )
    error = refused(zipped(files), "plausible code-set year")
    assert error.record.startswith("stimuli/IP-T1.xml")


def test_an_item_missing_its_key_option_is_refused_naming_the_item(good_package):
    files = members(good_package)
    files["items/T-0001.xml"] = files["items/T-0001.xml"].replace(b"<qti-value>A</qti-value>", b"")
    error = refused(zipped(files), "items/T-0001.xml (T-0001)")
    assert error.field == "options"


def test_commands_export_and_import(tmp_path):
    bank_import(document(), create_missing_judges=True)
    before = bank_state()
    path = tmp_path / "bank.zip"
    call_command("export_qti", str(path), stdout=io.StringIO())
    wipe_bank()
    out = io.StringIO()
    call_command("import_qti", str(path), stdout=out)
    assert "items: 2 created" in out.getvalue()
    assert bank_state() == before
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"nope")
    with pytest.raises(CommandError, match="nothing was imported. package: is not a zip file"):
        call_command("import_qti", str(bad))


# --- Admin ------------------------------------------------------------------------------
CHANGELIST = "/admin/questionbank/itemversion/"


def test_admin_exports_the_selected_items_as_a_package(client, instructor):
    bank_import(document(), create_missing_judges=True)
    client.force_login(instructor)
    selected = ItemVersion.objects.get(item__key="T-0001")
    response = client.post(
        CHANGELIST, {"action": "export_selected_qti", "_selected_action": [selected.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="ccs-items-qti-' in response["Content-Disposition"]
    assert set(members(response.content)) == {
        "imsmanifest.xml",
        "items/T-0001.xml",
        "stimuli/IP-T1.xml",
    }


def test_admin_imports_a_package_and_refuses_a_bad_one_in_place(client, instructor):
    bank_import(document(), create_missing_judges=True)
    client.force_login(instructor)
    package = client.get(CHANGELIST + "export-qti/").content
    wipe_bank()
    bad = SimpleUploadedFile("bank.zip", b"not a zip", content_type="application/zip")
    response = client.post(CHANGELIST + "import-qti/", {"file": bad})
    assert response.status_code == 200
    assert "Nothing was imported. package: is not a zip file" in response.content.decode()
    assert not Item.objects.exists()
    good = SimpleUploadedFile("bank.zip", package, content_type="application/zip")
    response = client.post(CHANGELIST + "import-qti/", {"file": good})
    assert response.status_code == 302
    assert set(Item.objects.values_list("key", flat=True)) == {"T-0001", "T-0002"}
    page = client.get(CHANGELIST).content.decode()
    assert "Import QTI package" in page and "Export bank (QTI)" in page


def test_admin_qti_pages_are_closed_to_candidates(client, candidate):
    client.force_login(candidate)
    for url in (CHANGELIST + "import-qti/", CHANGELIST + "export-qti/"):
        assert client.get(url).status_code == 302  # to the admin's login


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("items/T-0001.xml", b"<html/>", "is not a QTI 3.0 qti-assessment-item"),
        ("items/T-0001.xml", b"", "is not well-formed XML"),
        ("stimuli/IP-T1.xml", b"<x/>", "is not a QTI 3.0 qti-assessment-stimulus"),
        (
            "imsmanifest.xml",
            b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"/>',
            "is not a QTI 3.0 manifest",
        ),
        (
            "imsmanifest.xml",
            b'<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"/>',
            "lists no QTI 3.0 items or stimuli",
        ),
    ],
)
def test_a_package_with_the_wrong_kind_of_file_is_refused(good_package, name, content, expected):
    files = members(good_package)
    files[name] = content
    refused(zipped(files), expected)


def test_an_empty_zip_is_refused():
    refused(zipped({}), "has no imsmanifest.xml")
