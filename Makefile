# Safeline: `make run` starts the helpline locally, `make test` runs the whole suite.
# Both set everything up first (virtualenv, dependencies, trained model); see README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
DATA   := nlu_data dialogues/rules.yml dialogues/screening_rules.yml dialogues/stories.yml
STAMP  := $(VENV)/.installed-$(shell cat requirements/rasa.txt requirements/app.txt requirements/test.txt | sha1sum | cut -c1-12)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
TVENV  := .venv-translate
TSTAMP := $(TVENV)/.installed-$(shell sha1sum requirements/translate.txt | cut -c1-12)
XVENV  := .venv-tools
XSTAMP := $(XVENV)/.installed-$(shell sha1sum requirements/tools.txt | cut -c1-12)

.PHONY: run test install train validate stories nlu-report clean telegram-webhook tools compose-check audit

run: train $(TSTAMP)
	$(PY) -m bot.stack

test: train $(TSTAMP) $(XSTAMP)
	$(PY) -m pytest

install: $(STAMP)

# Rasa 3.6 declares python<3.11 but runs on 3.11 with the pinned wheels in requirements/rasa.txt;
# it is therefore installed without dependency resolution, after its pinned dependencies.
$(STAMP): requirements/rasa.txt requirements/app.txt requirements/test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.3.1
	$(PY) -m pip install --quiet --prefer-binary -r requirements/rasa.txt
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
	$(PY) -m pip install --quiet -r requirements/app.txt -r requirements/test.txt -c requirements/rasa.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The translator (translator/) runs argostranslate in its own venv: it imports stanza, torch and a
# spaCy that wants a newer numpy than Rasa's. torch goes in first and alone so pip takes the CPU wheel
# on this machine; requirements/translate.txt pins torch==2.13.0 too, so nothing upgrades it to CUDA.
.venv-translate: $(TSTAMP)

$(TSTAMP): requirements/translate.txt
	test -x $(TVENV)/bin/python || $(PYTHON) -m venv $(TVENV)
	$(TVENV)/bin/python -m pip install --quiet --upgrade pip==24.3.1
	$(TVENV)/bin/python -m pip install --quiet torch==2.13.0
	$(TVENV)/bin/python -m pip install --quiet -r requirements/translate.txt
	! $(TVENV)/bin/python -m pip list 2>/dev/null | grep -i nvidia
	rm -f $(TVENV)/.installed-*
	touch $@

dialogues/responses.yml: locales/en.yml locales/screening/en.yml $(STAMP)
	$(PY) -m bot.domain_responses

# Rasa's own fingerprinting (`--dry-run` exits 0 when the newest model is up to date) skips
# training when dialogues/, nlu_data/ and config.yml are unchanged; only the newest 3 models are kept.
TRAIN_ARGS := --config config.yml --domain dialogues --data $(DATA) --out models
train: $(STAMP) dialogues/responses.yml
	@if ls models/*.tar.gz >/dev/null 2>&1 && $(RASA) train --dry-run $(TRAIN_ARGS) >/dev/null 2>&1; then \
	  echo "The trained model is up to date."; \
	else \
	  $(RASA) train $(TRAIN_ARGS) --quiet && ls -t models/*.tar.gz | tail -n +4 | xargs -r rm -f; \
	fi
	@# The screening model (actions/screening/train.py) skips itself by a hash of its inputs.
	$(PY) -m actions.screening.train

validate: $(STAMP) dialogues/responses.yml
	$(RASA) data validate --config config.yml --domain dialogues --data $(DATA)

nlu-report: train
	$(PY) bench/nlu_eval.py

clean:
	rm -rf models results .pytest_cache

# Register SAFELINE_PUBLIC_URL/telegram/webhook with Telegram (secret token, update types, command menus).
telegram-webhook: $(STAMP)
	$(PY) -m bot.channels.telegram_setup

# Operator tools in their own venv (requirements/tools.txt): Docker Compose v2 to validate
# docker-compose.yml (also run by tests/unit/test_compose.py) and pip-audit for `make audit`.
tools: $(XSTAMP)

$(XSTAMP): requirements/tools.txt
	test -x $(XVENV)/bin/python || $(PYTHON) -m venv $(XVENV)
	$(XVENV)/bin/python -m pip install --quiet --upgrade pip==24.3.1
	$(XVENV)/bin/python -m pip install --quiet -r requirements/tools.txt
	rm -f $(XVENV)/.installed-*
	touch $@

# `docker-compose config` on docker-compose.yml, with deploy/env.example filled with placeholders.
compose-check: $(XSTAMP)
	$(XVENV)/bin/python deploy/compose_check.py

# Known vulnerabilities of every pinned requirement (needs the OSV database online; not in `make test`).
# Known, unfixable findings are listed and explained in deploy/audit-known.yml.
audit: $(XSTAMP)
	$(XVENV)/bin/python deploy/audit.py requirements/rasa.txt requirements/app.txt requirements/test.txt \
	  requirements/translate.txt requirements/tools.txt
