"""`make audit` (deploy/audit.py): fails clearly without the database, never passes what it could not check."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
import audit  # noqa: E402


def report(*dependencies: dict) -> dict:
    return {"dependencies": list(dependencies), "fixes": []}


def test_an_unreachable_database_is_an_error_and_nothing_is_reported_as_safe(monkeypatch, capsys):
    monkeypatch.setattr(audit, "database_unreachable", lambda: "URLError: Name or service not known")
    monkeypatch.setattr(audit, "run_pip_audit", lambda path: pytest.fail("must not audit without a database"))
    assert audit.main(["requirements/app.txt"]) == 2
    assert "cannot reach the vulnerability database" in capsys.readouterr().err


def test_known_unfixable_findings_pass_with_their_reason_and_new_ones_fail(monkeypatch, capsys):
    monkeypatch.setattr(audit, "database_unreachable", lambda: None)
    reports = {
        "rasa.txt": report({"name": "keras", "version": "2.12.0", "vulns": [{"id": "CVE-2024-3660", "fix_versions": ["2.13.1"]}]}),
        "app.txt": report({"name": "httpx", "version": "0.28.1", "vulns": []}),
    }
    monkeypatch.setattr(audit, "run_pip_audit", lambda path: reports.get(path.name, report()))
    assert audit.main([str(ROOT / "requirements" / "rasa.txt"), str(ROOT / "requirements" / "app.txt")]) == 0
    out = capsys.readouterr().out
    assert "known    keras==2.12.0 CVE-2024-3660" in out and "pinned by rasa 3.6.21" in out

    reports["app.txt"] = report({"name": "httpx", "version": "0.28.1", "vulns": [{"id": "GHSA-x", "fix_versions": []}]})
    assert audit.main([str(ROOT / "requirements" / "rasa.txt"), str(ROOT / "requirements" / "app.txt")]) == 1
    assert "NEW      httpx==0.28.1 GHSA-x" in capsys.readouterr().out


def test_a_known_entry_covers_only_its_version_and_a_skipped_package_fails(monkeypatch, capsys):
    monkeypatch.setattr(audit, "database_unreachable", lambda: None)
    upgraded = report({"name": "keras", "version": "2.13.0", "vulns": [{"id": "CVE-X", "fix_versions": []}]},
                      {"name": "torch", "skip_reason": "Dependency not found on PyPI and could not be audited"})
    monkeypatch.setattr(audit, "run_pip_audit", lambda path: upgraded)
    assert audit.main([str(ROOT / "requirements" / "rasa.txt")]) == 1
    out = capsys.readouterr().out
    assert "NEW      keras==2.13.0" in out and "SKIPPED  torch" in out


def test_every_known_entry_names_what_pins_it_and_why_safeline_is_not_exposed():
    for (package, version), entry in audit.load_known().items():
        assert entry["pinned_by"] and entry["why_not_exposed"], package
        assert any(line.lower().startswith(f"{package}=={version}")
                   for line in (ROOT / "requirements" / "rasa.txt").read_text().splitlines()), \
            f"{package}=={version} is not the pinned version any more: review its entry"
