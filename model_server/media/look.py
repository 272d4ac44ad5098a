"""How a photo looks overall, measured once while it is loaded: its colourfulness (an infrared
night frame is grey, R = G = B), its brightness (a covered lens is near black) and its layout, a
12 x 12 grey thumbnail that says what the camera faces (`shared.ecology.view_check`). The
camera clock and view checks read these from the store."""

from __future__ import annotations

import numpy as np
from PIL import Image

from shared.ecology.view_check import LAYOUT_SIDE, layout_text

SIDE = 48  # the photo is averaged down to this many pixels a side first
BLOCK = SIDE // LAYOUT_SIDE


def image_look(image: Image.Image) -> dict[str, float | str]:
    """{"chroma": mean of each pixel's max - min channel, "brightness": mean level}, both 0-1,
    and "layout": the grey levels of 12 x 12 blocks as hex text."""
    small = image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BOX, reducing_gap=3.0)
    pixels = np.asarray(small, dtype=np.int16)
    chroma = (pixels.max(axis=2) - pixels.min(axis=2)).mean() / 255
    grey = pixels.mean(axis=2).reshape(LAYOUT_SIDE, BLOCK, LAYOUT_SIDE, BLOCK).mean(axis=(1, 3))
    return {
        "chroma": round(float(chroma), 4),
        "brightness": round(float(pixels.mean()) / 255, 4),
        "layout": layout_text(grey),
    }
