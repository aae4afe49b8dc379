"""The applicant's protected numbers: finding cases by resident ID, re-encrypting under a new key."""

from __future__ import annotations

from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from casework.crypto import lookup_hash
from casework.search import Query
from models.tables import Applicant, Case, CaseMaterial


def cases_of_person(*, session: Session, id_number: str) -> list[str]:
    """Case numbers of the applicant with this resident ID number (found by its keyed hash)."""
    query = (
        select(Case.number)
        .join(Applicant, col(Applicant.id) == col(Case.applicant_id))
        .where(Applicant.id_number_hash == lookup_hash(id_number))
        .order_by(col(Case.id))
    )
    return list(session.exec(query))


def cases_found(*, session: Session, query: Query, where: ColumnElement[bool]) -> list[Case]:
    """The cases (among those `where` admits) of the person the search names, newest first."""
    column = {
        "id_number": Applicant.id_number_hash,
        "phone": Applicant.phone_hash,
        "name": Applicant.name_hash,
    }[query.kind]
    found = (
        select(Case)
        .join(Applicant, col(Applicant.id) == col(Case.applicant_id))
        .where(column == query.key, where)
        .order_by(col(Case.id).desc())
    )
    return list(session.exec(found))


def rotate_encryption(*, session: Session) -> int:
    """Re-encrypt every applicant's ID and phone under the newest data key; returns how many."""
    applicants = list(session.exec(select(Applicant)))
    for applicant in applicants:
        # Reading decrypts with any key; marking the fields dirty re-encrypts with the first.
        applicant.id_number = str(applicant.id_number)
        applicant.phone = str(applicant.phone)
        flag_modified(applicant, "id_number")
        flag_modified(applicant, "phone")
        session.add(applicant)
    # The citizen's problem in her words and the clerk's words to agencies are hers too.
    for case in session.exec(select(Case).where(col(Case.problem).is_not(None))):
        case.problem = str(case.problem)
        flag_modified(case, "problem")
        session.add(case)
    for material in session.exec(select(CaseMaterial).where(col(CaseMaterial.asks).is_not(None))):
        material.asks = str(material.asks)
        flag_modified(material, "asks")
        session.add(material)
    return len(applicants)
