"""Textures of the synthetic scenes: photographs shipped by scikit-image, procedural patterns, and the
mip-mapped atlas the ray caster samples from (trilinear, mirrored repeat, no Python loop over pixels)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import skimage.data
from PIL import Image

TEXTURE_SIZE = 256
"""Side of every texture at mip level 0 (textures are resampled to a square; quads restore the aspect)."""
SMALLEST_MIP = 4

PHOTOGRAPHS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": skimage.data.astronaut,
    "coffee": skimage.data.coffee,
    "chelsea": skimage.data.chelsea,
    "rocket": skimage.data.rocket,
    "immunohistochemistry": skimage.data.immunohistochemistry,
    "camera": skimage.data.camera,
    "coins": skimage.data.coins,
    "motorcycle": lambda: skimage.data.stereo_motorcycle()[0],
}
"""Pictures hung on walls, pasted on boxes and billboards (detailed ones: feature matchers need texture)."""

MATERIALS: dict[str, Callable[[], np.ndarray]] = {
    "brick": skimage.data.brick,
    "grass": skimage.data.grass,
    "gravel": skimage.data.gravel,
    "moon": skimage.data.moon,
    "text": skimage.data.text,
    "page": skimage.data.page,
    "cell": skimage.data.cell,
}
"""Greyscale surface textures, tinted per surface."""


@functools.cache
def shipped_texture(name: str) -> tuple[np.ndarray, float]:
    """A scikit-image picture as uint8 RGB [S, S, 3] and its original width / height."""
    loader = PHOTOGRAPHS.get(name) or MATERIALS.get(name)
    if loader is None:
        raise KeyError(f"unknown texture {name!r}; known: {', '.join(sorted(PHOTOGRAPHS | MATERIALS))}")
    image = np.asarray(loader())
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = image[..., :3].astype(np.uint8)
    aspect = image.shape[1] / image.shape[0]
    resized = Image.fromarray(image).resize((TEXTURE_SIZE, TEXTURE_SIZE), Image.Resampling.LANCZOS)
    resized_array = np.asarray(resized)
    resized_array.setflags(write=False)
    return resized_array, aspect


def _fractal_noise(rng: np.random.Generator, lowest_frequency: float = 4.0, slope: float = 1.2) -> np.ndarray:
    """Tileable fractal noise in [0, 1], [S, S], synthesised in the Fourier domain: random phases,
    amplitude max(f, lowest_frequency)^-slope (f in cycles per texture); steeper slopes are smoother."""
    frequency_y = np.fft.fftfreq(TEXTURE_SIZE) * TEXTURE_SIZE
    frequency_x = np.fft.rfftfreq(TEXTURE_SIZE) * TEXTURE_SIZE
    frequency = np.hypot(frequency_y[:, None], frequency_x[None, :])
    amplitude = np.maximum(frequency, lowest_frequency) ** -slope
    amplitude[0, 0] = 0.0
    spectrum = amplitude * (rng.standard_normal(amplitude.shape) + 1j * rng.standard_normal(amplitude.shape))
    noise = np.fft.irfft2(spectrum, s=(TEXTURE_SIZE, TEXTURE_SIZE))
    low, high = np.percentile(noise, [1.0, 99.0])
    return np.clip((noise - low) / max(high - low, 1e-12), 0.0, 1.0)


def _palette(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two contrasting colours in [0, 1]."""
    dark = rng.uniform(0.05, 0.45, 3)
    light = np.clip(dark + rng.uniform(0.3, 0.6, 3), 0.0, 1.0)
    return dark, light


def _colorize(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dark, light = _palette(rng)
    rgb = dark + values[..., None] * (light - dark)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _stone(rng: np.random.Generator) -> np.ndarray:
    return _colorize(
        _fractal_noise(rng, lowest_frequency=rng.uniform(3.0, 8.0), slope=rng.uniform(0.9, 1.3)), rng
    )


def _tiles(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.choice([4, 8]))
    cell = TEXTURE_SIZE // count
    jitter = rng.uniform(0.0, 1.0, (count, count))
    values = (
        0.35 + 0.45 * np.kron(jitter, np.ones((cell, cell))) + 0.2 * _fractal_noise(rng, lowest_frequency=8.0)
    )
    grout = np.zeros((TEXTURE_SIZE, TEXTURE_SIZE), dtype=bool)
    width = max(2, cell // 12)
    grout[np.arange(TEXTURE_SIZE) % cell < width, :] = True
    grout[:, np.arange(TEXTURE_SIZE) % cell < width] = True
    values[grout] = 0.05
    return _colorize(np.clip(values, 0.0, 1.0), rng)


def _planks(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.choice([4, 6, 8]))
    width = TEXTURE_SIZE // count
    rows = np.arange(TEXTURE_SIZE)
    plank = np.minimum(rows // width, count - 1)
    shade = rng.uniform(0.3, 0.8, count)[plank][:, None]
    grain = _fractal_noise(rng, lowest_frequency=6.0, slope=1.0)
    offsets = rng.integers(0, TEXTURE_SIZE, count)[plank][:, None]
    columns = (np.arange(TEXTURE_SIZE)[None, :] + offsets) % TEXTURE_SIZE
    seams = (columns % (TEXTURE_SIZE // 2) < 2) | (rows[:, None] % width < 2)
    values = np.clip(shade + 0.35 * (grain - 0.5), 0.0, 1.0)
    values[seams] = 0.05
    return _colorize(values, rng)


def _dots(rng: np.random.Generator) -> np.ndarray:
    values = 0.55 + 0.25 * _fractal_noise(rng, lowest_frequency=6.0)
    colours = np.repeat(values[..., None], 3, axis=2) * _palette(rng)[1]
    for _ in range(int(rng.integers(25, 60))):
        centre = rng.uniform(0, TEXTURE_SIZE, 2)
        radius = rng.uniform(4, 20)
        span = np.arange(-int(radius), int(radius) + 1)
        disk = span[:, None] ** 2 + span[None, :] ** 2 < radius**2
        rows = (int(centre[0]) + span) % TEXTURE_SIZE  # wraps around: the texture stays tileable
        columns = (int(centre[1]) + span) % TEXTURE_SIZE
        window = colours[np.ix_(rows, columns)]
        window[disk] = rng.uniform(0.0, 1.0, 3)
        colours[np.ix_(rows, columns)] = window
    return np.clip(colours * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _checker(rng: np.random.Generator) -> np.ndarray:
    count = int(rng.choice([4, 8, 16]))
    rows, columns = np.mgrid[:TEXTURE_SIZE, :TEXTURE_SIZE] * count // TEXTURE_SIZE
    values = 0.25 + 0.5 * ((rows + columns) % 2) + 0.25 * _fractal_noise(rng, lowest_frequency=16.0)
    return _colorize(np.clip(values, 0.0, 1.0), rng)


PROCEDURAL: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "stone": _stone,
    "tiles": _tiles,
    "planks": _planks,
    "dots": _dots,
    "checker": _checker,
}
"""Seeded pattern generators, each returning a tileable uint8 RGB [S, S, 3]."""


def procedural_texture(name: str, rng: np.random.Generator) -> np.ndarray:
    return PROCEDURAL[name](rng)


def cloud_texture(rng: np.random.Generator) -> np.ndarray:
    """Soft, faint white clouds (RGB = alpha) for the sky dome, tileable. Kept smooth on purpose:
    sharp clouds are many features at infinity, which make feature-based SfM take a translating
    camera for a rotating one (real skies are mostly smooth too)."""
    noise = _fractal_noise(rng, lowest_frequency=2.0, slope=2.2)
    alpha = 0.5 * np.clip((noise - 0.5) / 0.5, 0.0, 1.0)
    return np.repeat((alpha * 255.0 + 0.5).astype(np.uint8)[..., None], 3, axis=2)


def flat_texture() -> np.ndarray:
    """Plain white: the surface colour is then the quad's tint alone."""
    return np.full((TEXTURE_SIZE, TEXTURE_SIZE, 3), 255, dtype=np.uint8)


def _mirrored(coordinate: np.ndarray) -> np.ndarray:
    """Mirrored repeat of a texture coordinate (1 = one texture width) into [0, 1], for textures that
    do not tile: no seams. Bilinear taps are then clamped to the border, which is what the mirror shows."""
    return 1.0 - np.abs(coordinate - 2.0 * np.floor(0.5 * coordinate) - 1.0)


def _taps(coordinate: np.ndarray, side: np.ndarray, tileable: np.ndarray) -> tuple[np.ndarray, ...]:
    """The two texel indices along one axis and the weight of the second, for periodic repeat
    (tileable textures) or mirrored repeat (the others)."""
    periodic = coordinate - np.floor(coordinate)
    position = np.where(tileable, periodic, _mirrored(coordinate)) * side - 0.5
    first = np.floor(position)
    weight = (position - first).astype(np.float32)[:, None]
    first = first.astype(np.int64)
    second = first + 1
    last = side - 1
    first = np.where(tileable, np.where(first < 0, last, first), np.maximum(first, 0))
    second = np.where(tileable, np.where(second > last, 0, second), np.minimum(second, last))
    return first, second, weight


@dataclass(frozen=True)
class TextureAtlas:
    """All textures of a scene with their mip levels, in one flat float32 texel buffer.

    Level l of texture k is a square of side S >> l starting at texel offsets[k, l]; `tileable[k]`
    selects periodic repeat, else mirrored repeat."""

    texels: np.ndarray
    offsets: np.ndarray
    tileable: np.ndarray
    size: int
    num_levels: int

    @classmethod
    def build(cls, images: Sequence[np.ndarray], tileable: Sequence[bool]) -> TextureAtlas:
        num_levels = int(np.log2(TEXTURE_SIZE // SMALLEST_MIP)) + 1
        chunks, offsets, position = [], np.zeros((len(images), num_levels), dtype=np.int64), 0
        for index, image in enumerate(images):
            if image.shape != (TEXTURE_SIZE, TEXTURE_SIZE, 3):
                raise ValueError(f"texture {index} has shape {image.shape}, expected {TEXTURE_SIZE}^2 x 3")
            level = image.astype(np.float32) / 255.0
            for level_index in range(num_levels):
                offsets[index, level_index] = position
                chunks.append(level.reshape(-1, 3))
                position += level.shape[0] * level.shape[1]
                half = level.shape[0] // 2
                level = level.reshape(half, 2, half, 2, 3).mean(axis=(1, 3))
        return cls(np.concatenate(chunks), offsets, np.array(tileable, dtype=bool), TEXTURE_SIZE, num_levels)

    def sample(self, texture: np.ndarray, s: np.ndarray, t: np.ndarray, footprint: np.ndarray) -> np.ndarray:
        """Trilinear samples [N, 3] in [0, 1] of textures `texture` [N] at repeat coordinates (s, t)
        (one unit = one texture width; s right, t down) for a pixel `footprint` in level-0 texels."""
        level = np.clip(np.log2(np.maximum(footprint, 1e-6)), 0.0, self.num_levels - 1)
        lower = np.floor(level).astype(np.int64)
        upper = np.minimum(lower + 1, self.num_levels - 1)
        weight = (level - lower).astype(np.float32)[:, None]
        fine = self._bilinear(texture, lower, s, t)
        coarse = self._bilinear(texture, upper, s, t)
        return fine + (coarse - fine) * weight

    def _bilinear(self, texture: np.ndarray, level: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        side = self.size >> level
        tileable = self.tileable[texture]
        left, right, fx = _taps(s, side, tileable)
        top_row, bottom_row, fy = _taps(t, side, tileable)
        base = self.offsets[texture, level]
        top_row, bottom_row = base + top_row * side, base + bottom_row * side

        def texel(index: np.ndarray) -> np.ndarray:
            return np.take(self.texels, index, axis=0)

        top = texel(top_row + left) * (1 - fx) + texel(top_row + right) * fx
        bottom = texel(bottom_row + left) * (1 - fx) + texel(bottom_row + right) * fx
        return top * (1 - fy) + bottom * fy
