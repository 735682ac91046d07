"""Item exchange as IMS QTI 3.0 content packages (README: "Item exchange (QTI)").

A package is a zip with `imsmanifest.xml` (IMS CP 1.2, QTI 3.0 profile), one
`qti-assessment-item` per item under `items/` and one `qti-assessment-stimulus` per case
under `stimuli/`, which its items reference. Standard QTI carries what QTI has words for:
the stem and options in order (`qti-choice-interaction` with `max-choices`), the keys
(`qti-correct-response`), partial credit (`qti-mapping` scored by `qti-map-response`), the
rationale and references (`qti-modal-feedback`), the case (a shared stimulus). The
manifest's resource metadata holds the rest: the key and the domain in LOM
(`general/identifier`, `classification`), and in our own namespace (`CCS_NS`) the status,
the code-set year, the Angoff ratings, the case's setting and coding, and any field of the
bank document this mapping does not know (as JSON), so that a field added to the bank
format later still survives a round trip.

Export turns the bank document of `questionbank.exchange` into a package; import reads a
package back into that document and hands it to `exchange.bank_import`, so a QTI import
obeys exactly the rules of the bank's own import (validation, all or nothing, review).
A package is read without touching the disk and is refused whole, with the file and the
reason, when it is not a zip, lacks its manifest, has an unsafe member name, is larger than
the limits below or holds XML that is malformed or declares a DTD.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import string
import zipfile
import zlib
from dataclasses import dataclass

from django.utils import timezone
from lxml import etree

from questionbank.exchange import (
    FORMAT,
    FORMAT_VERSION,
    BankImportError,
    ImportResult,
    bank_export,
    bank_import,
)
from questionbank.models import Domain

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
CCS_NS = "urn:ccs-sim:qti-extension:1"
QTI_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0p1_v1p0.xsd"
CP_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
LOM_SCHEMA = "https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd"
ITEM_TYPE = "imsqti_item_xmlv3p0"
STIMULUS_TYPE = "imsqti_stimulus_xmlv3p0"
CATALOG = "ccs-sim"
TAXONOMY = "CCS exam content outline"
MANIFEST = "imsmanifest.xml"

# A bank of a few thousand items is a few MB; these stop a zip bomb long before memory does.
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024

ITEM_FIELDS = {
    "key", "domain", "case", "kind", "choose", "stem", "options", "rationale",
    "references", "code_set_year", "status", "partial_credit", "angoff",
}  # fmt: skip
CASE_FIELDS = {"key", "title", "setting", "code_set_year", "sections", "coding"}
CODING_LISTS = {"secondary_diagnoses": "secondary-diagnoses", "procedures": "procedures"}
LETTERS = string.ascii_uppercase
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class QtiPackageError(BankImportError):
    """A package that cannot be read; nothing was imported."""

    def __init__(self, where: str, message: str):
        super().__init__(where, "(package)", message)
        self.args = (f"{where}: {message}",)

    def __str__(self) -> str:
        return self.args[0]


def _q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


def _cp(tag: str) -> str:
    return f"{{{CP_NS}}}{tag}"


def _lom(tag: str) -> str:
    return f"{{{LOM_NS}}}{tag}"


def _ccs(tag: str) -> str:
    return f"{{{CCS_NS}}}{tag}"


def _sub(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _identifier(prefix: str, key: str) -> str:
    # QTI identifiers are NCNames; a bank key may start with a digit.
    return key if NCNAME.match(key) else f"{prefix}-{key}"


def _paragraphs(parent, tag: str, text: str, css: str) -> None:
    """Text as one <p> per line, so that it reads as paragraphs and comes back exactly."""
    div = _sub(parent, tag, **{"class": css})
    for line in text.split("\n"):
        _sub(div, _q("p"), line)


def _lines(div) -> str:
    return "\n".join("".join(p.itertext()) for p in div.iterchildren(_q("p")))


# --- Export -----------------------------------------------------------------------------
def qti_export(*, item_keys: list[str] | None = None, include_retired: bool = False) -> bytes:
    """A QTI 3.0 package of the bank (or of the items with these keys) and their cases."""
    document = bank_export(include_retired=include_retired or item_keys is not None)
    items = document["items"]
    if item_keys is not None:
        wanted = set(item_keys)
        items = [item for item in items if item["key"] in wanted]
    used = {item["case"] for item in items if item.get("case")}
    cases = [case for case in document["cases"] if item_keys is None or case["key"] in used]
    return package_build(cases=cases, items=items)


def package_build(*, cases: list[dict], items: list[dict]) -> bytes:
    """The package of these bank-format records (docs/bank-format.md)."""
    domains = dict(Domain.objects.values_list("number", "name"))
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    manifest = etree.Element(
        _cp("manifest"),
        {"identifier": f"ccs-bank-{stamp}"},
        nsmap={None: CP_NS, "lom": LOM_NS, "ccs": CCS_NS, "xsi": XSI_NS},
    )
    manifest.set(f"{{{XSI_NS}}}schemaLocation", f"{CP_NS} {CP_SCHEMA} {LOM_NS} {LOM_SCHEMA}")
    metadata = _sub(manifest, _cp("metadata"))
    _sub(metadata, _cp("schema"), "QTI Package")
    _sub(metadata, _cp("schemaversion"), "3.0.0")
    _sub(metadata, _ccs("bank"), format=FORMAT, version=str(FORMAT_VERSION))
    _sub(manifest, _cp("organizations"))
    resources = _sub(manifest, _cp("resources"))
    files = {}
    for case in cases:
        href = f"stimuli/{case['key']}.xml"
        files[href] = _stimulus_xml(case)
        resource = _sub(
            resources,
            _cp("resource"),
            identifier=f"stimulus-{case['key']}",
            type=STIMULUS_TYPE,
            href=href,
        )
        _case_metadata(_sub(resource, _cp("metadata")), case)
        _sub(resource, _cp("file"), href=href)
    for item in items:
        href = f"items/{item['key']}.xml"
        case_href = f"../stimuli/{item['case']}.xml" if item.get("case") else None
        files[href] = _item_xml(item, case_href, cases)
        resource = _sub(
            resources, _cp("resource"), identifier=f"item-{item['key']}", type=ITEM_TYPE, href=href
        )
        _item_metadata(_sub(resource, _cp("metadata")), item, domains)
        _sub(resource, _cp("file"), href=href)
        if item.get("case"):
            _sub(resource, _cp("dependency"), identifierref=f"stimulus-{item['case']}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, _serialise(manifest))
        for href, root in files.items():
            archive.writestr(href, _serialise(root))
    return buffer.getvalue()


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _lom_identity(metadata, key: str) -> etree._Element:
    lom = _sub(metadata, _lom("lom"))
    general = _sub(lom, _lom("general"))
    identifier = _sub(general, _lom("identifier"))
    _sub(identifier, _lom("catalog"), CATALOG)
    _sub(identifier, _lom("entry"), key)
    return lom


def _extra_fields(parent, record: dict, known: set[str]) -> None:
    for name in sorted(set(record) - known):
        _sub(parent, _ccs("field"), json.dumps(record[name], ensure_ascii=False), name=name)


def _item_metadata(metadata, item: dict, domains: dict[int, str]) -> None:
    lom = _lom_identity(metadata, item["key"])
    classification = _sub(lom, _lom("classification"))
    purpose = _sub(classification, _lom("purpose"))
    _sub(purpose, _lom("source"), "LOMv1.0")
    _sub(purpose, _lom("value"), "discipline")
    path = _sub(classification, _lom("taxonPath"))
    _sub(_sub(path, _lom("source")), _lom("string"), TAXONOMY, language="en")
    taxon = _sub(path, _lom("taxon"))
    _sub(taxon, _lom("id"), str(item["domain"]))
    name = domains.get(item["domain"], f"Domain {item['domain']}")
    _sub(_sub(taxon, _lom("entry")), _lom("string"), name, language="en")
    ext = _sub(
        metadata,
        _ccs("item"),
        key=item["key"],
        kind=item["kind"],
        status=item.get("status") or "draft",
        code_set_year=str(item["code_set_year"]),
    )
    for rating in item.get("angoff") or []:
        _sub(ext, _ccs("angoff"), judge=rating["judge"], rating=repr(rating["rating"]))
    _extra_fields(ext, item, ITEM_FIELDS)


def _case_metadata(metadata, case: dict) -> None:
    _lom_identity(metadata, case["key"])
    ext = _sub(
        metadata,
        _ccs("case"),
        key=case["key"],
        setting=case["setting"],
        code_set_year=str(case["code_set_year"]),
    )
    coding = case.get("coding") or {}
    if coding:
        element = _sub(ext, _ccs("coding"))
        if _structured_coding(coding):
            if "principal_diagnosis" in coding:
                _sub(element, _ccs("principal-diagnosis"), coding["principal_diagnosis"])
            for key, tag in CODING_LISTS.items():
                if key in coding:
                    codes = _sub(element, _ccs(tag))
                    for code in coding[key]:
                        _sub(codes, _ccs("code"), code)
        else:
            # Coding of another shape than the bank format's: kept exactly, as JSON.
            element.set("format", "json")
            element.text = json.dumps(coding, ensure_ascii=False)
    _extra_fields(ext, case, CASE_FIELDS)


def _structured_coding(coding: dict) -> bool:
    return (
        set(coding) <= {"principal_diagnosis", *CODING_LISTS}
        and isinstance(coding.get("principal_diagnosis", ""), str)
        and all(
            isinstance(coding.get(key, []), list)
            and all(isinstance(code, str) for code in coding.get(key, []))
            for key in CODING_LISTS
        )
    )


def _stimulus_xml(case: dict):
    root = etree.Element(
        _q("qti-assessment-stimulus"),
        {"identifier": _identifier("case", case["key"]), "title": case["title"]},
        nsmap={None: QTI_NS, "xsi": XSI_NS},
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{QTI_NS} {QTI_SCHEMA}")
    root.set(f"{{{XML_NS}}}lang", "en-US")
    body = _sub(root, _q("qti-stimulus-body"))
    for section in case["sections"]:
        div = _sub(body, _q("div"), **{"class": "ccs-section"})
        _sub(div, _q("h3"), section["heading"])
        for line in section["body"].split("\n"):
            _sub(div, _q("p"), line)
    return root


def _set_outcome(parent, identifier: str, base_type: str, value: str) -> None:
    outcome = _sub(parent, _q("qti-set-outcome-value"), identifier=identifier)
    _sub(outcome, _q("qti-base-value"), value, base_type=base_type)


def _item_xml(item: dict, case_href: str | None, cases: list[dict]):
    options = item["options"]
    keys = [LETTERS[n] for n, option in enumerate(options) if option["key"]]
    multiple = item["kind"] != "single"
    root = etree.Element(
        _q("qti-assessment-item"),
        {
            "identifier": _identifier("item", item["key"]),
            "title": item["key"],
            "adaptive": "false",
            "time-dependent": "false",
        },
        nsmap={None: QTI_NS, "xsi": XSI_NS},
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{QTI_NS} {QTI_SCHEMA}")
    root.set(f"{{{XML_NS}}}lang", "en-US")
    response = _sub(
        root,
        _q("qti-response-declaration"),
        identifier="RESPONSE",
        cardinality="multiple" if multiple else "single",
        base_type="identifier",
    )
    correct = _sub(response, _q("qti-correct-response"))
    for key in keys:
        _sub(correct, _q("qti-value"), key)
    if item.get("partial_credit"):
        # (keys chosen − wrong chosen) / keys, floored at 0: docs/bank-format.md.
        mapping = _sub(response, _q("qti-mapping"), lower_bound="0", default_value="0")
        share = repr(1 / len(keys)) if keys else "0"
        for n, option in enumerate(options):
            value = share if option["key"] else f"-{share}"
            _sub(mapping, _q("qti-map-entry"), map_key=LETTERS[n], mapped_value=value)
    score = _sub(
        root, _q("qti-outcome-declaration"), identifier="SCORE", cardinality="single",
        base_type="float",
    )  # fmt: skip
    _sub(_sub(score, _q("qti-default-value")), _q("qti-value"), "0")
    _sub(
        root, _q("qti-outcome-declaration"), identifier="FEEDBACK", cardinality="single",
        base_type="identifier",
    )  # fmt: skip
    if case_href:
        title = next((c["title"] for c in cases if c["key"] == item["case"]), item["case"])
        _sub(
            root,
            _q("qti-assessment-stimulus-ref"),
            identifier=_identifier("case", item["case"]),
            href=case_href,
            title=title,
        )
    body = _sub(root, _q("qti-item-body"))
    _paragraphs(body, _q("div"), item["stem"], "ccs-stem")
    interaction = _sub(
        body,
        _q("qti-choice-interaction"),
        response_identifier="RESPONSE",
        shuffle="false",
        max_choices=str(item["choose"]),
    )
    for n, option in enumerate(options):
        _sub(interaction, _q("qti-simple-choice"), option["text"], identifier=LETTERS[n])
    processing = _sub(root, _q("qti-response-processing"))
    if item.get("partial_credit"):
        outcome = _sub(processing, _q("qti-set-outcome-value"), identifier="SCORE")
        _sub(outcome, _q("qti-map-response"), identifier="RESPONSE")
    else:
        condition = _sub(processing, _q("qti-response-condition"))
        when = _sub(condition, _q("qti-response-if"))
        match = _sub(when, _q("qti-match"))
        _sub(match, _q("qti-variable"), identifier="RESPONSE")
        _sub(match, _q("qti-correct"), identifier="RESPONSE")
        _set_outcome(when, "SCORE", "float", "1")
        _set_outcome(_sub(condition, _q("qti-response-else")), "SCORE", "float", "0")
    # The rationale is shown once the candidate has answered, as the bank's answer review does.
    _set_outcome(processing, "FEEDBACK", "identifier", "RATIONALE")
    feedback = _sub(
        root,
        _q("qti-modal-feedback"),
        outcome_identifier="FEEDBACK",
        identifier="RATIONALE",
        show_hide="show",
        title="Rationale",
    )
    content = _sub(feedback, _q("qti-content-body"))
    _paragraphs(content, _q("div"), item.get("rationale") or "", "ccs-rationale")
    if item.get("references"):
        _paragraphs(content, _q("div"), item["references"], "ccs-references")
    return root


# --- Import -----------------------------------------------------------------------------
_UNSAFE_NAME = re.compile(r"(^[/\\])|\\|^[A-Za-z]:|\x00")


def _safe_path(name: str) -> bool:
    if not name or _UNSAFE_NAME.search(name):
        return False
    return ".." not in name.split("/")


class _Package:
    """The members of a zip, read on demand within the limits, never written to disk."""

    def __init__(self, content: bytes):
        if len(content) > MAX_PACKAGE_BYTES:
            raise QtiPackageError(
                "package", f"is larger than {MAX_PACKAGE_BYTES // (1024 * 1024)} MB"
            )
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            raise QtiPackageError(
                "package", "is not a zip file (a QTI package is a .zip)"
            ) from None
        if len(infos) > MAX_MEMBERS:
            raise QtiPackageError("package", f"has more than {MAX_MEMBERS} files")
        self.members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            if not _safe_path(info.filename):
                raise QtiPackageError(
                    f"member {info.filename!r}", "is an unsafe path (absolute, or with '..')"
                )
            if info.flag_bits & 0x1:
                raise QtiPackageError(info.filename, "is encrypted")
            if info.filename in self.members:
                raise QtiPackageError(info.filename, "appears twice in the zip")
            if info.file_size > MAX_MEMBER_BYTES:
                raise QtiPackageError(info.filename, self._too_large())
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise QtiPackageError(
                    "package",
                    f"unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB",
                )
            if not info.is_dir():
                self.members[info.filename] = info

    @staticmethod
    def _too_large() -> str:
        return f"unpacks to more than {MAX_MEMBER_BYTES // (1024 * 1024)} MB"

    def read(self, name: str) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise QtiPackageError(name, "is not in the package")
        try:
            with self.archive.open(info) as member:
                # The header's size may lie: read no more than the limit, whatever it says.
                data = member.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
            raise QtiPackageError(name, f"cannot be unpacked ({exc})") from None
        if len(data) > MAX_MEMBER_BYTES:
            raise QtiPackageError(name, self._too_large())
        return data

    def xml(self, name: str) -> etree._Element:
        data = self.read(name)
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        try:
            tree = etree.parse(io.BytesIO(data), parser)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno else "?"
            raise QtiPackageError(
                name, f"is not well-formed XML (line {line}: {exc.msg})"
            ) from None
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            # Entity expansion is how XML bombs work; QTI needs no DTD.
            raise QtiPackageError(name, "declares a DTD, which a QTI package must not")
        return tree.getroot()


@dataclass
class _Resource:
    identifier: str
    type: str
    href: str
    metadata: etree._Element | None
    dependencies: list[str]


def _resolve(base: str, href: str, where: str) -> str:
    if not href or "://" in href or href.startswith("/") or "\\" in href:
        raise QtiPackageError(where, f"refers to {href!r}, which is not a path in the package")
    path = posixpath.normpath(posixpath.join(posixpath.dirname(base), href))
    if not _safe_path(path) or path.startswith("../") or path == "..":
        raise QtiPackageError(where, f"refers to {href!r}, outside the package")
    return path


def _manifest_resources(package: _Package) -> list[_Resource]:
    if MANIFEST not in package.members:
        raise QtiPackageError("package", f"has no {MANIFEST} at its root (not a QTI package)")
    root = package.xml(MANIFEST)
    if root.tag != _cp("manifest"):
        raise QtiPackageError(
            MANIFEST, f"is not a QTI 3.0 manifest (root element {root.tag!r}; expected {CP_NS})"
        )
    resources = []
    seen = set()
    for element in root.iterfind(f"{_cp('resources')}/{_cp('resource')}"):
        identifier = element.get("identifier") or ""
        where = f"{MANIFEST}, resource {identifier!r}"
        if identifier in seen:
            raise QtiPackageError(where, "appears twice")
        seen.add(identifier)
        kind = element.get("type") or ""
        if kind not in (ITEM_TYPE, STIMULUS_TYPE):
            continue  # tests, web content: not part of the bank
        resources.append(
            _Resource(
                identifier=identifier,
                type=kind,
                href=_resolve(MANIFEST, element.get("href") or "", where),
                metadata=element.find(_cp("metadata")),
                dependencies=[
                    d.get("identifierref") or "" for d in element.iter(_cp("dependency"))
                ],
            )
        )
    if not resources:
        raise QtiPackageError(MANIFEST, "lists no QTI 3.0 items or stimuli")
    return resources


def _ext(resource: _Resource, tag: str):
    return None if resource.metadata is None else resource.metadata.find(_ccs(tag))


def _lom_key(resource: _Resource) -> str | None:
    if resource.metadata is None:
        return None
    for identifier in resource.metadata.iter(_lom("identifier")):
        if identifier.findtext(_lom("catalog")) == CATALOG:
            return identifier.findtext(_lom("entry"))
    return None


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default if value is None else value


def _extras(ext, where: str) -> dict:
    found = {}
    if ext is None:
        return found
    for field in ext.iterfind(_ccs("field")):
        try:
            found[field.get("name") or ""] = json.loads(field.text or "null")
        except json.JSONDecodeError:
            raise QtiPackageError(
                where, f"extension field {field.get('name')!r} is not JSON"
            ) from None
    return found


def _case_record(package: _Package, resource: _Resource) -> dict:
    root = package.xml(resource.href)
    if root.tag != _q("qti-assessment-stimulus"):
        raise QtiPackageError(resource.href, "is not a QTI 3.0 qti-assessment-stimulus")
    ext = _ext(resource, "case")
    key = (ext.get("key") if ext is not None else None) or _lom_key(resource)
    title = root.get("title") or ""
    body = root.find(_q("qti-stimulus-body"))
    sections = []
    if body is not None:
        for div in body.iterfind(_q("div")):
            if div.get("class") == "ccs-section":
                sections.append({"heading": div.findtext(_q("h3")) or "", "body": _lines(div)})
        if not sections:
            # A stimulus from another tool: its text as one section under its title.
            text = "\n".join(t.strip() for t in body.itertext() if t.strip())
            sections = [{"heading": title, "body": text}]
    record = {
        "key": key or root.get("identifier") or "",
        "title": title,
        "setting": ext.get("setting") if ext is not None else None,
        "code_set_year": _int(ext.get("code-set-year")) if ext is not None else None,
        "sections": sections,
        "coding": _coding(ext, resource.href),
    }
    return record | _extras(ext, resource.href)


def _coding(ext, where: str) -> dict:
    element = None if ext is None else ext.find(_ccs("coding"))
    if element is None:
        return {}
    if element.get("format") == "json":
        try:
            return json.loads(element.text or "{}")
        except json.JSONDecodeError:
            raise QtiPackageError(where, "the case's coding is not JSON") from None
    coding = {}
    principal = element.find(_ccs("principal-diagnosis"))
    if principal is not None:
        coding["principal_diagnosis"] = principal.text or ""
    for key, tag in CODING_LISTS.items():
        codes = element.find(_ccs(tag))
        if codes is not None:
            coding[key] = [code.text or "" for code in codes.iterfind(_ccs("code"))]
    return coding


def _item_record(package: _Package, resource: _Resource, case_keys: dict[str, str]) -> dict:
    root = package.xml(resource.href)
    where = resource.href
    if root.tag != _q("qti-assessment-item"):
        raise QtiPackageError(where, "is not a QTI 3.0 qti-assessment-item")
    interactions = list(root.iter(_q("qti-choice-interaction")))
    if len(interactions) != 1:
        raise QtiPackageError(where, "must hold exactly one qti-choice-interaction")
    interaction = interactions[0]
    response_id = interaction.get("response-identifier")
    declaration = next(
        (
            d
            for d in root.iterfind(_q("qti-response-declaration"))
            if d.get("identifier") == response_id
        ),
        None,
    )
    if declaration is None:
        raise QtiPackageError(where, f"has no qti-response-declaration for {response_id!r}")
    correct = {
        v.text for v in declaration.iterfind(f"{_q('qti-correct-response')}/{_q('qti-value')}")
    }
    choices = list(interaction.iterfind(_q("qti-simple-choice")))
    options = [
        {"text": "".join(c.itertext()).strip(), "key": c.get("identifier") in correct}
        for c in choices
    ]
    ext = _ext(resource, "item")
    kind = (ext.get("kind") if ext is not None else None) or (
        "multiple" if declaration.get("cardinality") == "multiple" else "single"
    )
    choose = _int(interaction.get("max-choices"), 1)
    if choose == 0:  # QTI's "no limit": the candidate picks as many as there are keys
        choose = len(correct)
    body = root.find(_q("qti-item-body"))
    stem_div = next(
        (d for d in body.iterfind(_q("div")) if d.get("class") == "ccs-stem"), None
    ) if body is not None else None  # fmt: skip
    if stem_div is not None:
        stem = _lines(stem_div)
    else:
        prompt = interaction.find(_q("qti-prompt"))
        stem = " ".join("".join(prompt.itertext()).split()) if prompt is not None else ""
    rationale, references = "", ""
    for feedback in root.iterfind(_q("qti-modal-feedback")):
        for div in feedback.iter(_q("div")):
            if div.get("class") == "ccs-rationale":
                rationale = _lines(div)
            elif div.get("class") == "ccs-references":
                references = _lines(div)
    case = None
    ref = root.find(_q("qti-assessment-stimulus-ref"))
    if ref is not None:
        path = _resolve(where, ref.get("href") or "", where)
        case = case_keys.get(path)
        if case is None:
            raise QtiPackageError(where, f"refers to the stimulus {ref.get('href')!r}, not listed")
    record = {
        "key": (ext.get("key") if ext is not None else None)
        or _lom_key(resource)
        or root.get("identifier")
        or "",
        "domain": _domain(resource),
        "case": case,
        "kind": kind,
        "choose": choose,
        "stem": stem,
        "options": options,
        "rationale": rationale,
        "references": references,
        "code_set_year": _int(ext.get("code-set-year")) if ext is not None else None,
        "status": (ext.get("status") if ext is not None else None) or "draft",
        "partial_credit": declaration.find(_q("qti-mapping")) is not None,
        "angoff": [
            {"judge": r.get("judge") or "", "rating": _float(r.get("rating"))}
            for r in (ext.iterfind(_ccs("angoff")) if ext is not None else [])
        ],
    }
    return record | _extras(ext, where)


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value  # bank_import names it


def _domain(resource: _Resource):
    if resource.metadata is None:
        return None
    for path in resource.metadata.iter(_lom("taxonPath")):
        if path.findtext(f"{_lom('source')}/{_lom('string')}") == TAXONOMY:
            return _int(path.findtext(f"{_lom('taxon')}/{_lom('id')}"))
    return None


def package_document(content: bytes) -> tuple[dict, list[str], list[str]]:
    """The bank document a package holds, and the files its cases and items came from."""
    package = _Package(content)
    resources = _manifest_resources(package)
    stimuli = [r for r in resources if r.type == STIMULUS_TYPE]
    cases = [_case_record(package, r) for r in stimuli]
    case_keys = {r.href: c["key"] for r, c in zip(stimuli, cases, strict=True)}
    item_resources = [r for r in resources if r.type == ITEM_TYPE]
    items = [_item_record(package, r, case_keys) for r in item_resources]
    document = {"format": FORMAT, "version": FORMAT_VERSION, "cases": cases, "items": items}
    return document, [r.href for r in stimuli], [r.href for r in item_resources]


_RECORD = re.compile(r"^(case|item) (\d+)(.*)$")


def qti_import(
    *,
    content: bytes,
    by=None,
    program=None,
    create_missing_judges: bool = False,
    restore: bool = False,
) -> ImportResult:
    """Import a QTI 3.0 package through the bank's own import, into `program` (its review
    rules apply), or restore a full state (`restore`, the operator's): all or nothing."""
    document, case_files, item_files = package_document(content)
    try:
        return bank_import(
            document,
            by=by,
            program=program,
            create_missing_judges=create_missing_judges,
            restore=restore,
        )
    except BankImportError as exc:
        # Name the package's file rather than the record's position in the document.
        match = _RECORD.match(exc.record)
        if match:
            files = case_files if match.group(1) == "case" else item_files
            index = int(match.group(2)) - 1
            if 0 <= index < len(files):
                raise BankImportError(
                    f"{files[index]}{match.group(3)}", exc.field, exc.message
                ) from exc
        raise


__all__ = ["QtiPackageError", "package_build", "package_document", "qti_export", "qti_import"]
