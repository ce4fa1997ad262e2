"""`python -m translator.install FILE.argosmodel...`: install Argos packages from files, offline.

Wraps `argostranslate.package.install_from_path` into ARGOS_PACKAGES_DIR (see translator/config.py
for the default). Downloading .argosmodel files needs the internet and is a deployment step done
elsewhere (docs/translation.md); restart the translator afterwards, it loads packages at start.
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from translator.config import TranslatorSettings
from translator.engine import prepare_argos


def main(argv: list[str]) -> int:
    """Install each file; exit 1 if any was not a valid package."""
    parser = argparse.ArgumentParser(prog="python -m translator.install", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help=".argosmodel files")
    args = parser.parse_args(argv)
    settings = TranslatorSettings.from_env()
    prepare_argos(settings.packages_dir)
    from argostranslate import package

    failed = 0
    for path in args.files:
        if not path.is_file() or not zipfile.is_zipfile(path):
            print(f"{path}: not an .argosmodel file (a zip archive)", file=sys.stderr)
            failed += 1
            continue
        with zipfile.ZipFile(path) as archive:
            if not any(name.count("/") == 1 and name.endswith("/metadata.json") for name in archive.namelist()):
                print(f"{path}: no <package>/metadata.json inside: not an Argos package", file=sys.stderr)
                failed += 1
                continue
        package.install_from_path(path)
        print(f"installed {path.name} into {settings.packages_dir}")
    installed = sorted(f"{p.from_code}→{p.to_code}" for p in package.get_installed_packages() if p.type == "translate")
    print("installed pairs: " + (", ".join(installed) or "none"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
