"""What a scan, photo or PDF attached to a material is, told from its first bytes (never from
its name, which anyone can type). Pure: no I/O."""

from __future__ import annotations

# The first bytes of each kind of file the office keeps, and its media type. A scanner makes
# PDF or TIFF, a phone JPEG or PNG; anything else (a Word file, an archive, a program) is not
# a copy of a document and is refused.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

# What staff read for each type (never the media type itself).
KIND_WORDS = {
    "application/pdf": "PDF",
    "image/jpeg": "照片（JPEG）",
    "image/png": "图片（PNG）",
    "image/tiff": "扫描件（TIFF）",
}

SUFFIXES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
}


def media_type_of(content: bytes) -> str | None:
    """The file's media type by its signature, or None for a kind the office does not keep."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


def size_words(size: int) -> str:
    """A size as staff read it: 830 字节, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / 1024 / 1024:.1f} MB"
