"""Safeline's offline translation service: Argos Translate in its own process and virtualenv.

Run with `.venv-translate/bin/python -m translator`; the Safeline app talks to it over loopback
HTTP through `bot/translation.py`. Packages are installed from files with `python -m translator.install`.
"""
