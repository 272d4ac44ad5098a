"""What each setting means, for the settings reference the docs generate from `Settings` (a
test checks that every field has its line here and nothing else does)."""

from __future__ import annotations

HELP: dict[str, str] = {
    "data_dir": "uploads, work folders, result zips and thumbnails live here",
    "redis_url": "the queue",
    "database_url": (
        "the results database; empty: an SQLite file `trapline.db` in the data folder; for "
        "PostgreSQL `postgresql://user:password@host/dbname` (psycopg 3)"
    ),
    "model_path": "the detector model file; none: the site says so and keeps uploads queued",
    "species_embedder": (
        "the YOLOX ONNX export whose neck features classify animal crops for class sets; none: "
        "`yolox_nano.onnx` beside the model when it is there; without one, sets cannot be "
        "taught or used"
    ),
    "secret_key": "signs sessions and CSRF tokens; required when `TRAPLINE_PRODUCTION=true`",
    "production": "secure cookies, secrets required",
    "detection_threshold": "the outcome and count threshold; none: the model's typical one",
    "render_threshold": "boxes are drawn at or above it; none: the detection threshold",
    "output_min_confidence": "lowest confidence kept in the JSON",
    "max_image_pixels": "larger images are error rows (decompression bombs)",
    "max_file_bytes": (
        "largest single photo or video (a video inside a zip is read into memory to be decoded)"
    ),
    "max_upload_bytes": "largest upload",
    "max_truth_bytes": (
        "largest set of truth files sent to evaluate a job; every other form or JSON body is "
        "held to 1 MiB, with or without a `Content-Length`"
    ),
    "truth_inline_bytes": (
        "truth files up to this size together are compared while the Accuracy page waits; "
        "larger ones are stored and compared by a model server (an `evaluate` follow-up of the "
        "job), and the page shows the figures when they are in"
    ),
    "jpeg_quality": "annotated copies",
    "loader_threads": "threads decoding ahead of the detector",
    "max_pixels_in_flight": (
        "decoded pixels held at once across loading, detection and writing (3 bytes each); a "
        "larger photo goes through alone"
    ),
    "store_batch_images": (
        "results are stored this many images per transaction (or every 15 s, whichever comes first)"
    ),
    "view_size": (
        "long side in pixels of the clean web rendition the review page shows (about 150–250 KB"
        " per photo, kept as long as the results)"
    ),
    "video_frame_interval": (
        "seconds between a video's checked frames, when the uploader leaves the field blank"
    ),
    "video_max_frames": "most frames checked per video (the interval widens to fit)",
    "camtrap_dp_schemas": (
        "a folder with Camtrap DP 1.0.2's profile and table schemas: every package is validated"
        " offline against them (about 1 s per 5,000 photos)"
    ),
    "max_attempts": (
        "a job whose model server died this many times on it fails, naming the files in hand"
    ),
    "chunk_images": (
        "a detect job with more files than this (a video counts as the frames it may check) is "
        "split into chunks of this many that every model server works on"
    ),
    "inference_threads": (
        "the detector runtime's intra-op threads; 0: TensorFlow and onnxruntime decide, TFLite "
        "gets every core (its own default is one)"
    ),
    "inference_inter_threads": (
        "inter-op threads for TensorFlow graphs and onnxruntime (0: the runtime decides)"
    ),
    "accel_redirect_prefix": "behind nginx: internal location for downloads",
    "behind_proxy": "trust one proxy's `X-Forwarded-*` headers",
    "public_url": (
        "base of links in emails, never taken from a request's Host header; **required** when "
        "`TRAPLINE_PRODUCTION=true`"
    ),
    "smtp_host": "the mail server for the notice email sent when a job ends; no host: no email",
    "smtp_port": "the mail server's port",
    "smtp_user": "login at the mail server (none: no login)",
    "smtp_password": "password at the mail server",
    "smtp_from": "the notice email's sender",
    "smtp_starttls": "upgrade the mail connection with STARTTLS",
    "api_key": "scripts must send it as `X-API-Key` with every request that changes something",
    "uploads_per_hour_per_ip": (
        "uploads one client address may send per hour (`429` past it); a client already over "
        "its limit is refused at its first chunk"
    ),
    "uploads_per_hour_per_email": "uploads one email address may send per hour (`429` past it)",
    "chunks_per_minute_per_ip": "Dropzone chunks (8 MB) per minute per client address",
    "draft_bytes_per_day_per_ip": (
        "bytes one address may put into upload drafts a day, sent as a job or not; past it the "
        "first chunk of a file gets 429"
    ),
    "min_free_bytes": "free space the data folder keeps: a chunk that would leave less gets 507",
    "open_uploads": "anyone may upload (into the Inbox); `false`: members of a project only",
    "admin_user": "the admin page's login name",
    "admin_password_hash": (
        "the admin login's password hash, made with `python -m web.admin hash-password` (none: "
        "no admin page)"
    ),
    "lease_seconds": (
        "a model server silent this long is taken as dead and its job resumes elsewhere"
    ),
    "database_patience_seconds": (
        "how long a model server waits for a PostgreSQL server that stopped answering (a "
        "restart) before it fails the job it runs"
    ),
    "recovery_seconds": (
        "how often each model server looks, on its own thread, for unfinished work whose server"
        " died (detections and follow-ups)"
    ),
    "ready_max_wait_seconds": "`/readyz` answers 503 once a queued job has waited longer than this",
    "results_max_age_days": "days the cleanup job keeps a job's results",
    "uploads_max_age_days": "days the cleanup job keeps uploads and drafts",
    "repeat_iou": (
        "repeated false alarms at a location: boxes of one category overlapping at this IoU are"
        " one place"
    ),
    "repeat_min_files": (
        "a place with at least this many files and more than one event is a suspected repeat"
    ),
    "repeat_min_share": (
        "a place in more than this share of a location's files is a suspected repeat"
    ),
    "repeat_max_box_area": "boxes larger than this share of the frame are never grouped as repeats",
}
