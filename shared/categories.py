"""MegaDetector's three categories: their ids as its JSON writes them and their names. Defined
here and nowhere else; every other module takes them from here."""

from __future__ import annotations

CATEGORY_LABELS = {"1": "animal", "2": "person", "3": "vehicle"}
CATEGORY_IDS = {label: value for value, label in CATEGORY_LABELS.items()}
LABELS = tuple(CATEGORY_LABELS.values())  # ("animal", "person", "vehicle")
