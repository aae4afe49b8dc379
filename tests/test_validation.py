from datetime import date

import pytest

from casework import validation
from casework.masking import mask_id_number, mask_name, mask_phone, mask_text
from casework.validation import InvalidInput

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


def test_standard_example_id_is_valid() -> None:
    assert validation.resident_id("11010519491231002x", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_check_digit"),
        ("11010519491231002", "id_format"),
        ("99010519491231002X", "id_region"),
        ("110105194913310021", "id_birthdate"),
        ("110105203012310021", "id_birthdate"),
        ("1101051949123100A1", "id_format"),
    ],
)
def test_bad_ids_say_what_is_wrong(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.resident_id(value, today=TODAY)
    assert info.value.code == code


def test_fullwidth_digits_are_read_as_ascii() -> None:
    assert validation.resident_id("１１０１０５１９４９１２３１００２ｘ", today=TODAY) == (
        "11010519491231002X"
    )
    assert validation.phone("１３８　００００　１２３４") == "13800001234"
    assert validation.iso_date("２０１６－１２－１０", field="火化日期") == date(2016, 12, 10)


@pytest.mark.parametrize(
    "value",
    [
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits
        "۱۱۰۱۰۵۱۹۴۹۱۲۳۱۰۰۲X",  # Extended Arabic-Indic
        "11010519491231002²",  # a superscript two
        "１1010519491231002①",  # a circled one
        "११०१०५१९४९१२३१००२X",  # Devanagari
    ],
)
def test_digits_of_other_scripts_are_refused_with_one_line(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validation.resident_id(value, today=TODAY)
    assert info.value.code == "digits_ascii"
    with pytest.raises(InvalidInput) as info:
        validation.phone(value[-11:])
    assert info.value.code == "digits_ascii"


def test_phones() -> None:
    assert validation.phone("+86 138 0000 1234") == "13800001234"
    assert validation.phone("010-63012345") == "010-63012345"
    for bad in ["12800001234", "1380000123", "hello", "010-12"]:
        with pytest.raises(InvalidInput):
            validation.phone(bad)


def test_emails_refuse_header_injection() -> None:
    assert validation.email(" a.b@example.com ") == "a.b@example.com"
    for bad in ["a@b", "a@example.com\r\nBcc: x@y.z", "no-at.example.com"]:
        with pytest.raises(InvalidInput):
            validation.email(bad)


def test_masks() -> None:
    assert mask_name("沈桂兰") == "沈**"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    refused = "SMTPRecipientRefused(550, b'5.1.1 no such user', 'shen.family@example.com')"
    assert mask_text(refused) == (
        "SMTPRecipientRefused(550, b'5.1.1 no such user', 's***@example.com')"
    )
    assert mask_text("call 13812345678, id 11010519491231002X") == (
        "call 138****5678, id 1101**********002X"
    )


def test_log_lines_with_id_or_mobile_numbers_are_masked() -> None:
    import logging

    from gateways.run_logs import MASKED_LOGGERS, MaskPersonalData, install_log_masking

    record = logging.LogRecord(
        "prefect.flow_runs",
        logging.INFO,
        __file__,
        1,
        "call %s about %s",
        ("13812345678", "11010519491231002X"),
        None,
    )
    assert MaskPersonalData().filter(record)
    assert record.getMessage() == "call 138****5678 about 1101**********002X"
    install_log_masking()
    install_log_masking()  # idempotent
    for name in MASKED_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, MaskPersonalData) for f in filters) == 1


def test_the_resume_form_says_how_the_answer_came() -> None:
    from casework.answers import AnswerChannel
    from gateways.resume_form import CaseInput, FormOutcome

    answer = CaseInput(outcome=FormOutcome.RECEIVED, agency="crematorium-front-desk", via="post")
    reply = answer.to_answer()
    assert (reply.via, reply.agency, reply.material) == (
        AnswerChannel.POST,
        "crematorium-front-desk",
        None,
    )
    assert (
        CaseInput(outcome=FormOutcome.NO_RECORD, agency="x").to_answer().via is AnswerChannel.PHONE
    )
    with pytest.raises(ValueError):
        CaseInput(outcome=FormOutcome.RECEIVED, via="fax")
