"""Deployments from the upload's folders (split by camera serial), and events within each: files
in capture-time order (ties by file name, so camtrapR's `(1)`/`(2)` and same-second bursts keep
their order) belong to one event while the gap to the previous file is at most the event gap.
A file without a capture time is an event of its own."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from shared.categories import LABELS
from shared.events.model import Deployment, Event, EventTag, Item

NO_TIME = "no capture time: an event of its own"


def folder_at(path: str, level: int) -> str:
    """The first `level` folders of `path` ("" for a file at the top of the upload)."""
    folders = path.split("/")[:-1]
    return "/".join(folders[:level])


def deployments(items: Iterable[Item], level: int = 1) -> list[Deployment]:
    """Each folder at `level` is a deployment; a folder whose files carry more than one camera
    serial number is one deployment per serial (files without one stay with the folder)."""
    by_folder: dict[str, list[Item]] = {}
    for item in items:
        by_folder.setdefault(folder_at(item.path, level), []).append(item)
    found: list[Deployment] = []
    for folder in sorted(by_folder):
        group = by_folder[folder]
        serials = sorted({i.serial for i in group if i.serial})
        split = len(serials) > 1
        for serial in serials if split else [""]:
            mine = [i for i in group if i.serial == serial] if split else group
            if split and serial == serials[0]:
                mine += [i for i in group if not i.serial]
            name = folder or "(top level)"
            found.append(
                described(
                    Deployment(
                        f"{name} [{serial}]" if split else name,
                        folder,
                        serial if split else (serials[0] if serials else ""),
                        mine,
                    )
                )
            )
    return found


def described(deployment: Deployment) -> Deployment:
    """Fills in its time span, most common camera and median GPS position from its files."""
    times = [i.captured for i in deployment.items if i.captured is not None]
    ends = [i.ends for i in deployment.items if i.ends is not None]
    # a video runs on after its capture time: the deployment lasts until its end
    deployment.start, deployment.end = (min(times), max(ends)) if times else (None, None)
    cameras = Counter((i.make, i.model) for i in deployment.items if i.make or i.model)
    if cameras:
        deployment.make, deployment.model = cameras.most_common(1)[0][0]
    places = [
        (i.latitude, i.longitude)
        for i in deployment.items
        if i.latitude is not None and i.longitude is not None
    ]
    if places:
        # a median of two fixes is their mean: rounded to 7 decimals (about 1 cm), as EXIF's are
        deployment.latitude = round(statistics.median(p[0] for p in places), 7)
        deployment.longitude = round(statistics.median(p[1] for p in places), 7)
    return deployment


def _event(number: int, deployment: str, members: list[Item], note: str = "") -> Event:
    times = [m.captured for m in members if m.captured is not None]
    ends = [m.ends for m in members if m.ends is not None]
    confs = [m.max_conf for m in members if m.max_conf is not None]
    named = {name for m in members for name in m.species}
    return Event(
        f"E{number:06d}",
        deployment,
        [m.path for m in members],
        min(times) if times else None,
        max(ends) if ends else None,  # the end of its last video, not only its start
        {label: max(m.counts.get(label, 0) for m in members) for label in LABELS},
        max(confs) if confs else None,
        sum(1 for m in members if m.failed),
        note,
        reviewed=sum(1 for m in members if m.reviewed),
        species={name: max(m.species.get(name, 0) for m in members) for name in sorted(named)},
        reviewers=tuple(sorted({m.reviewer for m in members if m.reviewed and m.reviewer})),
    )


def _sort_key(item: Item) -> tuple[datetime, str]:
    assert item.captured is not None
    return item.captured, item.path


def events(found: list[Deployment], gap_seconds: float) -> list[Event]:
    """Every deployment's events, numbered in deployment order then time."""
    out: list[Event] = []
    for deployment in found:
        before = len(out)
        timed = sorted((i for i in deployment.items if i.captured is not None), key=_sort_key)
        current: list[Item] = []
        last: datetime | None = None
        for item in timed:
            assert item.captured is not None
            gap = (item.captured - last).total_seconds() if last is not None else 0.0
            if current and gap > gap_seconds:
                out.append(_event(len(out) + 1, deployment.id, current))
                current = []
            current.append(item)
            last = item.captured
        if current:
            out.append(_event(len(out) + 1, deployment.id, current))
        for item in sorted(
            (i for i in deployment.items if i.captured is None), key=lambda i: i.path
        ):
            out.append(_event(len(out) + 1, deployment.id, [item], NO_TIME))
        deployment.events = len(out) - before
    return out


def by_file(found: list[Event]) -> dict[str, Event]:
    return {path: event for event in found for path in event.files}


def with_tags(found: list[Event], tags: Mapping[str, EventTag]) -> list[Event]:
    """Gives each event the tag made for it: the one made on the event that starts with the
    same file (a tag made before the event gap changed, on an event that now starts elsewhere,
    is left out rather than put on the wrong animals)."""
    if tags:
        for event in found:
            event.tag = tags.get(event.files[0])
    return found
