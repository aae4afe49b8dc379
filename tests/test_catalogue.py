"""The one catalogue (casework/locale/*.po): every code a person may see is labelled in Chinese
and English, every message raised has both, every phrase on a page has its English; nothing in
it is unused; placeholders agree between the languages; `_` fills named fields and leaves an
unknown phrase as written."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from casework.actors import NOT_PEOPLE
from casework.answers import AnswerChannel, AnswerOutcome, TripReason
from casework.i18n import read_catalogue
from casework.messages import label, message, page_message
from casework.planning import Action, EscalationReason
from casework.playbook import TimeLimitTier
from casework.ratings import LEVEL_WORDS
from casework.time_limit import ClockState
from models.tables import (
    CaseStatus,
    Channel,
    ContactKind,
    Direction,
    EventKind,
    MaterialStatus,
    OutboxStatus,
    Role,
)
from stack.processes import SERVICES
from usecases.citizens import SAID_STEPS
from usecases.office_rules import STAFF_RATING_CHANNELS
from web.words import translator

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
GROUPS: list[tuple[str, type[StrEnum]]] = [
    ("case_status", CaseStatus),
    ("material_status", MaterialStatus),
    ("channel", Channel),
    ("direction", Direction),
    ("contact_kind", ContactKind),
    ("outbox_status", OutboxStatus),
    ("outcome", AnswerOutcome),
    ("outcome", TripReason),
    ("outcome", EscalationReason),
    ("answer_channel", AnswerChannel),
    ("event", EventKind),
    ("role", Role),
    ("clock_state", ClockState),
    ("tier", TimeLimitTier),
]
CJK = re.compile(r"[\u4e00-\u9fff]")
HAN = re.compile(r"[\u4e00-\u9fff\u3001-\u303f\uff01-\uff5e]")
# A page's phrase: _("…") in a template, words_for(request)("…") or on.words("…") in a route.
PHRASE = re.compile(r'(?:\b_|words_for\(request\)|\.words)\(\s*"((?:[^"\\]|\\.)*)"')
FIELD = re.compile(r"\{(\w+)\}")
ZH, EN = read_catalogue("zh"), read_catalogue("en")


def _entries(catalogue: object, prefix: str) -> dict[tuple[str, str], str]:
    return {
        (m.context or "", str(m.id)): str(m.string)
        for m in catalogue  # type: ignore[attr-defined]
        if m.id and (m.context or "").startswith(prefix)
    }


def _sources(*folders: str, pattern: str = "*.py") -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob(pattern))]


def _page_phrases() -> set[str]:
    sources = [*_sources("templates/web", pattern="*.j2"), *_sources("web")]
    return {p for source in sources for p in PHRASE.findall(source.read_text())}


@pytest.mark.parametrize(("group", "codes"), GROUPS, ids=[f"{g}-{e.__name__}" for g, e in GROUPS])
def test_every_code_has_a_chinese_and_an_english_label(group: str, codes: type[StrEnum]) -> None:
    for code in codes:
        zh, en = label(group, code, "zh"), label(group, code, "en")
        assert CJK.search(zh) and not re.search(r"[A-Za-z]", zh), (group, code, zh)
        assert en and not CJK.search(en) and en != zh, (group, code, en)


def test_the_catalogue_holds_no_label_for_a_code_that_does_not_exist() -> None:
    known = {(f"label:{group}", str(code)) for group, codes in GROUPS for code in codes}
    known |= {("label:outcome", "withdrawn")}
    known |= {("label:rating", str(level)) for level in LEVEL_WORDS}
    known |= {("label:actor", a) for a in (*NOT_PEOPLE, "staff")}
    known |= {("label:party", "applicant"), ("label:party", "manager")}
    known |= {("label:service", name) for name in SERVICES}
    known |= {("label:next_step", step) for step in (*SAID_STEPS, "done", "bring", "withdrawn")}
    known |= {("label:account_state", s) for s in ("active", "disabled")}
    known |= {("label:event_detail", "run-linked")}
    known |= {("label:search_kind", k) for k in ("id_number", "phone", "name")}
    known |= {("label:sender", "unverified")}
    known |= {("label:rating_channel", c) for c in (*STAFF_RATING_CHANNELS, "status-page")}
    assert set(_entries(ZH, "label:")) - known == set()
    assert {"notify", "wait", "close"} <= set(SAID_STEPS) <= {str(a) for a in Action}


def test_both_languages_know_the_same_codes_with_the_same_fields() -> None:
    for prefix in ("message", "page-message", "label:"):
        zh, en = _entries(ZH, prefix), _entries(EN, prefix)
        assert set(zh) == set(en), prefix
        for key, chinese in zh.items():
            assert chinese and en[key], key
            assert set(FIELD.findall(chinese)) == set(FIELD.findall(en[key])), key
            assert not CJK.search(en[key]), key


def _raised_codes() -> set[str]:
    found: set[str] = set()
    for source in _sources("casework", "models", "gateways", "tasks", "flows", "usecases"):
        found |= set(re.findall(r'(?:UserError|InvalidInput)\(\s*"([a-z_]+)"', source.read_text()))
    return found


def test_every_message_raised_has_both_languages_and_none_is_unused() -> None:
    messages = {code for _, code in _entries(ZH, "message")}
    raised = _raised_codes()
    assert {"unknown_case", "forward_to_missing", "missing_field"} <= raised
    assert raised - messages == set()
    folders = ("casework", "models", "gateways", "tasks", "flows", "usecases", "cli", "web")
    code_text = "\n".join(p.read_text() for p in _sources(*folders, "stack"))
    unused = sorted(code for code in messages if f'"{code}"' not in code_text)
    assert unused == []


# Raised only where the command line calls: no page can show them.
COMMAND_LINE_ONLY = {
    "no_such_user",
    "find_one_of",
    "intake_needs_confirmation",
    "need_format",
    "ask_without_need",
}


def test_no_page_tells_a_clerk_to_type_a_command_option() -> None:
    for code in _raised_codes() - COMMAND_LINE_ONLY:
        text = page_message(code, "zh") + page_message(code, "en")
        assert "--" not in text and "casework " not in text, (code, text)


def test_every_phrase_on_a_page_has_its_english_and_the_catalogue_no_other() -> None:
    phrases = _page_phrases()
    assert len(phrases) > 200  # the reader found the pages' phrases
    english = {code: text for (context, code), text in _entries(EN, "").items() if not context}
    assert sorted(p for p in phrases if not english.get(p)) == []
    assert sorted(set(english) - phrases) == []
    for chinese, text in english.items():
        assert not HAN.search(text), text
        assert set(FIELD.findall(chinese)) == set(FIELD.findall(text)), chinese


def test_pages_outside_the_wrapped_phrases_are_free_of_chinese() -> None:
    for template in _sources("templates/web", pattern="*.j2"):
        text = PHRASE.sub("_(", template.read_text())
        # The one exception: the language switch names Chinese in Chinese.
        text = text.replace(">中文<", "><")
        assert not HAN.search(text), (template.name, HAN.search(text))


def test_translator_picks_the_language_and_fills_fields() -> None:
    zh, en = translator("zh"), translator("en")
    assert zh("我的案件（{n} 件）", n=3) == "我的案件（3 件）"
    assert en("我的案件（{n} 件）", n=3) == "My cases (3)"
    assert en("退出") == "Sign out" and zh("退出") == "退出"
    assert en("殡仪馆") == "殡仪馆"  # playbook data is not translated: shown as the office wrote it
    assert translator("fr")("退出") == "退出"  # an unknown language reads Chinese


def test_an_unknown_code_is_shown_as_it_is_rather_than_hidden() -> None:
    assert label("case_status", "archived") == "archived"
    assert label("case_status", "waiting_agency", "en") == "waiting for an agency"
    assert message("no_such_code", "en", x=1) == "no_such_code"


def test_the_rating_labels_say_the_national_five_levels() -> None:
    from casework.ratings import LEVEL_ENGLISH

    for level, words in LEVEL_WORDS.items():
        assert label("rating", level) == words
        assert label("rating", level, "en") == LEVEL_ENGLISH[level]
