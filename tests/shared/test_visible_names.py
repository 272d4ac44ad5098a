"""File names are shown as they are, not as they pretend to be (issue 33, item 17): a right-to-
left override turned `\\u202egpj.11exe.jpg` into `gpj.11exe.jpg`-looking text in the gallery, and a
control character went into every output verbatim. Both are written out as [U+XXXX] in the
name every page and output uses; the file is still read by its own name, from a zip and from a
folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

from shared.inputs import collect_inputs, visible_name
from tests.images import jpeg_bytes, red_patch_image

TRICKS = {
    "cam1/\u202egpj.11exe.jpg": "cam1/[U+202E]gpj.11exe.jpg",
    "cam1/bell\x07.jpg": "cam1/bell[U+0007].jpg",
}


def test_tricky_names_are_shown_for_what_they_are(tmp_path: Path) -> None:
    photo = jpeg_bytes(red_patch_image((40, 30), (1, 1, 9, 9)))
    card = tmp_path / "card.zip"
    with zipfile.ZipFile(card, "w") as z:
        for name in TRICKS:
            z.writestr(name, photo)
        z.writestr("cam1/plain.jpg", photo)
    folder = tmp_path / "folder"
    (folder / "cam1").mkdir(parents=True)
    for name in TRICKS:
        (folder / name).write_bytes(photo)
    for source in (card, folder):
        items = {i.rel_path: i for i in collect_inputs([source]).items}
        assert set(items) >= set(TRICKS.values()), sorted(items)
        for shown in TRICKS.values():
            assert items[shown].read(10**6) == photo  # read by its own name
    assert visible_name("Reconyx/IMG_0001.JPG") == "Reconyx/IMG_0001.JPG"
    assert visible_name("Câmera/Ñandú 1.jpg") == "Câmera/Ñandú 1.jpg"  # letters stay letters
