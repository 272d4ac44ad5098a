"""`trapline-models`: download a detector (or the species embedder) from its official release,
verified by SHA-256 — or, for Keras's own weight files, by the MD5 checksum Keras publishes and
checks itself.

Downloads resume from a `.part` file, are checked against a pinned checksum, and are renamed
into place only when they match, so a broken or tampered file is never used as a model.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.errors import DownloadError, ModelLoadError

log = logging.getLogger(__name__)
CHUNK = 1 << 20
KERAS_MOBILENET_V3 = "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5"


@dataclass(frozen=True)
class ModelSource:
    key: str
    filename: str
    url: str
    sha256: str | None  # None: no checksum we could verify; the user must supply one
    description: str
    md5: str | None = None  # Keras publishes (and checks) MD5 only for its applications' weights
    setting: str = "TRAPLINE_MODEL_PATH"  # what the file is for


MODELS: dict[str, ModelSource] = {
    "md_v4.1": ModelSource(
        "md_v4.1",
        "md_v4.1.0.pb",
        "https://lilablobssc.blob.core.windows.net/models/camera_traps/megadetector/"
        "md_v4.1.0/md_v4.1.0.pb",
        None,
        "MegaDetector v4.1.0, TensorFlow frozen graph (about 235 MB)",
    ),
    "md_v3": ModelSource(
        "md_v3",
        "megadetector_v3.pb",
        "https://lilablobssc.blob.core.windows.net/models/camera_traps/megadetector/"
        "megadetector_v3.pb",
        None,
        "MegaDetector v3, TensorFlow frozen graph (animal and person only)",
    ),
    "yolox_nano": ModelSource(
        "yolox_nano",
        "yolox_nano_float16_quantize.tflite",
        "https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/"
        "0f785c070ce8da070aeaeef46c0da7904ff7012e/model/yolox_nano_float16_quantize.tflite",
        "6518faf758f5827fb8412c38d2240b7722027c299596518e1f94e678af1e6e29",
        "YOLOX-Nano (COCO, Apache-2.0), TFLite: a small stand-in, much weaker than MegaDetector",
    ),
    "yolox_nano_onnx": ModelSource(
        "yolox_nano_onnx",
        "yolox_nano.onnx",
        "https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/"
        "0f785c070ce8da070aeaeef46c0da7904ff7012e/model/yolox_nano.onnx",
        "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
        "the same YOLOX-Nano as ONNX, run by onnxruntime: 1.06-1.11x faster than the TFLite file",
    ),
    "mobilenet_v3_imagenet": ModelSource(
        "mobilenet_v3_imagenet",
        KERAS_MOBILENET_V3,
        "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
        + KERAS_MOBILENET_V3,
        None,
        "Keras MobileNetV3-Large ImageNet weights without the classifier (Apache-2.0): a "
        "species embedder, an alternative to YOLOX-Nano's features",
        md5="07fb09a5933dd0c8eaafa16978110389",
        setting="TRAPLINE_SPECIES_EMBEDDER",
    ),
}


def sha256_of(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_into(part: Path, url: str, timeout: float) -> None:
    """Appends to `part` from where it stopped (HTTP Range); restarts if the server can't resume."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # asked past the end: the part file is already complete
            return
        raise
    with response:
        mode = "ab" if have and response.status == 206 else "wb"
        announced = int(response.headers.get("Content-Length") or -1)
        received = 0
        with part.open(mode) as fh:
            while chunk := response.read(CHUNK):
                fh.write(chunk)
                received += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    if 0 <= received < announced:
        raise ConnectionError(f"connection closed after {received:,} of {announced:,} bytes")


def _expected(source: ModelSource, sha256: str | None) -> tuple[str, str]:
    """The checksum a file of `source` must have, and its algorithm."""
    expected = (sha256 or source.sha256 or "").lower()
    if not expected and source.md5:
        return source.md5.lower(), "md5"
    if not expected:
        raise DownloadError(
            f"No checksum is pinned for {source.key} in this Trapline release, so it will not "
            f"be installed unverified. Pass --sha256 with the value published for "
            f"{source.filename}, or download {source.url} yourself and set TRAPLINE_MODEL_PATH."
        )
    return expected, "sha256"


def _present(dest: Path, expected: str, algorithm: str, report: Callable[[str], None]) -> bool:
    """Whether `dest` is already there and verified; a file that does not match is refused."""
    if not dest.exists():
        return False
    if sha256_of(dest, algorithm) == expected:
        report(f"{dest} is already present and verified.")
        return True
    raise DownloadError(
        f"{dest} exists but does not match the expected checksum; "
        "move it away and run the command again."
    )


def _into_place(
    source: ModelSource, part: Path, dest: Path, checksum: tuple[str, str], origin: str
) -> None:
    """Renames `part` to `dest` when it has the expected checksum; deletes it otherwise."""
    expected, algorithm = checksum
    actual = sha256_of(part, algorithm)
    if actual != expected:
        part.unlink()
        raise DownloadError(
            f"{source.filename} from {origin} has checksum {actual}, expected {expected}; "
            "it was not installed. Try again, or check where the file came from."
        )
    os.replace(part, dest)


def download(
    source: ModelSource,
    dest_dir: Path,
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    attempts: int = 3,
    report: Callable[[str], None] = log.info,
) -> Path:
    """Downloads `source` into `dest_dir` and returns the verified file's path."""
    checksum = _expected(source, sha256)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.filename
    if _present(dest, *checksum, report):
        return dest
    part = dest.with_name(dest.name + ".part")
    last_error: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            _fetch_into(part, source.url, timeout)
            break
        except (OSError, urllib.error.URLError) as exc:
            last_error = exc
            report(f"download of {source.key} interrupted ({exc}); attempt {attempt}/{attempts}")
    else:
        raise DownloadError(
            f"could not download {source.url}: {last_error}. The partial file "
            f"{part} is kept; run the command again to resume, or pass --file with a copy "
            "you already have."
        )
    _into_place(source, part, dest, checksum, "the download")
    report(f"{source.key} saved to {dest} ({checksum[1]} verified).")
    return dest


def install_file(
    source: ModelSource,
    file: Path,
    dest_dir: Path,
    *,
    sha256: str | None = None,
    report: Callable[[str], None] = log.info,
) -> Path:
    """Installs a copy of `source` that the sysadmin already has (for a machine that cannot
    reach the official release), checked against the same checksum as a download."""
    checksum = _expected(source, sha256)
    if not file.is_file():
        raise DownloadError(f"{file} does not exist")
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.filename
    if _present(dest, *checksum, report):
        return dest
    part = dest.with_name(dest.name + ".copy")
    shutil.copyfile(file, part)
    _into_place(source, part, dest, checksum, str(file))
    report(f"{source.key} installed from {file} to {dest} ({checksum[1]} verified).")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trapline-models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="models that can be downloaded")
    get = sub.add_parser("download", help="download and verify one model")
    get.add_argument("name", choices=sorted(MODELS))
    get.add_argument("--dir", type=Path, default=Path("models"), help="where to save it")
    get.add_argument("--sha256", help="expected checksum (required where none is pinned)")
    get.add_argument(
        "--file",
        type=Path,
        help="install this copy you already have instead of downloading (a machine that cannot "
        "reach the official release); its checksum is checked as a download's is",
    )
    put = sub.add_parser(
        "install",
        help="install a model built from a package on the "
        "package index (verified, converted for TensorFlow)",
    )
    put.add_argument("name", choices=["megadetector-lite"])
    put.add_argument("--dir", type=Path, default=Path("models"), help="where to put it")
    put.add_argument(
        "--wheel",
        type=Path,
        help="use this already downloaded zamba wheel (its checksum is checked as a download's is)",
    )
    convert = sub.add_parser(
        "convert",
        help="convert a MegaDetector v3/v4 frozen graph (.pb) once to ONNX, run by onnxruntime "
        "without TensorFlow (faster start-up; per photo as fast as your CPU allows, printed); "
        "kept beside the graph only if it finds the same boxes on your photos",
    )
    convert.add_argument("graph", type=Path, help="the installed .pb file")
    convert.add_argument(
        "--check",
        type=Path,
        required=True,
        help="a folder of your own camera-trap photos (some with animals, people or vehicles) "
        "that both models run on",
    )
    convert.add_argument(
        "--limit", type=int, default=50, help="photos of the folder to check, at most"
    )
    args = parser.parse_args(argv)
    if args.command == "convert":
        return _convert(args.graph, args.check, args.limit)
    if args.command == "list":
        for source in MODELS.values():
            pinned = (
                "sha256 pinned"
                if source.sha256
                else "Keras's md5 pinned"
                if source.md5
                else "no pinned sha256: needs --sha256"
            )
            print(f"{source.key:12} {source.filename:38} {source.description} [{pinned}]")
        print(
            "megadetector-lite (trapline-models install): zamba's MegadetectorLite, YOLOX-tiny "
            "640 animal detector distilled from MegaDetector (MIT), built from the zamba wheel "
            "[sha256 pinned]"
        )
        return 0
    try:
        if args.command == "install":
            from model_server.detectors.megadetector_lite import install

            path = install(args.dir, wheel=args.wheel, report=print)
        else:
            if args.file:
                path = install_file(
                    MODELS[args.name], args.file, args.dir, sha256=args.sha256, report=print
                )
            else:
                path = download(MODELS[args.name], args.dir, sha256=args.sha256, report=print)
    except (DownloadError, ModelLoadError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    setting = MODELS[args.name].setting if args.command == "download" else "TRAPLINE_MODEL_PATH"
    hint = " (or pass --model {path})" if setting == "TRAPLINE_MODEL_PATH" else ""
    print(f"Set {setting}={path.resolve()}{hint.format(path=path)}.")
    return 0


def _convert(graph: Path, folder: Path, limit: int) -> int:
    from model_server.detectors.graph_conversion import check_photos, convert

    if not graph.is_file() or graph.suffix.lower() != ".pb":
        print(f"Error: {graph} is not a frozen graph (.pb) file", file=sys.stderr)
        return 1
    if not folder.is_dir():
        print(f"Error: {folder} is not a folder of photos", file=sys.stderr)
        return 1
    try:
        twin = convert(graph, check_photos(folder, limit), report=print)
    except ModelLoadError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(
        f"The model server runs {twin.name} in place of {graph.name} from its next start "
        f"(TRAPLINE_MODEL_PATH stays {graph.resolve()}); delete both {twin.name} files to go back."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
