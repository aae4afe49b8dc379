"""The workbench's English: every phrase a page or web/app.py wraps in `_()`, and every sentence
the citizen's status page may show, has its English; the catalogue holds nothing unused; `_`
fills named fields in either language and leaves a phrase it does not know as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from usecases.workbench import NEXT_STEP_WORDS
from web.words import ENGLISH, PAGE_MESSAGES, translator

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
_PHRASE = re.compile(r'(?:\b_|_t\(request\))\(\s*"((?:[^"\\]|\\.)*)"')
_HAN = re.compile(r"[\u4e00-\u9fff\u3001-\u303f\uff01-\uff5e]")


def _phrases() -> set[str]:
    sources = [*sorted((ROOT / "templates/web").glob("*.j2")), ROOT / "web/app.py"]
    return {p for source in sources for p in _PHRASE.findall(source.read_text())}


def _status_sentences() -> set[str]:
    source = (ROOT / "usecases/workbench.py").read_text()
    return (
        set(NEXT_STEP_WORDS.values())
        | set(re.findall(r'next_step = "([^"]+)"', source))
        | {
            re.search(r'NEXT_STEP_WORDS\.get\(step\.action, "([^"]+)"\)', source).group(1)  # type: ignore[union-attr]
        }
    )


def test_every_phrase_on_a_page_has_its_english() -> None:
    phrases = _phrases() | _status_sentences()
    assert len(phrases) > 100  # the reader found the pages' phrases
    missing = sorted(p for p in phrases if p not in ENGLISH)
    assert missing == []


def test_the_catalogue_holds_only_phrases_the_pages_use() -> None:
    unused = sorted(set(ENGLISH) - _phrases() - _status_sentences())
    assert unused == []


def test_no_english_phrase_keeps_chinese_or_loses_a_field() -> None:
    for chinese, english in ENGLISH.items():
        assert not _HAN.search(english), english
        assert set(re.findall(r"\{(\w+)\}", chinese)) == set(re.findall(r"\{(\w+)\}", english))


def test_pages_outside_the_wrapped_phrases_are_free_of_chinese() -> None:
    for template in sorted((ROOT / "templates/web").glob("*.j2")):
        text = _PHRASE.sub("_(", template.read_text())
        # The one exception: the language switch names Chinese in Chinese.
        text = text.replace(">中文<", "><")
        assert not _HAN.search(text), (template.name, _HAN.search(text))


def test_translator_picks_the_language_and_fills_fields() -> None:
    zh, en = translator("zh"), translator("en")
    assert zh("我的案件（{n} 件）", n=3) == "我的案件（3 件）"
    assert en("我的案件（{n} 件）", n=3) == "My cases (3)"
    assert en("退出") == "Sign out" and zh("退出") == "退出"
    assert en("殡仪馆") == "殡仪馆"  # playbook data is not translated: shown as the office wrote it
    assert translator("fr")("退出") == "退出"  # an unknown language reads Chinese


def _codes_the_pages_can_raise() -> set[str]:
    layers = ("usecases", "casework", "models", "tasks")
    found: set[str] = set()
    for layer in layers:
        for source in (ROOT / layer).glob("*.py"):
            found |= set(re.findall(r'UserError\(\s*"([a-z_]+)"', source.read_text()))
    return found


def test_no_page_tells_a_clerk_to_type_a_command_option() -> None:
    from casework.messages import MESSAGES

    raised = _codes_the_pages_can_raise()
    assert {"forward_to_missing", "unknown_case", "missing_field"} <= raised
    terminal_words = sorted(
        code
        for code in raised
        if code in MESSAGES
        and code not in PAGE_MESSAGES
        and any(w in text for text in MESSAGES[code] for w in ("--", "casework "))
    )
    assert terminal_words == []
    for code, (zh, en) in PAGE_MESSAGES.items():
        assert code in MESSAGES  # overrides a real message
        fields = set(re.findall(r"\{(\w+)\}", MESSAGES[code][0]))
        assert set(re.findall(r"\{(\w+)\}", zh)) <= fields, code
        assert set(re.findall(r"\{(\w+)\}", en)) <= fields, code
        assert "--" not in zh + en and "casework " not in zh + en
