"""Check an uploaded file before it is stored: size, extension and what the bytes really are.

PDF files start with ``%PDF-``. DOCX and XLSX files are ZIP archives (``PK\\x03\\x04``) whose
``[Content_Types].xml`` names the main part of a Word document or an Excel workbook. A file whose
name says one thing and whose bytes say another is refused.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any
from xml.etree import ElementTree

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"

CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAIN_PARTS = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
KIND_NAMES = {PDF: "PDF", DOCX: "Word (DOCX)", XLSX: "Excel (XLSX)"}
MAX_CONTENT_TYPES_BYTES = 256 * 1024


class UploadRefused(ValueError):
    """The file is not accepted; the message says why, in plain words."""


@dataclass(frozen=True)
class CheckedUpload:
    kind: str
    content_type: str
    size: int
    extension: str


def check_upload(name: str, size: int, stream: IO[bytes], *, max_bytes: int) -> CheckedUpload:
    """Return what the file is, or raise UploadRefused. Leaves the stream at position 0."""
    if size <= 0:
        raise UploadRefused("The selected file is empty")
    if size > max_bytes:
        raise UploadRefused(
            f"The selected file must be smaller than {max_bytes // (1024 * 1024)} MB"
        )
    extension = PurePath(name or "").suffix.lower().lstrip(".")
    if extension not in CONTENT_TYPES:
        raise UploadRefused("The selected file must be a PDF, DOCX or XLSX")
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if extension == PDF:
        if not head.startswith(b"%PDF-"):
            raise UploadRefused(
                "The selected file is not a real PDF: its contents do not match its name"
            )
    else:
        if not head.startswith(b"PK\x03\x04"):
            raise UploadRefused(
                f"The selected file is not a real {KIND_NAMES[extension]} file: "
                "its contents do not match its name"
            )
        found = _office_kind(stream)
        stream.seek(0)
        if found != extension:
            raise UploadRefused(
                f"The selected file is not a real {KIND_NAMES[extension]} file: "
                "its contents do not match its name"
            )
    return CheckedUpload(extension, CONTENT_TYPES[extension], size, extension)


def _office_kind(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                return None
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                return None
            data = archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return None
    # Office documents never carry a DTD; refusing one rules out entity-expansion tricks before
    # the bytes reach the XML parser.
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return None
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - bounded size, no DTD (checked above)
    except ElementTree.ParseError:
        return None
    main_types = set()
    for element in root:
        if element.tag.endswith("Override"):
            main_types.add(element.get("ContentType", ""))
    for kind, content_type in MAIN_PARTS.items():
        if content_type in main_types:
            return kind
    return None


class OversizedUpload(UploadedFile):
    """A file that was over the limit: its name and size, none of its bytes."""

    def __init__(self, name: str, size: int, content_type: str | None) -> None:
        super().__init__(io.BytesIO(b""), name, content_type, size)


class SizeCappedUploadHandler(FileUploadHandler):
    """Keep no more than the attachment limit of any uploaded file.

    Django would otherwise spool a whole file to a temporary file, however large, before
    `check_upload` could refuse it. This handler runs first: it passes chunks on to Django's own
    handlers until the file is over the limit, then swallows the rest and hands over an
    `OversizedUpload`, which `check_upload` refuses with the limit in plain words.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        from mutualise.fund.rules import application_form

        self.limit = application_form().max_attachment_bytes
        self.seen = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.seen += len(raw_data)
        return None if self.seen > self.limit else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.seen <= self.limit:
            return None  # the next handler holds the whole file
        return OversizedUpload(self.file_name or "", self.seen, self.content_type)
