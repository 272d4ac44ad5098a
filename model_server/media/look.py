"""How a photo looks overall, measured once while it is loaded: its colourfulness (an infrared
night frame is grey, R = G = B) and its brightness (a covered lens is near black). The camera
clock and view checks read these from the store."""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 48  # the photo is averaged down to this many pixels a side first


def image_look(image: Image.Image) -> dict[str, float]:
    """{"chroma": mean of each pixel's max - min channel, "brightness": mean level}, both 0-1."""
    small = image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BOX, reducing_gap=3.0)
    pixels = np.asarray(small, dtype=np.int16)
    chroma = (pixels.max(axis=2) - pixels.min(axis=2)).mean() / 255
    return {"chroma": round(float(chroma), 4), "brightness": round(float(pixels.mean()) / 255, 4)}
