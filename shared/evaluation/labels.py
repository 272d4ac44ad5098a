"""What a truth file's category names mean to the detector: person, vehicle, empty, no answer,
or (anything else, such as a species name) animal."""

from __future__ import annotations

EMPTY = {"", "empty", "blank", "none", "nothing", "no animal", "false trigger"}
PERSON = {"person", "persons", "human", "humans", "people"}
VEHICLE = {"vehicle", "vehicles", "car", "cars", "truck"}
ANIMAL = {"animal", "animals"}
# "not classified yet": says nothing about what is there
NO_ANSWER = {"unknown", "unclassified", "unidentified", "unlabeled", "unlabelled"}


def label_of(name: str) -> str | None:
    """animal / person / vehicle, "empty", or None when the name gives no answer."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    if key in EMPTY:
        return "empty"
    if key in PERSON:
        return "person"
    if key in VEHICLE:
        return "vehicle"
    if key in NO_ANSWER:
        return None
    return "animal"


def is_species(name: str) -> bool:
    """True for a name read as an animal only because it is not one of the words above."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    return label_of(name) == "animal" and key not in ANIMAL
