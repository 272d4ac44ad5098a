"""A location's repeat rules: a rejected group of repeated false alarms remembered as its place in
the frame and category, so the matching machine boxes of the location's later cards are
suppressed as each card is processed. A suppressed box stays as the detector gave it and names
its rule (`detections.suppressed_by`); it counts in no outcome, figure or export (it is written to
MegaDetector's JSON with its confidence negated, as MegaDetector's repeat detection elimination
does). Where the model server measured the rejected group's look, the rule keeps it, and a box
on the spot whose crop looks unlike it (an animal standing there) is spared. Switching a rule off
puts every box it suppressed back and recounts those cards."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from shared.categories import CATEGORY_IDS, CATEGORY_LABELS
from shared.events.grouping import deployments
from shared.options import JobOptions
from shared.people.errors import PeopleError
from shared.repeats.grouping import Group, iou
from shared.store.bulk_review import chunks
from shared.store.event_data import event_items
from shared.store.repeat_data import BOX_PLACE, look_among
from shared.store.schema import (
    deployment_periods,
    detections,
    jobs,
    locations,
    media,
    project_jobs,
    repeat_rules,
)
from shared.store.thresholds import apply_threshold
from shared.surveys.locations import Location, locations_of
from shared.surveys.periods import match_location, sync_periods

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Rule:
    id: int
    location_id: int
    location: str
    category: str  # MegaDetector's id
    bbox: Bbox
    iou: float
    files: int
    source: str
    active: bool
    created_by: str
    created_at: datetime
    switched_off_by: str
    switched_off_at: datetime | None
    suppressed: int = 0  # the boxes it holds suppressed now
    # its group's typical look ({"embedder", "median", "spread"}), where one was measured
    appearance: dict[str, Any] | None = None

    def matches(self, category: str, bbox: Bbox) -> bool:
        return category == self.category and iou(bbox, self.bbox) >= self.iou

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location": self.location,
            "location_id": self.location_id,
            "category": CATEGORY_LABELS.get(self.category, self.category),
            "bbox": [round(v, 4) for v in self.bbox],
            "iou": self.iou,
            "files": self.files,
            "source": self.source,
            "active": self.active,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "switched_off_by": self.switched_off_by or None,
            "switched_off_at": self.switched_off_at.isoformat() if self.switched_off_at else None,
            "suppressed": self.suppressed,
            "appearance": self.appearance["embedder"] if self.appearance else None,
        }


def _rules(conn: Connection, project_id: int, *, active_only: bool = False) -> list[Rule]:
    held = (
        select(detections.c.suppressed_by, func.count().label("n"))
        .where(detections.c.suppressed_by.is_not(None))
        .group_by(detections.c.suppressed_by)
        .subquery()
    )
    query = (
        select(repeat_rules, locations.c.name.label("location"), held.c.n)
        .join(locations, locations.c.id == repeat_rules.c.location_id)
        .outerjoin(held, held.c.suppressed_by == repeat_rules.c.id)
        .where(repeat_rules.c.project_id == project_id)
        .order_by(repeat_rules.c.id)
    )
    if active_only:
        query = query.where(repeat_rules.c.active.is_(True))
    return [
        Rule(
            r.id,
            r.location_id,
            r.location,
            r.category,
            (r.x, r.y, r.w, r.h),
            r.iou,
            r.files,
            r.source,
            r.active,
            r.created_by,
            r.created_at,
            r.switched_off_by,
            r.switched_off_at,
            int(r.n or 0),
            r.appearance,
        )
        for r in conn.execute(query)
    ]


def rules_of(engine: Engine, project_id: int) -> list[Rule]:
    """Every rule of the project, switched off ones too, oldest first."""
    with engine.connect() as conn:
        return _rules(conn, project_id)


def add_rule(
    engine: Engine,
    project_id: int,
    location_id: int,
    category: str,
    bbox: Bbox,
    *,
    iou_at_least: float,
    files: int,
    source: str,
    by: str,
    now: datetime,
    appearance: dict[str, Any] | None = None,
) -> Rule:
    """A new active rule of one of the project's locations; PeopleError when it is not one."""
    if category not in CATEGORY_LABELS:
        raise PeopleError(f"category must be one of {', '.join(CATEGORY_LABELS.values())}.")
    x, y, w, h = bbox
    if not (
        w > 0 and h > 0 and 0 <= x <= 1 and 0 <= y <= 1 and x + w <= 1.0001 and y + h <= 1.0001
    ):
        raise PeopleError("bbox must be [x, y, width, height] inside the frame, from 0 to 1.")
    if not 0 < iou_at_least <= 1:
        raise PeopleError("iou must be above 0 and at most 1.")
    with engine.begin() as conn:
        found = conn.execute(
            select(locations.c.id).where(
                locations.c.id == location_id, locations.c.project_id == project_id
            )
        ).first()
        if found is None:
            raise PeopleError("location is not one of this project's locations.")
        rule_id = conn.execute(
            insert(repeat_rules)
            .returning(repeat_rules.c.id)
            .values(
                project_id=project_id,
                location_id=location_id,
                category=category,
                x=x,
                y=y,
                w=w,
                h=h,
                iou=iou_at_least,
                files=files,
                source=source,
                active=True,
                created_by=by,
                created_at=now,
                switched_off_by="",
                appearance=appearance,
            )
        ).scalar_one()
        return next(r for r in _rules(conn, project_id) if r.id == rule_id)


def location_of_media(engine: Engine, media_ids: Iterable[int]) -> int | None:
    """The location most of these files' deployment periods are at; None when none has one (a
    card outside a project, or one not matched to its locations yet)."""
    counts: dict[int, int] = {}
    with engine.connect() as conn:
        for chunk in chunks(sorted(set(media_ids))):
            rows = conn.execute(
                select(deployment_periods.c.location_id, func.count())
                .join(media, media.c.period_id == deployment_periods.c.id)
                .where(media.c.id.in_(chunk))
                .group_by(deployment_periods.c.location_id)
            ).all()
            for location_id, n in rows:
                counts[location_id] = counts.get(location_id, 0) + n
    return max(counts, key=lambda k: (counts[k], -k)) if counts else None


def learn_rule(
    engine: Engine, group: Group, *, iou_at_least: float, batch: str, by: str, now: datetime
) -> Rule | None:
    """The rule a rejected group teaches its location (named by the reject's undo token, so
    undoing the reject switches it off); None where its files are at no project location."""
    media_ids = [b.media_id for b in group.boxes]
    location_id = location_of_media(engine, media_ids)
    if location_id is None:  # a project card whose locations nobody has looked at yet
        with engine.connect() as conn:
            project_id = conn.execute(
                select(project_jobs.c.project_id)
                .join(media, media.c.job_id == project_jobs.c.job_id)
                .where(media.c.id == media_ids[0])
            ).scalar()
        if project_id is None:
            return None
        sync_periods(engine, project_id, now=now)
        location_id = location_of_media(engine, media_ids)
        if location_id is None:
            return None
    with engine.connect() as conn:
        project_id = conn.execute(
            select(locations.c.project_id).where(locations.c.id == location_id)
        ).scalar_one()
        look = look_among(conn, [b.id for b in group.boxes])
    return add_rule(
        engine,
        project_id,
        location_id,
        CATEGORY_IDS[group.category],
        group.bbox,
        iou_at_least=iou_at_least,
        files=group.files,
        source=f"{BATCH}{batch}",
        by=by,
        now=now,
        appearance=look,
    )


BATCH = "batch:"  # a learnt rule's source: the undo token of the reject that taught it


def forget_batch(engine: Engine, batch: str, *, by: str, now: datetime) -> list[int]:
    """Switches off the rules an undone reject taught; their ids."""
    with engine.connect() as conn:
        found = conn.execute(
            select(repeat_rules.c.id, repeat_rules.c.project_id).where(
                repeat_rules.c.source == f"{BATCH}{batch}", repeat_rules.c.active.is_(True)
            )
        ).all()
    for rule_id, project_id in found:
        switch_off(engine, project_id, rule_id, by=by, now=now)
    return [rule_id for rule_id, _ in found]


def switch_off(
    engine: Engine, project_id: int, rule_id: int, *, by: str, now: datetime
) -> tuple[Rule, int]:
    """Switches the rule off and puts back every box it suppressed (how many: the second
    value), recounting those cards at their thresholds. PeopleError when the project has no
    such rule; switching off a rule that is already off changes nothing."""
    with engine.begin() as conn:
        rule = next((r for r in _rules(conn, project_id) if r.id == rule_id), None)
        if rule is None:
            raise PeopleError("This project has no such repeat rule.")
        held = (
            select(media.c.job_id)
            .join(detections, detections.c.media_id == media.c.id)
            .where(detections.c.suppressed_by == rule_id)
            .distinct()
        )
        cards = sorted(conn.execute(held).scalars())
        if rule.active:
            conn.execute(
                update(repeat_rules)
                .where(repeat_rules.c.id == rule_id)
                .values(active=False, switched_off_by=by, switched_off_at=now)
            )
        restored = conn.execute(
            update(detections)
            .where(detections.c.suppressed_by == rule_id)
            .values(suppressed_by=None)
        ).rowcount
    _recount(engine, cards)
    return next(r for r in rules_of(engine, project_id) if r.id == rule_id), int(restored)


def _recount(engine: Engine, cards: list[str]) -> None:
    """Each card's outcomes and counts worked out again from its counted boxes."""
    for job_id in cards:
        with engine.connect() as conn:
            threshold = conn.execute(select(jobs.c.threshold).where(jobs.c.id == job_id)).scalar()
        if threshold is not None:
            apply_threshold(engine, job_id, threshold)


# Of the boxes each rule matched ({rule id: box ids}), those that look like a real animal on the
# rule's spot (the model server embeds their crops and compares them with the rule's look).
Spare = Callable[[Mapping[int, list[int]], Mapping[int, Rule]], set[int]]


def suppress_card(engine: Engine, job_id: str, spare: Spare | None = None) -> int:
    """Applies the active rules of the card's locations to its machine boxes nobody judged: each
    match is suppressed by the first rule it matches, and the card is recounted. Returns how
    many boxes were suppressed (0 for a card outside a project or at a location with no rule).
    `spare` names matched boxes to leave counted (those that look like an animal on the spot).
    Safe to run again: a box already suppressed is left as it is."""
    with engine.connect() as conn:
        card = conn.execute(
            select(project_jobs.c.project_id, project_jobs.c.location_id).where(
                project_jobs.c.job_id == job_id
            )
        ).first()
        if card is None:
            return 0
        rules = _rules(conn, card.project_id, active_only=True)
        if not rules:
            return 0
        raw = conn.execute(select(jobs.c.options).where(jobs.c.id == job_id)).scalar()
        known = locations_of(conn, card.project_id)
    by_location: dict[int, list[Rule]] = {}
    for rule in rules:
        by_location.setdefault(rule.location_id, []).append(rule)
    paths: dict[str, list[Rule]] = {}
    level = JobOptions.from_json(raw).level
    for d in deployments(event_items(engine, job_id), level):
        at = match_location(d, card.location_id, known, job_id)
        if isinstance(at, Location) and at.id in by_location:
            paths.update((item.path, by_location[at.id]) for item in d.items)
    if not paths:
        return 0
    chosen = _matching_boxes(engine, job_id, paths)
    if spare is not None and chosen:
        spared = spare(chosen, {rule.id: rule for rule in rules})
        chosen = {r: [b for b in ids if b not in spared] for r, ids in chosen.items()}
        chosen = {r: ids for r, ids in chosen.items() if ids}
    if not chosen:
        return 0
    with engine.begin() as conn:
        for rule_id, box_ids in chosen.items():
            for chunk in chunks(box_ids):
                conn.execute(
                    update(detections)
                    .where(detections.c.id.in_(chunk), detections.c.suppressed_by.is_(None))
                    .values(suppressed_by=rule_id)
                )
    _recount(engine, [job_id])
    return sum(len(ids) for ids in chosen.values())


def _matching_boxes(
    engine: Engine, job_id: str, paths: dict[str, list[Rule]]
) -> dict[int, list[int]]:
    """{rule id: box ids} of the card's unjudged, unsuppressed machine boxes each rule of its
    file's location matches."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*BOX_PLACE)
            .join(media, media.c.id == detections.c.media_id)
            .where(
                media.c.job_id == job_id,
                detections.c.source == "machine",
                detections.c.suppressed_by.is_(None),
                detections.c.verdict.is_(None),
            )
        ).all()
    chosen: dict[int, list[int]] = {}
    for r in rows:
        box = (r.x, r.y, r.w, r.h)
        rule = next((rule for rule in paths.get(r.path, ()) if rule.matches(r.category, box)), None)
        if rule is not None:
            chosen.setdefault(rule.id, []).append(r.id)
    return chosen


def suppressed_in(engine: Engine, job_id: str) -> dict[int, int]:
    """{rule id: boxes} the card has suppressed now."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(detections.c.suppressed_by, func.count())
            .join(media, media.c.id == detections.c.media_id)
            .where(media.c.job_id == job_id, detections.c.suppressed_by.is_not(None))
            .group_by(detections.c.suppressed_by)
        ).all()
    return {int(rule_id): int(n) for rule_id, n in rows}


def suppressed_boxes(
    engine: Engine, job_ids: list[str], limit: int
) -> dict[int, tuple[int, list[tuple[str, int]]]]:
    """{rule id: (boxes it suppressed on these cards, up to `limit` of them as (card, box id))}."""
    found: dict[int, tuple[int, list[tuple[str, int]]]] = {}
    with engine.connect() as conn:
        for chunk in chunks(job_ids):
            rows = conn.execute(
                select(detections.c.suppressed_by, media.c.job_id, detections.c.id)
                .join(media, media.c.id == detections.c.media_id)
                .where(media.c.job_id.in_(chunk), detections.c.suppressed_by.is_not(None))
                .order_by(detections.c.suppressed_by, media.c.job_id, media.c.ordinal)
            ).all()
            for rule_id, job_id, box_id in rows:
                total, shown = found.get(rule_id, (0, []))
                if len(shown) < limit:
                    shown.append((job_id, box_id))
                found[rule_id] = (total + 1, shown)
    return found
