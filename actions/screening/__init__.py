"""Trauma-informed screening for trafficking indicators (issue 4).

- catalogue.py: the indicator catalogue (indicators.yml) and CONTRACTS §3-§4 names.
- extractor.py: finds indicators and immediate danger in free text with the trained model.
- cues.py: age and setting cues in text (is the person a child? which form of exploitation?).
- assessment.py: the rule set of rules.yml: forms, dimensions, urgency, needs.
- questions.py: which question, if any, can still change the outcome.
- summary.py: the handoff summary of CONTRACTS §6, with a text in the operator's language.
- dialogue.py: the Rasa custom actions of the screening dialogue.
- train.py: `python -m actions.screening.train` writes models/screening.joblib.
- __main__.py: `python -m actions.screening`, the batch CLI of CONTRACTS §7.
"""
