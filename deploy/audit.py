"""`make audit`: known vulnerabilities of every pinned requirement (pip-audit against the OSV database).

    .venv-tools/bin/python deploy/audit.py requirements/*.txt

Exit codes: 0 no finding but the known ones; 1 a new finding, or a package that could not be
audited; 2 the vulnerability database cannot be reached (pip-audit's PyPI service would then skip
every package and still say "No known vulnerabilities found", so reachability is checked first and
any skipped package fails). Findings for a package listed in deploy/audit-known.yml, at the listed
version, are printed with the reason they cannot be fixed and are not counted.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
KNOWN_FILE = ROOT / "deploy" / "audit-known.yml"
OSV_QUERY = "https://api.osv.dev/v1/query"
# Installed with --no-deps by the Makefile, so not in any requirements file.
EXTRA_PINS = ["rasa==3.6.21", "rasa-sdk==3.6.2"]


class AuditError(RuntimeError):
    """pip-audit failed in a way that is not a finding (crash, unreadable output)."""


@dataclass(frozen=True)
class Finding:
    """One advisory for one pinned package."""

    package: str
    version: str
    advisory: str
    fix_versions: tuple[str, ...]
    source: str


def database_unreachable(timeout_s: float = 10.0) -> Optional[str]:
    """Why OSV cannot be used from here, or None if it answers a query with a known advisory."""
    probe = json.dumps({"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.4.1"}).encode()
    request = urllib.request.Request(OSV_QUERY, data=probe, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - fixed https URL
            if not json.loads(response.read()).get("vulns"):
                return "OSV answered, but without the advisories it is known to have (a filtering proxy?)"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None


def run_pip_audit(requirements: Path) -> dict[str, Any]:
    """pip-audit's JSON report for one fully pinned requirements file."""
    argv = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
            "-s", "osv", "-f", "json", "--progress-spinner", "off"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if result.returncode not in (0, 1):
        raise AuditError(f"pip-audit failed on {requirements.name}: {result.stderr.strip()[-800:]}")
    try:
        return json.loads(result.stdout)
    except ValueError as exc:
        raise AuditError(f"pip-audit gave no JSON report for {requirements.name}") from exc


def findings(report: dict[str, Any], source: str) -> tuple[list[Finding], list[str]]:
    """The advisories in a report, and the packages that could not be audited."""
    found: list[Finding] = []
    skipped: list[str] = []
    for dependency in report.get("dependencies", []):
        if dependency.get("skip_reason"):
            skipped.append(f"{dependency.get('name')} ({source}): {dependency['skip_reason']}")
            continue
        for vuln in dependency.get("vulns", []):
            found.append(Finding(dependency["name"].lower(), dependency.get("version", "?"), vuln.get("id", "?"),
                                 tuple(vuln.get("fix_versions", [])), source))
    return found, skipped


def load_known(path: Path = KNOWN_FILE) -> dict[tuple[str, str], dict[str, Any]]:
    """Known, unfixable items by (package, version)."""
    entries = yaml.safe_load(path.read_text()).get("known", [])
    return {(entry["package"].lower(), str(entry["version"])): entry for entry in entries}


def classify(found: list[Finding], known: dict[tuple[str, str], dict[str, Any]]) -> tuple[list[Finding], list[Finding]]:
    """(known findings, new findings)."""
    old = [f for f in found if (f.package, f.version) in known]
    return old, [f for f in found if (f.package, f.version) not in known]


def main(argv: list[str]) -> int:
    """Audit the given requirement files (and Rasa's own pins); print the findings; exit as documented."""
    files = [Path(arg) for arg in argv] or sorted((ROOT / "requirements").glob("*.txt"))
    reason = database_unreachable()
    if reason:
        print(f"audit: cannot reach the vulnerability database ({OSV_QUERY}): {reason}.\n"
              "audit: nothing was checked. Run `make audit` on a machine that can reach it.", file=sys.stderr)
        return 2
    known = load_known()
    found: list[Finding] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp) / "rasa-core.txt"
        extra.write_text("\n".join(EXTRA_PINS) + "\n")
        for path in [*files, extra]:
            try:
                report = run_pip_audit(path)
            except AuditError as exc:
                print(f"audit: {exc}", file=sys.stderr)
                return 2
            more, missed = findings(report, path.name)
            found += more
            skipped += missed
    old, new = classify(found, known)
    for finding in old:
        entry = known[(finding.package, finding.version)]
        print(f"known    {finding.package}=={finding.version} {finding.advisory} ({finding.source}): "
              f"pinned by {entry['pinned_by']}; {' '.join(str(entry['why_not_exposed']).split())}")
    for finding in new:
        fix = ", ".join(finding.fix_versions) or "no fixed version yet"
        print(f"NEW      {finding.package}=={finding.version} {finding.advisory} ({finding.source}): fixed in {fix}")
    for item in skipped:
        print(f"SKIPPED  {item}")
    print(f"audit: {len(new)} new, {len(old)} known and explained (deploy/audit-known.yml), "
          f"{len(skipped)} not audited")
    return 1 if new or skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
