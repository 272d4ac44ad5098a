"""The ground-truth formats researchers already have: a Camtrap DP package (`observations.csv`
with `media.csv`), a plain CSV of `file,category` with optional box columns, and a COCO Camera
Traps JSON. Each is read as a stream: CSV rows one at a time, a COCO file's images and
annotations one JSON item at a time (ijson), so a 64 MB file never becomes a tree in memory."""

from __future__ import annotations

import codecs
import csv
import heapq
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import ijson

from shared.errors import TruthError
from shared.evaluation.model import TruthSet
from shared.evaluation.truth_builder import Bbox, TruthBuilder, checked_box

# opens a fresh binary stream on one truth file, each time it is called (a COCO file is read
# in several passes)
Opener = Callable[[], IO[bytes]]
FILE_COLUMNS = ("file", "filepath", "path", "filename", "image", "imagepath", "media")
CATEGORY_COLUMNS = ("category", "label", "class", "species", "observationtype")
BOX_COLUMNS = (
    ("x", "y", "width", "height"),
    ("bboxx", "bboxy", "bboxwidth", "bboxheight"),
    ("xmin", "ymin", "width", "height"),
)


class _Rows:
    """A CSV's rows as dicts keyed by its normalised column names, read as they are needed."""

    def __init__(self, lines: Iterable[str], what: str) -> None:
        self._reader = csv.reader(lines)
        self.what = what
        header = self._next()
        if header is None:
            raise TruthError(f"{what} is empty")
        self.columns = [_key(name) for name in header]

    def _next(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except csv.Error as exc:  # a field past csv's limit, a NUL byte
            raise TruthError(f"{self.what} line {self._reader.line_num}: {exc}") from None

    def __iter__(self) -> Iterator[dict[str, str]]:
        width = len(self.columns)
        while (row := self._next()) is not None:
            values = [v.strip() for v in row[:width]] + [""] * (width - len(row))
            yield dict(zip(self.columns, values, strict=True))


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _box(row: dict[str, str], columns: tuple[str, ...] | None, where: str) -> Bbox | None:
    if columns is None or not all(row.get(c) for c in columns):
        return None
    try:
        values = [float(row[c]) for c in columns]
    except ValueError:
        raise TruthError(f"{where}: box values must be numbers") from None
    return checked_box(values, where)


def read_csv(lines: Iterable[str]) -> TruthSet:
    rows = _Rows(lines, "the CSV")
    head = set(rows.columns)
    file_col = next((c for c in FILE_COLUMNS if c in head), None)
    cat_col = next((c for c in CATEGORY_COLUMNS if c in head), None)
    if file_col is None or cat_col is None:
        raise TruthError(
            "the CSV needs a 'file' column and a 'category' column (animal, person, "
            "vehicle, empty, or a species name), and optionally x, y, width, height"
        )
    box_cols = next((cols for cols in BOX_COLUMNS if set(cols) <= head), None)
    truth = TruthBuilder("CSV (file, category)")
    for n, row in enumerate(rows, start=2):
        if row[file_col]:
            truth.add(row[file_col], row[cat_col], _box(row, box_cols, f"CSV row {n}"))
    return truth.build()


def _moment(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TruthError(f"{where}: '{text}' is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Events:
    """Event-level observations of one deployment: which observation types cover each moment,
    found in one sweep over the events and the moments sorted by time, O((events + moments) log
    events). A scan of every event for every file, adding each covering row, took a web thread
    106 s on a 148 KB package of overlapping events (issue 33, item 7)."""

    def __init__(self) -> None:
        self.spans: list[tuple[datetime, datetime, str]] = []

    def add(self, start: datetime, end: datetime, kind: str) -> None:
        self.spans.append((start, end, kind))

    def kinds_at(self, moments: Iterable[datetime]) -> dict[datetime, list[str]]:
        spans = sorted(self.spans, key=lambda span: span[0])
        ending: list[tuple[datetime, int]] = []  # heap of the open events' ends
        open_kinds: Counter[str] = Counter()
        found: dict[datetime, list[str]] = {}
        taken = 0
        for moment in sorted(set(moments)):
            while taken < len(spans) and spans[taken][0] <= moment:
                heapq.heappush(ending, (spans[taken][1], taken))
                open_kinds[spans[taken][2]] += 1
                taken += 1
            while ending and ending[0][0] < moment:
                _, gone = heapq.heappop(ending)
                open_kinds[spans[gone][2]] -= 1
            found[moment] = sorted(kind for kind, n in open_kinds.items() if n > 0)
        return found


def read_camtrap_dp(observations: Iterable[str], media: Iterable[str]) -> TruthSet:
    """Media-level observations say what is in each file (with its box); a file that has none
    takes the event-level observations of its deployment whose time span covers it."""
    files: dict[str, tuple[str, str]] = {}  # mediaID -> (path, deploymentID)
    stamps: dict[str, datetime | None] = {}
    for n, row in enumerate(_Rows(media, "media.csv"), start=2):
        if not row.get("mediaid"):
            raise TruthError(f"media.csv row {n}: no mediaID")
        files[row["mediaid"]] = (
            row.get("filepath") or row.get("filename") or row["mediaid"],
            row.get("deploymentid", ""),
        )
        stamps[row["mediaid"]] = (
            _moment(row["timestamp"], f"media.csv row {n}") if row.get("timestamp") else None
        )
    by_media: dict[str, list[tuple[int, dict[str, str]]]] = {}
    events: dict[str, _Events] = {}
    for n, row in enumerate(_Rows(observations, "observations.csv"), start=2):
        if row.get("observationlevel") == "event":
            where = f"observations.csv row {n}"
            events.setdefault(row.get("deploymentid", ""), _Events()).add(
                _moment(row["eventstart"], where),
                _moment(row["eventend"], where),
                row.get("observationtype", ""),
            )
        elif row.get("mediaid"):
            by_media.setdefault(row["mediaid"], []).append((n, row))
    truth = TruthBuilder("Camtrap DP (observations.csv + media.csv)")
    covered: dict[str, dict[datetime, list[str]]] = {
        deployment: found.kinds_at(
            stamp
            for media_id, (_, at) in files.items()
            if at == deployment and media_id not in by_media and (stamp := stamps[media_id])
        )
        for deployment, found in events.items()
    }
    from_events = 0
    for media_id, (path, deployment) in files.items():
        if media_id in by_media:
            for n, row in by_media[media_id]:
                truth.add(
                    path,
                    row.get("observationtype", ""),
                    _box(row, BOX_COLUMNS[1], f"observations.csv row {n}"),
                )
            continue
        stamp = stamps[media_id]
        covering = covered.get(deployment, {}).get(stamp, []) if stamp else []
        for kind in covering:
            truth.add(path, kind)
        from_events += bool(covering)
        if not covering:
            truth.unusable(path, "no observation of this media or of an event covering its time")
    if from_events:
        truth.notes.append(
            f"{from_events} media have event-level observations only: they count "
            f"at image level, without boxes"
        )
    return truth.build()


def read_coco(opener: Opener, name: str, formats: str) -> TruthSet:
    """COCO Camera Traps: boxes in pixels, made relative with the image's width and height.
    Read in three passes over the file (categories, images, annotations), each a stream of JSON
    items; only each image's name and size are kept."""
    try:
        names = {cat["id"]: str(cat["name"]) for cat in _items(opener, name, "categories.item")}
        images = {
            img["id"]: (str(img["file_name"]), img.get("width"), img.get("height"))
            for img in _items(opener, name, "images.item")
        }
        truth = TruthBuilder("COCO Camera Traps JSON")
        annotated = set()
        for n, ann in enumerate(_items(opener, name, "annotations.item")):
            image = images.get(ann.get("image_id"))
            if image is None or ann.get("category_id") not in names:
                raise TruthError(
                    f"annotation {n} names an image or category the file does not have"
                )
            annotated.add(ann["image_id"])
            truth.add(image[0], names[ann["category_id"]], _pixel_box(ann, image, n))
    except (KeyError, TypeError, AttributeError):
        raise TruthError(
            "a COCO Camera Traps file needs 'images' (id, file_name) and 'categories' (id, name)"
        ) from None
    if not names and not annotated:
        raise TruthError(
            f"{name} is not a COCO Camera Traps file (no 'annotations' and 'categories'); "
            + formats
        )
    for image_id, (file_name, _, _) in images.items():
        if image_id not in annotated:
            truth.unusable(file_name, "the COCO file has no annotation for it")
    del images, annotated  # not needed while the truth is built
    return truth.build()


def _json_stream(opener: Opener) -> IO[bytes]:
    stream = opener()
    if stream.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
        stream.seek(0)
    return stream


def _items(opener: Opener, name: str, prefix: str) -> Iterator[Any]:
    with _json_stream(opener) as stream:
        try:
            yield from ijson.items(stream, prefix, use_float=True)
        except ijson.JSONError as exc:
            raise TruthError(f"{name} is not valid JSON: {exc or 'it ends too soon'}") from None
        except UnicodeDecodeError:
            raise TruthError(f"{name} is not UTF-8 text") from None


def _pixel_box(ann: dict[str, Any], image: tuple[str, Any, Any], n: int) -> Bbox | None:
    box, width, height = ann.get("bbox"), image[1], image[2]
    if not box or not width or not height:
        return None
    try:
        x, y, w, h = (float(v) for v in box)
        values = [x / width, y / height, w / width, h / height]
    except (TypeError, ValueError):
        raise TruthError(f"annotation {n}: bbox and the image's size must be numbers") from None
    return checked_box(values, f"annotation {n}")
