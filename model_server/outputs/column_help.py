"""What each column of the report tables means, for the outputs reference the docs generate from
the writers' own column lists (a column without a line here fails the docs build). A meaning
keyed `table.column` is that table's own; one keyed by the column alone is shared."""

from __future__ import annotations

HELP: dict[str, str] = {
    "file": "the file's path inside the upload, as on the card",
    "folder": "the camera folder (the file's folder at the job's folder level; empty at the top)",
    "kind": "`image` or `video`",
    "deployment": "the camera: its folder, or its serial number where the EXIF has one",
    "event_id": "the event the file belongs to (files of one camera closer than the event gap)",
    "outcome": (
        "`animal`, `person`, `vehicle`, combinations such as `animal+person`, `empty` or `error`,"
        " at the threshold; the reviewer's answer where there is one"
    ),
    "animals": "animal boxes at the threshold (a video: the most in any one checked frame)",
    "persons": "person boxes at the threshold (a video: the most in any one checked frame)",
    "vehicles": "vehicle boxes at the threshold (a video: the most in any one checked frame)",
    "max_confidence": "the detector's highest confidence in the file (or frame, or event)",
    "review": (
        "what a reviewer did: `accepted`, `changed`, `empty` (a file), `rejected`, `added` (a box);"
        " empty when nobody reviewed it"
    ),
    "reviewer": "who reviewed it",
    "verified_category": "the category a reviewer confirmed or gave",
    "species": "the species a reviewer named, else the class set's suggestion",
    "species_source": "`review` (a person named it) or `machine` (a class set suggested it)",
    "species_distance": "how far the box's features are from the suggested species' examples",
    "species_runner_up": "the second-nearest species",
    "captured": (
        "the capture time from EXIF (or XMP, or a video's creation time), corrected where a"
        " person corrected the camera's clock; a real date in Excel"
    ),
    "camera_clock": "the camera's own time where its clock was corrected; empty otherwise",
    "make": "the camera's make (EXIF)",
    "model": "the camera's model (EXIF)",
    "serial": "the camera's serial number (EXIF or maker notes)",
    "latitude": "decimal degrees, WGS 84",
    "longitude": "decimal degrees, WGS 84",
    "altitude_m": "altitude in metres (EXIF GPS)",
    "altitude_ref": "above or below sea level, as the EXIF says",
    "map_link": "an OpenStreetMap link to the position",
    "media.width": "the photo's or video's width in pixels",
    "media.height": "the photo's or video's height in pixels",
    "duration_s": "a video's length in seconds",
    "frame_rate": "a video's frames per second",
    "codec": "a video's codec",
    "frames_checked": "how many of a video's frames the detector saw",
    "best_frame": "the checked frame with the video's most confident detection",
    "best_frame_s": "that frame's time in seconds",
    "first_seen": "in which checked frame each category was first seen, with its time",
    "failure": "why the file could not be read (the row stays; the job goes on)",
    "exif_notes": "what was wrong with the EXIF (a GPS value out of range, a broken date)",
    "frame": "a video's checked frame number (empty for a photo)",
    "time_s": "the frame's time in the video, in seconds",
    "category": "`animal`, `person` or `vehicle`",
    "confidence": "the detector's confidence for the box",
    "source": "`machine` (the detector's box) or `human` (a box a reviewer drew)",
    "x_min": "the box's left edge, as a fraction of the image's width",
    "y_min": "the box's top edge, as a fraction of the image's height",
    "detections.width": "the box's width, as a fraction of the image's width",
    "detections.height": "the box's height, as a fraction of the image's height",
    "x_min_px": "the box's left edge in pixels",
    "y_min_px": "the box's top edge in pixels",
    "width_px": "the box's width in pixels",
    "height_px": "the box's height in pixels",
    "start": "the first capture time (of the event, or the camera's files)",
    "end": "the last capture time (of the event, or the camera's files)",
    "events.files": "how many files the event has",
    "deployments.files": "how many files the camera has",
    "animals_maxn": "the most animals in any one file of the event (MaxN)",
    "persons_maxn": "the most persons in any one file of the event",
    "vehicles_maxn": "the most vehicles in any one file of the event",
    "events.species": "species reviewers named in the event, each with its MaxN",
    "reviewed_files": "how many of the event's files a person reviewed",
    "counts_from": "`machine`, `reviewed` or `mixed`: where the outcome and MaxN come from",
    "confirmed_species": "the species a reviewer confirmed for the whole event (tagged at once)",
    "confirmed_count": "the animals they counted, which may be more than the MaxN of its files",
    "confirmed_by": "who tagged the event",
    "first_file": "the event's first file",
    "notes": "what to know about the event (files without a capture time, a clock that jumps)",
    "position": (
        "where the coordinates come from: `given by the uploader`, `median of its files' GPS`,"
        " or empty (unknown)"
    ),
    "events": "how many events the camera has",
    "events_with_animals": "how many of them have an animal",
}
