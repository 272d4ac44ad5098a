"""The results database's tables, written with SQLAlchemy Core. The migrations in
`migrations/versions/` create exactly these; `tests/shared/store/test_migrations.py` checks that
the two never drift apart.

`media` keeps, next to the raw facts, a few values computed at the job's threshold (`outcome`,
the per-category counts, `max_conf`) so the site can filter and order 50,000 rows by index; the
detections keep every confidence, so any other threshold can be applied from them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes a rowid alias of INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),  # the latest run's start
    Column("finished_at", DateTime(timezone=True)),
    Column("model_name", Text, nullable=False),
    Column("model_meta", JSON, nullable=False),  # detector id, thresholds it suggests, notes
    Column("threshold", Double, nullable=False),  # outcomes and counts
    Column("render_threshold", Double, nullable=False),  # boxes drawn
    Column("min_confidence", Double, nullable=False),  # nothing below reaches any output
    Column("options", JSON, nullable=False),
    Column("images", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("counts", JSON, nullable=False),  # outcomes and detections, at `threshold`
    Column("skipped", JSON, nullable=False),  # files that were not media
)

media = Table(
    "media",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", String(64), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),  # position in the upload, sorted by path
    Column("path", Text, nullable=False),  # relative to the upload, "/"-separated
    Column("folder", Text, nullable=False),  # the path's folder, "" at the top level
    Column("kind", String(8), nullable=False, default="image"),  # image | video
    Column("outcome", String(32), nullable=False),  # error | empty | animal | animal+person ...
    Column("animals", Integer, nullable=False, default=0),
    Column("persons", Integer, nullable=False, default=0),
    Column("vehicles", Integer, nullable=False, default=0),
    Column("max_conf", Double),  # best detection's confidence, any threshold
    Column("captured", DateTime(timezone=False)),  # the camera's own clock, no time zone
    Column("captured_from", String(40), nullable=False, default=""),  # the tag it came from
    Column("make", Text, nullable=False, default=""),
    Column("model", Text, nullable=False, default=""),
    Column("serial", Text, nullable=False, default=""),
    Column("latitude", Double),
    Column("longitude", Double),
    Column("altitude", Double),  # metres
    Column("altitude_ref", String(40), nullable=False, default=""),
    Column("width", Integer),
    Column("height", Integer),
    Column("failure", Text),
    Column("notes", Text, nullable=False, default=""),  # EXIF and encoding remarks
    # a photo's colourfulness and brightness, 0-1 (migration 0015): grey = infrared night
    Column("chroma", Double),
    Column("brightness", Double),
    # what the camera faces, a 12 x 12 grey thumbnail as hex (migration 0016): the view check
    Column("layout", Text),
    Column("annotated", Text, nullable=False, default=""),  # the annotated copy in the work folder
    Column("thumbnail", Text, nullable=False, default=""),  # relative to the job's media folder
    # review (migration 0002): the machine's columns above never change when a person reviews
    Column("view", Text, nullable=False, default="", server_default=""),  # web-sized rendition
    Column("doubt", Double),  # |confidence - threshold| of the detection nearest it; see README
    Column("review", String(16), nullable=False, default="", server_default=""),
    Column("verified_outcome", String(32)),  # the outcome a person confirmed
    Column("reviewer", Text, nullable=False, default="", server_default=""),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    # videos (migration 0003): codec, frame rate, duration, the checked frames and their times
    Column("video", JSON),
    # the deployment period of a project's card it belongs to (migration 0009)
    Column("period_id", BigId),
    # the project of its upload (migration 0010): a project's pages walk one index in order
    # instead of merging every card's
    Column("project_id", BigId),
    # what a reviewer counted (migration 0011), counted as `animals`.. are; None until reviewed.
    # Every figure counts these where they are set and the machine's columns elsewhere.
    Column("verified_animals", Integer),
    Column("verified_persons", Integer),
    Column("verified_vehicles", Integer),
    UniqueConstraint("job_id", "path", name="uq_media_job_path"),
    Index("ix_media_job_ordinal", "job_id", "ordinal"),
    # the counts ride along in the folder index so the summary never reads the table itself
    Index("ix_media_job_outcome", "job_id", "outcome"),
    Index(
        "ix_media_job_folder",
        "job_id",
        "folder",
        "outcome",
        "verified_outcome",
        "animals",
        "persons",
        "vehicles",
        "verified_animals",
        "verified_persons",
        "verified_vehicles",
    ),
    Index("ix_media_job_max_conf", "job_id", "max_conf"),
    Index("ix_media_job_captured", "job_id", "captured", "ordinal"),
    # "most uncertain first", over the whole job and over what is not reviewed yet
    Index("ix_media_job_doubt", "job_id", "doubt", "ordinal"),
    Index("ix_media_job_review", "job_id", "review", "doubt", "ordinal"),
    Index("ix_media_period", "period_id", "ordinal"),
    Index("ix_media_project_ordinal", "project_id", "ordinal", "id"),
    Index("ix_media_project_doubt", "project_id", "doubt", "ordinal", "id"),
    Index("ix_media_project_review", "project_id", "review", "doubt", "ordinal", "id"),
)

detections = Table(
    "detections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("media_id", BigId, ForeignKey("media.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(8), nullable=False),  # MegaDetector's ids: "1", "2", "3"
    Column("confidence", Double, nullable=False),
    Column("x", Double, nullable=False),  # normalised to the image, MegaDetector's bbox order
    Column("y", Double, nullable=False),
    Column("w", Double, nullable=False),
    Column("h", Double, nullable=False),
    Column("frame", Integer),  # the video frame it was seen in; None for photos
    Column("source", String(16), nullable=False, default="machine"),  # machine | human
    Column("model", Text, nullable=False, default=""),
    # review (migration 0002): what a person said about this box; category and confidence stay
    Column("verdict", String(16)),  # accepted | rejected | changed | added; None: not reviewed
    Column("verified_category", String(8)),
    Column("species", Text),
    Column("reviewer", Text, nullable=False, default="", server_default=""),
    # species (migration 0004): the class set's suggestion for an animal box; a reviewer's
    # answer stays in `species` above
    Column("suggested_species", Text),  # a class name, or "unknown"
    Column("species_distance", Double),  # cosine distance to that class's centroid
    Column("species_runner_up", Text),
    Column("species_margin", Double),  # runner-up's distance minus the answer's: small = unsure
    # the project's own fields a reviewer set on this box: {name: value} (migration 0013)
    Column("fields", JSON),
    # the location's repeat rule that suppressed this machine box on a later card (migration
    # 0014): it stays as the detector gave it but counts nowhere; None: not suppressed
    Column("suppressed_by", BigId),
    # how unlike its suspected repeat group's typical crop the box looks (migration 0014;
    # `shared.repeats.appearance`): above APART, probably a real animal in the same place
    Column("appearance", Double),
    Index("ix_detections_media", "media_id"),
    Index("ix_detections_suppressed_by", "suppressed_by"),
)

# Class sets (migration 0004): classes taught by example. Each example keeps its embedding (the
# embedding model's name is the set's: vectors of two models cannot be compared) and a small crop
# for the class page; `source` says where it came from (an upload's photo, a job's reviewed box).
class_sets = Table(
    "class_sets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("embedder", Text, nullable=False),
    Column("overrides", JSON, nullable=False),  # {class: distance threshold set by hand}
    Column("created_at", DateTime(timezone=True), nullable=False),
    # the project whose members may see, use and teach it; NULL: shared site-wide
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE")),
    Index("ix_class_sets_project", "project_id"),
)

class_examples = Table(
    "class_examples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("set_id", BigId, ForeignKey("class_sets.id", ondelete="CASCADE"), nullable=False),
    Column("species", String(200), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, L2-normalised
    Column("crop", Text, nullable=False),  # file name under the set's folder
    Column("source", Text, nullable=False),
    Column("detection_id", BigId),  # the reviewed box it was learned from (no key: jobs expire)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_class_examples_set", "set_id", "species"),
)

class_uploads = Table(
    "class_uploads",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("set_id", BigId, ForeignKey("class_sets.id", ondelete="CASCADE"), nullable=False),
    Column("species", String(200)),  # None: the zip's folders name the classes
    Column("file", Text, nullable=False),  # the zip as uploaded
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("added", Integer, nullable=False, default=0),
    Column("without_animal", JSON, nullable=False),  # photos with no animal box to learn from
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_class_uploads_set", "set_id"),
)

# migration 0005: a job whose results are gone (expired by the cleanup, or cancelled), kept after
# its rows are removed so that its link says 410 and why, from the database, for good
ended_jobs = Table(
    "ended_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("why", String(16), nullable=False),  # expired | cancelled
    Column("ended_at", DateTime(timezone=True), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", String(64), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("media_id", BigId, ForeignKey("media.id", ondelete="CASCADE")),
    Column("detection_id", BigId, ForeignKey("detections.id", ondelete="CASCADE")),
    Column("action", String(32), nullable=False),  # see shared/store/review.py
    Column("new_category", String(8)),
    Column("species", Text),
    Column("reviewer", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # migration 0002: what undo needs
    Column("detail", JSON),  # the action's own fields (a drawn box, the added detection's id)
    Column("before", JSON),  # the media's review state before the action
    Column("version", Integer),  # the media's version the action produced
    Column("batch", String(32)),  # one bulk action's reviews share it
    Column("undone_at", DateTime(timezone=True)),
    # migration 0006: the account that made it (no key: the name above stays if one is removed)
    Column("user_id", BigId),
    Index("ix_reviews_job", "job_id"),
    Index("ix_reviews_batch", "batch"),
    Index("ix_reviews_media", "media_id"),
)

# A reviewer's word on a whole event (migration 0012): the species and the count they confirmed,
# for the event that starts with `first_path` (events are worked out, not stored: the tag holds
# while the event keeps that first file). Made with a bulk review of its files (`batch`), and
# undone with it.
event_tags = Table(
    "event_tags",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", String(64), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("first_path", Text, nullable=False),
    Column("files", Integer, nullable=False),  # the event's files when it was tagged
    Column("species", Text),  # None: the count alone was confirmed
    Column("count", Integer, nullable=False),
    Column("reviewer", Text, nullable=False, default=""),
    Column("user_id", BigId),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("batch", String(32), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("fields", JSON),  # the project's fields for the whole event (migration 0013)
    Index("ix_event_tags_job", "job_id", "first_path"),
    Index("ix_event_tags_batch", "batch"),
)

# People and projects (migration 0006). A user logs in with a password (argon2id hash) or sends an
# API token; only a token's SHA-256 is kept (tokens are 256 random bits: a slow hash adds nothing).
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("email", Text, nullable=False, default=""),
    Column("password_hash", Text, nullable=False),  # "" until a reset link is used
    Column("site_admin", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True)),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # the token's first characters, to tell apart
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_tokens_user", "user_id"),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

projects = Table(
    "projects",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("utc_offset", String(6), nullable=False, default=""),  # the cameras' clocks: "+02:00"
    Column("settings", JSON, nullable=False),  # default threshold, event gap, class set
    # a job of this project still opens through its capability link, for anyone who has it:
    # true for the projects the upgrade made from existing jobs, false for a team's survey
    Column("link_access", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner | reviewer | uploader | viewer
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ix_memberships_user", "user_id"),
)

# Which project a job belongs to, written by the site when the upload is made (the job's `jobs`
# row comes later, from its model server). A job with no row here is in the site's Inbox.
project_jobs = Table(
    "project_jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("uploader_id", BigId),  # no key: the upload stays when its uploader is removed
    Column("added_at", DateTime(timezone=True), nullable=False),
    # migration 0007: the location the uploader said the whole card is from (None: matched)
    Column("location_id", BigId),
    Index("ix_project_jobs_project", "project_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigId),
    Column("actor", Text, nullable=False),  # the user's name then, or the typed reviewer name
    Column("action", String(40), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_log_project", "project_id", "id"),
)

# A project's cameras (migration 0007): each location is registered once, and every card from it
# adds a deployment period (the photos' first and last capture, editable). A card's deployments
# are matched to locations by the location the uploader chose, the camera serial, or the folder.
locations = Table(
    "locations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("latitude", Double),
    Column("longitude", Double),
    Column("camera_serial", Text, nullable=False, default=""),
    Column("camera_model", Text, nullable=False, default=""),
    Column("camera_height", Double),  # metres above the ground
    Column("bait", Text, nullable=False, default=""),  # "" none, else what and how
    Column("notes", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_locations_project_name"),
)

deployment_periods = Table(
    "deployment_periods",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("location_id", BigId, ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", String(64), nullable=False),
    Column("deployment", Text, nullable=False),  # the job's own name for it (folder [serial])
    Column("start", DateTime(timezone=False)),  # camera clock, as the media's `captured`
    Column("end", DateTime(timezone=False)),
    Column("media", Integer, nullable=False, default=0),
    Column("edited", Boolean, nullable=False, default=False),  # start/end set by a person
    # its media rows name it (`media.period_id`); False for periods made before migration 0009
    Column("linked", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("job_id", "deployment", name="uq_deployment_periods_job_deployment"),
    Index("ix_deployment_periods_location", "location_id"),
)

# A location's operation gaps a person recorded (migration 0015): "not working from ... to ..."
# on the camera's clock, as periods are. Removing one keeps its row (`removed_at`), so the
# effort a past export used can be explained.
operation_gaps = Table(
    "operation_gaps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("location_id", BigId, ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    Column("start", DateTime(timezone=False), nullable=False),
    Column("end", DateTime(timezone=False), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_by", Text, nullable=False, default="", server_default=""),
    Column("removed_at", DateTime(timezone=True)),
    Index("ix_operation_gaps_location", "location_id"),
)

# A clock correction a person made to one deployment period (migration 0016): every survey-level
# reader (events, effort, checks, the project export) adds `shift_seconds` to the period's
# capture times and keeps the camera's own; undone, never deleted.
clock_corrections = Table(
    "clock_corrections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "period_id",
        BigId,
        ForeignKey("deployment_periods.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("shift_seconds", Integer, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("undone_by", Text, nullable=False, default="", server_default=""),
    Column("undone_at", DateTime(timezone=True)),
    Index("ix_clock_corrections_period", "period_id"),
)

# A location's repeat rules (migration 0014): a group of repeated false alarms a reviewer
# rejected, remembered as its place in the frame and category; a later card's matching machine
# boxes are suppressed (`detections.suppressed_by`). Switched off, never deleted, so what it did
# stays explained.
repeat_rules = Table(
    "repeat_rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", BigId, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("location_id", BigId, ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(8), nullable=False),  # MegaDetector's id
    Column("x", Double, nullable=False),  # the group's place, normalised, MegaDetector's order
    Column("y", Double, nullable=False),
    Column("w", Double, nullable=False),
    Column("h", Double, nullable=False),
    Column("iou", Double, nullable=False),  # a box matches at this overlap or more
    Column("files", Integer, nullable=False),  # the files of the group it was learnt from
    Column("source", Text, nullable=False, default=""),  # "group <id>" or "by hand"
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("switched_off_by", Text, nullable=False, default=""),
    Column("switched_off_at", DateTime(timezone=True)),
    # the group's typical look ({"embedder", "median", "spread"}; `shared.repeats.appearance`)
    # where the model server measured it: a later box on the spot that looks unlike it is spared
    Column("appearance", JSON),
    Index("ix_repeat_rules_location", "location_id"),
)

# A card's suspected repeat's typical look (migration 0014), by the group's first box, as the
# model server measured it: what a rule learnt from the group keeps.
repeat_looks = Table(
    "repeat_looks",
    metadata,
    Column("leader_id", BigId, ForeignKey("detections.id", ondelete="CASCADE"), primary_key=True),
    Column("embedder", Text, nullable=False),
    Column("look", JSON, nullable=False),  # {"median": [...], "spread": [...]}
)
