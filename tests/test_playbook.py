import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from casework.playbook import PlaybookError, all_playbooks, load_playbook_file
from casework.settings import get_settings

pytestmark = pytest.mark.unit


def _shen_data() -> dict:
    path = get_settings().playbooks_dir / "recover-cremation-certificate.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / f"{data['slug']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_cremation_playbook_loads_with_its_chain_and_limit() -> None:
    book = all_playbooks()["recover-cremation-certificate"]
    material = book.material("cremation-certificate")
    assert material is not None
    assert material.agencies == ["crematorium-front-desk", "crematorium-archive-room"]
    assert book.deadline is not None
    assert book.deadline.last_day(date(2016, 12, 10)) == date(2026, 12, 10)
    assert book.deadline.last_day(date(2016, 2, 29)) == date(2026, 2, 28)
    assert book.follow_up.reminders_before_escalation == 2


def test_templates_named_by_playbooks_exist() -> None:
    root = get_settings().templates_dir
    for book in all_playbooks().values():
        for name in book.templates.model_dump().values():
            assert (root / name).is_file(), f"{book.slug}: missing template {name}"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    data = _shen_data()
    data["follow_up"]["interval_days"] = 3
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    assert "recover-cremation-certificate.yaml: follow_up.interval_days" in str(info.value)


def test_a_malformed_agency_email_names_file_and_key(tmp_path: Path) -> None:
    data = _shen_data()
    data["agencies"][0]["email"] = "front-desk at crematorium"
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    assert "recover-cremation-certificate.yaml: agencies.0.email" in str(info.value)
    assert "front-desk at crematorium" in str(info.value)


def test_deadline_needs_its_start_field(tmp_path: Path) -> None:
    data = _shen_data()
    data["fields"] = [f for f in data["fields"] if f["key"] != "cremation_date"]
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    assert "deadline.starts_from" in str(info.value)


def test_material_with_unknown_agency_is_refused(tmp_path: Path) -> None:
    data = _shen_data()
    data["materials"][0]["agencies"].append("nowhere")
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    assert "unknown agency 'nowhere'" in str(info.value)


def test_slug_must_match_file_name(tmp_path: Path) -> None:
    data = _shen_data()
    path = tmp_path / "other-name.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlaybookError, match="must match the file name"):
        load_playbook_file(path)


def _bundle_data() -> dict:
    path = get_settings().playbooks_dir / "hardship-bundle.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_a_cycle_in_the_service_order_is_named(tmp_path: Path) -> None:
    data = _bundle_data()
    data["services"][0]["after"] = ["expedited-reimbursement"]
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    message = str(info.value)
    assert message.startswith("hardship-bundle.yaml: ")
    assert "services.after: cycle archive-transfer → expedited-reimbursement" in message


def test_a_missing_template_is_named(tmp_path: Path) -> None:
    data = _shen_data()
    data["templates"]["reminder"] = "common/no-such.txt.j2"
    with pytest.raises(PlaybookError) as info:
        load_playbook_file(_write(tmp_path, data))
    assert "templates.reminder: no template 'common/no-such.txt.j2'" in str(info.value)


def test_a_deadline_rule_without_its_start_date_is_refused(tmp_path: Path) -> None:
    data = _shen_data()
    data["fields"] = [
        {**f, "required": False} if f["key"] == "cremation_date" else f for f in data["fields"]
    ]
    with pytest.raises(PlaybookError, match="must name a required date field"):
        load_playbook_file(_write(tmp_path, data))


def test_every_case_type_has_a_deployment_and_a_story() -> None:
    from casework.settings import PROJECT_DIR
    from cli.stories import STORIES

    deployments = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    case_deployments = {
        d["name"]
        for d in deployments["deployments"]
        if d.get("entrypoint", "flows/hard_case.py:hard_case") == "flows/hard_case.py:hard_case"
        and d["name"] not in ("every-15-minutes", "every-morning", "first-of-month")
    }
    # The six seed stories, and the general case the clerk routes herself (no story of its own:
    # every general case is a different one).
    assert set(all_playbooks()) == case_deployments == set(STORIES) | {"general"}
    assert len(STORIES) == 6


def test_bundle_shares_materials_between_services() -> None:
    book = all_playbooks()["hardship-bundle"]
    users = {m.slug: [s.slug for s in book.services_of(m.slug)] for m in book.materials}
    assert users["patient-identity-documents"] == [
        "unemployment-insurance",
        "medical-insurance",
        "low-income-certification",
    ]
    assert users["bank-account-proof"] == ["unemployment-insurance", "expedited-reimbursement"]


def test_check_playbooks_renders_every_template() -> None:
    from casework.samples import render_playbook_samples

    rendered = render_playbook_samples()
    assert set(rendered) == set(all_playbooks())
    assert all(
        "common/notice.txt.j2" in names or any("notice" in n for n in names)
        for names in rendered.values()
    )


def test_a_template_missing_a_variable_fails_the_check_not_a_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from casework.settings import PROJECT_DIR
    from cli.main import app
    from tests.factories import reset_database

    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_DIR / "templates", templates)
    request = templates / "common" / "request.txt.j2"
    request.write_text(
        request.read_text(encoding="utf-8").replace("{{ agency.name }}", "{{ agency.postcode }}"),
        encoding="utf-8",
    )
    monkeypatch.setenv("CASEWORK_TEMPLATES_DIR", str(templates))
    reset_database()
    try:
        result = CliRunner().invoke(app, ["check-playbooks"])
    finally:
        monkeypatch.undo()
        reset_database()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "common/request.txt.j2" in result.output and "postcode" in result.output
