import dataclasses
import io
import zipfile

import pytest

from mutualise.fund.uploads import UploadRefused, check_upload

MB = 1024 * 1024


def office_file(main_type: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/main.xml" ContentType="'
            f'{main_type}"/></Types>',
        )
        archive.writestr("main.xml", "<x/>")
    return buffer.getvalue()


DOCX = office_file(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
XLSX = office_file("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
PDF = b"%PDF-1.7\n%test\n"


def check(name, data, max_bytes=10 * MB):
    return check_upload(name, len(data), io.BytesIO(data), max_bytes=max_bytes)


def test_accepts_real_files():
    assert check("plan.pdf", PDF).kind == "pdf"
    assert check("Plan.DOCX", DOCX).kind == "docx"
    assert check("budget.xlsx", XLSX).kind == "xlsx"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plan.exe", PDF, "must be a PDF, DOCX or XLSX"),
        ("plan.pdf", b"MZ\x90\x00 not a pdf", "not a real PDF"),
        ("plan.docx", XLSX, "not a real Word"),
        ("budget.xlsx", DOCX, "not a real Excel"),
        ("plan.docx", b"PK\x03\x04 broken zip", "not a real Word"),
        ("plan.docx", office_file("text/plain"), "not a real Word"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_refuses_wrong_type(name, data, message):
    with pytest.raises(UploadRefused, match=message):
        check(name, data)


def test_refuses_oversized_file():
    with pytest.raises(UploadRefused, match="smaller than 10 MB"):
        check_upload("big.pdf", 10 * MB + 1, io.BytesIO(PDF), max_bytes=10 * MB)


def test_refuses_content_types_with_a_doctype():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><Types><Override ContentType="'
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            '.main+xml"/></Types>',
        )
    with pytest.raises(UploadRefused):
        check("evil.docx", buffer.getvalue())


def test_an_oversized_upload_keeps_at_most_the_limit_and_is_refused(settings, monkeypatch):
    """Through Django's multipart parser: the handler chain never holds more than the limit."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler
    from django.test import RequestFactory

    import mutualise.fund.rules as fund_rules
    from mutualise.fund.uploads import OversizedUpload

    limit = 200_000
    smaller = dataclasses.replace(fund_rules.application_form(), max_attachment_bytes=limit)
    monkeypatch.setattr(fund_rules, "application_form", lambda: smaller)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every file goes through the temporary-file handler
    kept: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        kept.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    big = io.BytesIO(PDF + b"0" * (3 * limit))
    big.name = "plan.pdf"
    request = RequestFactory().post("/upload/", {"file": big})
    upload = request.FILES["file"]
    assert isinstance(upload, OversizedUpload) and upload.size > limit
    assert sum(kept) <= limit
    with pytest.raises(UploadRefused, match="must be smaller than"):
        check_upload(upload.name, upload.size, upload.file, max_bytes=limit)
    small = io.BytesIO(PDF)
    small.name = "plan.pdf"
    fine = RequestFactory().post("/upload/", {"file": small}).FILES["file"]
    assert not isinstance(fine, OversizedUpload) and fine.read() == PDF
