"""Attacks through the letters folder (issue 37), which the README lets a printing PC share: a
letter's file replaced by a link to the install's key was served to a clerk byte for byte,
and a planted `.partial` link made the next letter overwrite the link's target."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from casework.settings import get_settings
from casework.templating import RenderedMessage
from models.db import session_scope
from models.tables import Contact
from tests.factories import case_with_a_request
from tests.workbench import DAY, sign_in

pytestmark = pytest.mark.flow


def _key() -> Path:
    from casework.links import reply_code

    reply_code("make-the-key")  # the links key exists once any code was made
    return get_settings().home / "secrets" / "links.key"


def test_a_letter_replaced_by_a_link_to_a_key_is_not_served(client: Any) -> None:
    number, request_id = case_with_a_request(DAY)
    with session_scope() as session:
        contact = session.get(Contact, request_id)
        assert contact is not None and contact.document_path
        letter = Path(contact.document_path)
    key = _key().read_bytes()
    letter.unlink()
    letter.symlink_to(_key())
    sign_in(client, "xuchang")
    served = client.get(f"/cases/{number}/letters/{request_id}")
    assert served.status_code == 404 and key not in served.content
    assert "为安全起见未打开" in served.text


def test_a_letter_whose_recorded_path_leaves_the_folder_is_not_served(client: Any) -> None:
    number, request_id = case_with_a_request(DAY)
    with session_scope() as session:
        contact = session.get(Contact, request_id)
        assert contact is not None
        contact.document_path = str(_key())  # a path the database was made to hold
        session.add(contact)
    sign_in(client, "xuchang")
    served = client.get(f"/cases/{number}/letters/{request_id}")
    assert served.status_code == 404 and _key().read_bytes() not in served.content


def test_a_planted_partial_link_does_not_redirect_the_next_letter(
    fresh_db: Path, smtp_server: list, tmp_path: Path
) -> None:
    from tasks.render import file_document

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    folder = get_settings().letters_dir / "HC-2026-0077"
    folder.mkdir(parents=True)
    for name in ("notice.pdf", "notice.txt"):
        (folder / f".{name}.partial").symlink_to(victim)
    message = RenderedMessage(
        subject="告知书", text="一次性告知书", printable="<p>一次性告知书</p>"
    )
    filed = Path(file_document("HC-2026-0077", "notice", message))
    assert victim.read_text() == "untouched"
    assert filed.parent == folder.resolve() and not filed.is_symlink()
    assert os.stat(filed).st_mode & 0o077 == 0  # the letter is the install's alone
    # A link planted where the letter itself will be: replaced, not written through.
    (folder / "other.pdf").symlink_to(victim)
    (folder / "other.txt").symlink_to(victim)
    again = Path(file_document("HC-2026-0077", "other", message))
    assert victim.read_text() == "untouched" and not again.is_symlink()
    with session_scope() as session:
        assert session.exec(select(Contact)).first() is None  # nothing else was touched
