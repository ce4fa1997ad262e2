# Safeline: `make run` starts the helpline locally, `make test` runs the whole suite.
# Both set everything up first (virtualenv, dependencies, trained model); see README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RASA   := $(VENV)/bin/rasa
DATA   := nlu_data dialogues/rules.yml dialogues/stories.yml
STAMP  := $(VENV)/.installed-$(shell cat requirements/*.txt | sha1sum | cut -c1-12)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test install train validate stories nlu-report clean

run: train
	$(PY) -m bot.stack

test: train
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

dialogues/responses.yml: locales/en.yml $(STAMP)
	$(PY) -m bot.domain_responses

# Rasa's own fingerprinting skips training when dialogues/, nlu_data/ and config.yml are unchanged.
train: $(STAMP) dialogues/responses.yml
	$(RASA) train --config config.yml --domain dialogues --data $(DATA) --out models --quiet

validate: $(STAMP) dialogues/responses.yml
	$(RASA) data validate --config config.yml --domain dialogues --data $(DATA)

nlu-report: train
	$(PY) bench/nlu_eval.py

clean:
	rm -rf models results .pytest_cache
