"""Draw the pictures of the demo data's creations.

The ``seed_demo`` management command needs a few dozen photos of LEGO creations. Shipping binary
assets or downloading stock photos would bloat the repository or need the network, so instead we
draw small scenes of bricks, plates, tiles and slopes in a 3/4 view with Pillow alone. Everything
is driven by one ``random.Random(seed)``, so a seed always yields the same JPEG bytes.
"""

from __future__ import annotations

import heapq
import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Vec = tuple[float, float, float]
Point = tuple[float, float]
Rect = tuple[int, int, int, int]  # x, y, width, depth in studs
Lift = Callable[[float, float, float], Vec]

# Pillow draws polygons without anti-aliasing, so we draw at twice the size and shrink.
SUPERSAMPLE = 2
# Lengths are in stud pitches (8 mm): a plate is 3.2 mm high, a stud 4.8 mm wide and 1.7 mm high.
PLATE = 0.4
STUD_RADIUS = 0.3
STUD_HEIGHT = 0.21
# A tiny inset keeps a visible seam between neighbouring elements, as on a real model.
GAP = 0.02
EPSILON = 1e-6


def _normalise(v: Vec) -> Vec:
    length = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    return (v[0] / length, v[1] / length, v[2] / length)


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


# Light from above and slightly left, so tops are brightest, the left faces mid and the right
# faces dark, and shadows fall to the right where the camera can see them.
LIGHT = _normalise((-0.1, 0.5, 0.86))
SHADOW_SHIFT = (-LIGHT[0] / LIGHT[2], -LIGHT[1] / LIGHT[2])

COLOURS: dict[str, RGB] = {
    "red": (0xC9, 0x1A, 0x09),
    "blue": (0x00, 0x55, 0xBF),
    "yellow": (0xF2, 0xCD, 0x37),
    "green": (0x23, 0x78, 0x41),
    "white": (0xFF, 0xFF, 0xFF),
    "black": (0x05, 0x13, 0x1D),
    "light_bluish_grey": (0xA0, 0xA5, 0xA9),
    "dark_bluish_grey": (0x6C, 0x6E, 0x68),
    "tan": (0xE4, 0xCD, 0x9E),
    "orange": (0xFE, 0x8A, 0x18),
    "lime": (0xBB, 0xE9, 0x0B),
    "dark_red": (0x72, 0x0E, 0x0F),
    "medium_azure": (0x36, 0xAE, 0xBF),
    "reddish_brown": (0x58, 0x2A, 0x12),
}
TRANS_CLEAR: RGB = (190, 225, 245)
TRANS_ALPHA = 140
BRIGHT = ["red", "blue", "yellow", "green", "orange", "lime", "medium_azure", "white"]
ALL_SOLID = list(COLOURS)
WALL_COLOURS = [*BRIGHT, "tan", "dark_red", "light_bluish_grey", "dark_bluish_grey", "black"]
BASEPLATE_COLOURS = ["green", "light_bluish_grey", "tan", "dark_bluish_grey", "blue"]


def colour(name: str) -> RGB:
    return COLOURS[name]


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _scale(c: RGB, factor: float) -> RGB:
    return (
        min(255, round(c[0] * factor)),
        min(255, round(c[1] * factor)),
        min(255, round(c[2] * factor)),
    )


def _luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def shade(base: RGB, normal: Vec) -> RGB:
    lambert = max(0.0, _dot(normal, LIGHT))
    factor = 0.6 + 0.47 * lambert
    # Pure scaling leaves black elements as flat black blobs; a faint sheen keeps faces apart.
    return _mix(_scale(base, factor), (235, 240, 245), 0.03 + 0.08 * lambert**3)


def edge_colour(face_colour: RGB) -> RGB:
    if _luma(face_colour) < 60:
        return _mix(face_colour, (255, 255, 255), 0.22)
    return _mix(face_colour, (0, 0, 0), 0.35)


# --------------------------------------------------------------------------------------------
# Geometry: every element is a convex polyhedron, so back-face culling alone draws it correctly.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Face:
    points: tuple[Vec, ...]
    normal: Vec
    outlined: bool = True


@dataclass
class Piece:
    base: RGB
    faces: list[Face]
    low: Vec
    high: Vec
    studs: list[Vec] = field(default_factory=list)
    alpha: int = 255


def _centroid(points: Sequence[Vec]) -> Vec:
    n = len(points)
    return (
        sum(p[0] for p in points) / n,
        sum(p[1] for p in points) / n,
        sum(p[2] for p in points) / n,
    )


def _newell_normal(points: Sequence[Vec]) -> Vec:
    nx = ny = nz = 0.0
    for i, (x1, y1, z1) in enumerate(points):
        x2, y2, z2 = points[(i + 1) % len(points)]
        nx += (y1 - y2) * (z1 + z2)
        ny += (z1 - z2) * (x1 + x2)
        nz += (x1 - x2) * (y1 + y2)
    return (nx, ny, nz)


def make_piece(
    base: RGB,
    polygons: list[tuple[list[Vec], bool]],
    studs: list[Vec] | None = None,
    alpha: int = 255,
) -> Piece:
    """Turn outline polygons into faces whose normals point away from the body's centre."""
    vertices = [p for polygon, _ in polygons for p in polygon]
    cx, cy, cz = _centroid(vertices)
    faces = []
    for polygon, outlined in polygons:
        normal = _newell_normal(polygon)
        if _dot(normal, normal) < EPSILON:
            continue  # degenerate face, e.g. the flat top of a slope without one
        mx, my, mz = _centroid(polygon)
        if _dot(normal, (mx - cx, my - cy, mz - cz)) < 0:
            normal = (-normal[0], -normal[1], -normal[2])
        faces.append(Face(tuple(polygon), _normalise(normal), outlined))
    xs, ys, zs = zip(*vertices, strict=True)
    low, high = (min(xs), min(ys), min(zs)), (max(xs), max(ys), max(zs))
    return Piece(base, faces, low, high, studs or [], alpha)


def extrude(
    profile: Sequence[Point], lift: Lift, start: float, end: float, smooth: bool = False
) -> list[tuple[list[Vec], bool]]:
    """Sweep a convex 2D profile along a third axis; ``lift`` maps (a, b, t) into the world."""
    near = [lift(a, b, start) for a, b in profile]
    far = [lift(a, b, end) for a, b in profile]
    polygons: list[tuple[list[Vec], bool]] = [(near, True), (far, True)]
    for i in range(len(profile)):
        j = (i + 1) % len(profile)
        polygons.append(([near[i], near[j], far[j], far[i]], not smooth))
    return polygons


def _circle(cx: float, cy: float, radius: float, segments: int = 24) -> list[Point]:
    angles = [2 * math.pi * k / segments for k in range(segments)]
    return [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in angles]


def _stud_grid(x: float, y: float, w: int, d: int, z: float) -> list[Vec]:
    return [(x + i + 0.5, y + j + 0.5, z) for i in range(w) for j in range(d)]


def _upright(a: float, b: float, t: float) -> Vec:
    return (a, b, t)


def box(
    base: RGB,
    x: float,
    y: float,
    z: float,
    w: int,
    d: int,
    h: float,
    studs: bool = True,
    alpha: int = 255,
) -> Piece:
    x0, y0, x1, y1 = x + GAP, y + GAP, x + w - GAP, y + d - GAP
    polygons = extrude([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], _upright, z, z + h)
    return make_piece(base, polygons, _stud_grid(x, y, w, d, z + h) if studs else None, alpha)


def cylinder(
    base: RGB,
    x: float,
    y: float,
    z: float,
    size: int,
    h: float,
    studs: bool = True,
    alpha: int = 255,
) -> Piece:
    profile = _circle(x + size / 2, y + size / 2, size / 2 - GAP)
    polygons = extrude(profile, _upright, z, z + h, smooth=True)
    return make_piece(base, polygons, _stud_grid(x, y, size, size, z + h) if studs else None, alpha)


def wheel(base: RGB, cx: float, y0: float, y1: float, cz: float, radius: float) -> Piece:
    profile = _circle(cx, cz, radius, 28)
    return make_piece(base, extrude(profile, lambda a, b, t: (a, t, b), y0, y1, smooth=True))


FACINGS: dict[str, tuple[int, int]] = {"+x": (1, 0), "-x": (-1, 0), "+y": (0, 1), "-y": (0, -1)}


def slope(
    base: RGB,
    x: float,
    y: float,
    z: float,
    w: int,
    d: int,
    h: float,
    facing: str,
    flat: int = 0,
    lip: float = 0.0,
    alpha: int = 255,
) -> Piece:
    """A slope whose low edge points along ``facing``; ``flat`` rows at the back carry studs."""
    along_x = facing in ("+x", "-x")
    length, width = (w, d) if along_x else (d, w)
    forward = facing[0] == "+"

    def lift(u: float, v: float, t: float) -> Vec:
        u = u if forward else length - u
        return (x + u, y + t, z + v) if along_x else (x + t, y + u, z + v)

    profile = [(GAP, 0.0), (length - GAP, 0.0), (length - GAP, lip), (float(flat), h), (GAP, h)]
    if flat == 0:
        profile[3:] = [(GAP, h)]
    polygons = extrude(profile, lift, GAP, width - GAP)
    studs = [lift(u + 0.5, h, t + 0.5) for u in range(flat) for t in range(width)]
    return make_piece(base, polygons, studs, alpha)


# --------------------------------------------------------------------------------------------
# Element catalogue and a height map, so elements rest on studs instead of floating or clashing.
# --------------------------------------------------------------------------------------------

# kind -> (height in plates, does its top have studs?)
KINDS: dict[str, tuple[int, bool]] = {
    "brick": (3, True),
    "plate": (1, True),
    "tile": (1, False),
    "round_brick": (3, True),
    "round_plate": (1, True),
    "round_tile": (1, False),
    "cheese": (2, False),
    "slope": (3, True),
}
FOOTPRINTS = [(1, 1), (1, 2), (1, 3), (1, 4), (1, 6), (2, 2), (2, 3), (2, 4), (2, 6)]


def build_piece(
    kind: str, base: RGB, x: int, y: int, level: int, w: int, d: int, facing: str = "+x"
) -> Piece:
    plates, studded = KINDS[kind]
    z, h = level * PLATE, plates * PLATE
    alpha = TRANS_ALPHA if base == TRANS_CLEAR else 255
    if kind.startswith("round"):
        return cylinder(base, x, y, z, w, h, studded, alpha)
    if kind == "cheese":
        return slope(base, x, y, z, w, d, h, facing, alpha=alpha)
    if kind == "slope":
        return slope(base, x, y, z, w, d, h, facing, flat=1, lip=PLATE / 2, alpha=alpha)
    return box(base, x, y, z, w, d, h, studded, alpha)


class Build:
    """Collects pieces while tracking the top of the model in every stud cell."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.top: dict[tuple[int, int], int] = {}
        self.studded: dict[tuple[int, int], bool] = {}

    def cells(self, x: int, y: int, w: int, d: int) -> list[tuple[int, int]]:
        return [(x + i, y + j) for i in range(w) for j in range(d)]

    def rest_level(self, x: int, y: int, w: int, d: int) -> int | None:
        """Level an element would sit at, or None if it would sit on a smooth top."""
        cells = self.cells(x, y, w, d)
        level = max(self.top.get(c, 0) for c in cells)
        if level and not any(self.top.get(c) == level and self.studded[c] for c in cells):
            return None
        return level

    def add(
        self,
        kind: str,
        base: RGB,
        x: int,
        y: int,
        w: int,
        d: int,
        facing: str = "+x",
        max_level: int | None = None,
        level: int | None = None,
    ) -> bool:
        """Add an element where it rests, or at ``level`` if it is held there by its neighbours."""
        rest = self.rest_level(x, y, w, d)
        if rest is None or (max_level is not None and rest > max_level):
            return False
        if level is None:
            level = rest
        elif level < rest:
            return False
        self.pieces.append(build_piece(kind, base, x, y, level, w, d, facing))
        plates, studded = KINDS[kind]
        for cell in self.cells(x, y, w, d):
            self.top[cell] = level + plates
            # Only a slope's back row has studs; treating it as smooth keeps stacks simple.
            self.studded[cell] = studded and kind != "slope"
        return True


def split_length(rng: random.Random, n: int, sizes: Sequence[int] = (6, 4, 3, 2)) -> list[int]:
    parts = []
    while n > 0:
        options = [s for s in sizes if s <= n] or [1]
        part = rng.choice(options)
        parts.append(part)
        n -= part
    return parts


def cover_rect(rng: random.Random, x: int, y: int, w: int, d: int) -> list[Rect]:
    """Split a rectangle into footprints that real elements have (at most 2 by 6)."""
    rects: list[Rect] = []
    rows_along_x = w >= d
    long, short = (w, d) if rows_along_x else (d, w)
    for offset in range(0, short, 2):
        depth = min(2, short - offset)
        pos = 0
        for part in split_length(rng, long):
            if rows_along_x:
                rects.append((x + pos, y + offset, part, depth))
            else:
                rects.append((x + offset, y + pos, depth, part))
            pos += part
    return rects


# Weighted like a real parts bin: mostly bricks and plates, some of everything else.
BIN = ["brick"] * 3 + ["plate"] * 2 + ["cheese"] * 2 + ["tile", "slope"]
BIN += ["round_brick", "round_plate", "round_tile"]


def random_element(rng: random.Random) -> tuple[str, int, int]:
    kind = rng.choice(BIN)
    if kind.startswith("round") or kind == "cheese":
        return kind, 1, 1
    if kind == "slope":
        return kind, rng.choice([(2, 1), (2, 2), (2, 3)])[0], rng.choice([1, 2, 3])
    if kind == "tile":
        w, d = rng.choice([(1, 1), (1, 2), (1, 4), (2, 2)])
    else:
        w, d = rng.choice(FOOTPRINTS)
    return (kind, w, d) if rng.random() < 0.5 else (kind, d, w)


def _slope_facing(rng: random.Random, w: int, d: int) -> str:
    # A 45 degree slope is two studs deep along its facing, so pick an axis where it fits.
    if w == 2 and d != 2:
        return rng.choice(["+x", "-x"])
    if d == 2 and w != 2:
        return rng.choice(["+y", "-y"])
    return rng.choice(list(FACINGS))


def scatter(
    build: Build,
    rng: random.Random,
    count: int,
    centre: Point,
    spread: float,
    palette: Sequence[str],
    stack: bool = True,
    keep_out: Rect | None = None,
) -> None:
    placed = attempts = 0
    while placed < count and attempts < count * 12:
        attempts += 1
        kind, w, d = random_element(rng)
        x = round(rng.gauss(centre[0], spread) - w / 2)
        y = round(rng.gauss(centre[1], spread) - d / 2)
        if keep_out and _overlaps((x, y, w, d), keep_out):
            continue
        facing = _slope_facing(rng, w, d) if kind == "slope" else rng.choice(list(FACINGS))
        base = colour(rng.choice(palette))
        if build.add(kind, base, x, y, w, d, facing, max_level=None if stack else 0):
            placed += 1


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


# --------------------------------------------------------------------------------------------
# Compositions: each returns the pieces of one kind of scene.
# --------------------------------------------------------------------------------------------


def compose_tower(rng: random.Random) -> list[Piece]:
    build = Build()
    palette = rng.sample(BRIGHT, 3)
    base_w, base_d = rng.choice([(4, 4), (4, 6), (6, 4), (6, 6)])
    for x, y, w, d in cover_rect(rng, -base_w // 2, -base_d // 2, base_w, base_d):
        build.add("plate", colour(palette[0]), x, y, w, d)
    for layer in range(rng.randint(5, 9)):
        kind = rng.choice(["brick", "brick", "brick", "plate", "round_brick"])
        w, d = (2, 2) if kind == "round_brick" else rng.choice([(2, 4), (2, 4), (2, 2), (2, 6)])
        # Alternate the direction of long elements, as a builder would to lock the layers.
        w, d = (w, d) if layer % 2 else (d, w)
        shift = rng.choice([0, 0, 0, -1]) if max(w, d) > 2 else 0
        x, y = -w // 2 + (shift if w > d else 0), -d // 2 + (shift if d > w else 0)
        build.add(kind, colour(palette[1 + layer % 2]), x, y, w, d)
    _cap_with_slopes(build, rng, colour(rng.choice(palette)))
    footprint = (-base_w // 2 - 1, -base_d // 2 - 1, base_w + 2, base_d + 2)
    scatter(build, rng, rng.randint(4, 7), (0, 0), 2.8, [*palette, "white"], keep_out=footprint)
    return build.pieces


def _cap_with_slopes(build: Build, rng: random.Random, base: RGB) -> None:
    """Finish the highest studded cells with cheese slopes pointing away from the middle."""
    top = max(level for cell, level in build.top.items() if build.studded[cell])
    cells = sorted(c for c, level in build.top.items() if level == top and build.studded[c])
    cx = sum(c[0] for c in cells) / len(cells)
    cy = sum(c[1] for c in cells) / len(cells)
    kind = rng.choice(["cheese", "round_plate", "tile"])
    for x, y in cells:
        dx, dy = x + 0.5 - cx, y + 0.5 - cy
        facing = ("+x" if dx > 0 else "-x") if abs(dx) >= abs(dy) else ("+y" if dy > 0 else "-y")
        build.add(kind, base, x, y, 1, 1, facing)


def compose_wall(rng: random.Random) -> list[Piece]:
    build = Build()
    length, courses, thickness = rng.randint(8, 14), rng.randint(3, 6), rng.choice([1, 1, 2])
    scheme = rng.choice(["single", "stripes", "mixed"])
    palette = rng.sample(WALL_COLOURS, 3)
    window = (rng.randint(1, length - 4), rng.randint(1, max(1, courses - 3)))
    for course in range(courses):
        x = 0
        parts = split_length(rng, length - (course % 2), (4, 3, 2, 6))
        if course % 2:
            parts.append(1)
        for part in parts:
            glass = courses >= 4 and window[1] <= course < window[1] + 2
            glass = glass and window[0] <= x < window[0] + 3
            name = {"single": palette[0], "stripes": palette[course % 2]}.get(
                scheme, rng.choice(palette)
            )
            if scheme == "single" and rng.random() < 0.12:
                name = palette[1]
            base = TRANS_CLEAR if glass else colour(name)
            build.add("brick", base, x, 0, part, thickness)
            x += part
    cap = rng.choice(["tile", "cheese", "plate"])
    cap_colour = colour(palette[2])
    if cap == "cheese":
        for x in range(length):
            for y in range(thickness):
                build.add("cheese", cap_colour, x, y, 1, 1, "+y" if y else "-y")
    else:
        for x, y, w, d in cover_rect(rng, 0, 0, length, thickness):
            build.add(cap, cap_colour, x, y, w, d)
    footprint = (-1, -1, length + 2, thickness + 2)
    scatter(build, rng, rng.randint(3, 6), (length / 2, 4), 2.0, palette, False, footprint)
    return build.pieces


def compose_pile(rng: random.Random) -> list[Piece]:
    build = Build()
    palette = rng.sample(ALL_SOLID, rng.randint(4, 8))
    scatter(build, rng, rng.randint(22, 34), (0, 0), 2.6, palette)
    return build.pieces


def compose_vehicle(rng: random.Random) -> list[Piece]:
    build = Build()
    body, trim = (colour(name) for name in rng.sample(BRIGHT, 2))
    length = rng.choice([6, 8])
    axles = (1.5, length - 1.5)
    grey = colour(rng.choice(["light_bluish_grey", "dark_bluish_grey"]))
    pieces: list[Piece] = []
    for ax in axles:
        build.add("brick", grey, int(ax) - 1, 1, 2, 2)
    for ax in axles:
        for y0, y1 in ((-0.7, 0.0), (4.0, 4.7)):
            pieces.append(wheel(colour("black"), ax, y0 + 0.02, y1 - 0.02, 0.85, 0.85))
        hub_y = (4.7, 4.85)
        pieces.append(wheel(colour("light_bluish_grey"), ax, hub_y[0], hub_y[1], 0.85, 0.42))
    # The chassis hangs between the axle blocks, so every plate goes on top of their level.
    for x, y, w, d in cover_rect(rng, 0, 0, length, 4):
        build.add("plate", body, x, y, w, d, level=KINDS["brick"][0])
    _vehicle_body(build, rng, length, body, trim)
    return pieces + build.pieces


def _vehicle_body(build: Build, rng: random.Random, length: int, body: RGB, trim: RGB) -> None:
    front = length - 1
    for y in range(4):
        light = y in (0, 3)
        build.add("cheese", colour("yellow") if light else trim, front, y, 1, 1, "+x")
    cab = length - 4
    build.add("brick", body, 0, 0, 1, 4)
    for y in (0, 3):
        build.add("brick", body, 1, y, cab - 1, 1)
    build.add("slope", TRANS_CLEAR, cab, 0, 2, 4, facing="+x")
    for x, y, w, d in cover_rect(rng, 0, 0, cab + 1, 4):
        build.add("plate", trim, x, y, w, d)
    build.add("tile", colour("black"), cab + 2, 0, 1, 4)
    for x, y, w, d in cover_rect(rng, 1, 1, cab - 1, 2):
        build.add("tile", body, x, y, w, d)


def compose_garden(rng: random.Random) -> list[Piece]:
    build = Build()
    spots = [(0, 0), (7, 1), (2, 7), (8, 7)]
    rng.shuffle(spots)
    for x, y in spots[: rng.randint(1, 3)]:
        _tree(build, rng, x + rng.randint(0, 1), y + rng.randint(0, 1))
    flowers = ["red", "yellow", "white", "orange", "medium_azure"]
    for _ in range(rng.randint(6, 12)):
        x, y = rng.randint(-2, 10), rng.randint(-2, 10)
        if build.add("plate", colour("green"), x, y, 1, 1, max_level=0):
            build.add("round_plate", colour(rng.choice(flowers)), x, y, 1, 1)
    scatter(build, rng, rng.randint(3, 6), (4, 4), 3.5, ["lime", "green", "tan"], stack=False)
    return build.pieces


def _tree(build: Build, rng: random.Random, x: int, y: int) -> None:
    trunk = colour("reddish_brown")
    for _ in range(rng.randint(2, 3)):
        build.add("round_brick", trunk, x, y, 1, 1)
    level = build.top[(x, y)]
    leaves = colour(rng.choice(["green", "green", "lime"]))
    # Leaves are held by the trunk, so place each layer at one level rather than where it rests.
    radii = (2, 1) if rng.random() < 0.5 else (1, 1)
    for radius in radii:
        span = 2 * radius + 1
        kind = "brick" if radius == 1 else "plate"
        for rx, ry, w, d in cover_rect(rng, x - radius, y - radius, span, span):
            build.add(kind, leaves, rx, ry, w, d, level=level)
        level += KINDS[kind][0]
    fruit = colour(rng.choice(["red", "orange", "yellow"]))
    for dx, dy, facing in ((-1, 0, "-x"), (1, 0, "+x"), (0, -1, "-y"), (0, 1, "+y")):
        if rng.random() < 0.75:
            build.add("cheese", leaves, x + dx, y + dy, 1, 1, facing)
        else:
            build.add("round_plate", fruit, x + dx, y + dy, 1, 1)
    for dx, dy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
        if rng.random() < 0.5:
            build.add("round_plate", fruit, x + dx, y + dy, 1, 1)
    build.add(rng.choice(["round_brick", "round_plate", "cheese"]), leaves, x, y, 1, 1)


def compose_pyramid(rng: random.Random) -> list[Piece]:
    build = Build()
    width, depth = rng.randint(7, 10), rng.randint(6, 9)
    palette = rng.sample(BRIGHT, 4) if rng.random() < 0.6 else ["tan", "tan", "dark_bluish_grey"]
    kind = rng.choice(["brick", "plate"])
    layer = 0
    while width > 0 and depth > 0:
        base = colour(palette[layer % len(palette)])
        for x, y, w, d in cover_rect(rng, layer, layer, width, depth):
            build.add(kind, base, x, y, w, d)
        width, depth, layer = width - 2, depth - 2, layer + 1
    return build.pieces


MOSAIC_PATTERNS = ("rings", "stripes", "checks", "sun", "wave")


def compose_mosaic(rng: random.Random) -> list[Piece]:
    w, d = rng.choice([(12, 12), (14, 10), (16, 12)])
    pattern = rng.choice(MOSAIC_PATTERNS)
    palette = [colour(n) for n in rng.sample(BRIGHT, 4)]
    plate = colour(rng.choice(["light_bluish_grey", "white", "tan", "black"]))
    pieces: list[Piece] = []
    studs: list[Vec] = []
    for i in range(w):
        for j in range(d):
            tile = _mosaic_cell(pattern, palette, i, j, w, d, rng)
            if tile is None:
                studs.append((i + 0.5, j + 0.5, PLATE))
                continue
            base, round_tile = tile
            if round_tile:
                pieces.append(cylinder(base, i, j, PLATE, 1, PLATE, studs=False))
            else:
                pieces.append(box(base, i, j, PLATE, 1, 1, PLATE, studs=False))
    backing = box(plate, 0, 0, 0, w, d, PLATE, studs=False)
    backing.studs = studs
    return [backing, *pieces]


def _mosaic_cell(
    pattern: str, palette: list[RGB], i: int, j: int, w: int, d: int, rng: random.Random
) -> tuple[RGB, bool] | None:
    """Colour and roundness of the tile at (i, j), or None to leave the studs bare."""
    cx, cy = (w - 1) / 2, (d - 1) / 2
    distance = math.hypot(i - cx, j - cy)
    if pattern == "rings":
        ring = int(distance / 1.5)
        return (palette[ring % 4], ring % 2 == 1) if ring < 5 or rng.random() < 0.3 else None
    if pattern == "stripes":
        band = (i + j) // 3
        return (palette[band % 4], False) if band % 3 else None
    if pattern == "checks":
        return (palette[(i // 2 + j // 2) % 2], (i + j) % 2 == 0)
    if pattern == "sun":
        if distance < min(w, d) / 4:
            return (colour("yellow"), distance > min(w, d) / 4 - 1)
        return (palette[min(3, j * 4 // d)], False) if rng.random() < 0.85 else None
    wave = math.sin(i / w * 2 * math.pi) * d / 4 + cy
    return (palette[0 if j > wave else 1], abs(j - wave) < 1)


Composition = Callable[[random.Random], list[Piece]]
COMPOSITIONS: list[Composition] = [
    compose_tower,
    compose_pile,
    compose_vehicle,
    compose_wall,
    compose_garden,
    compose_mosaic,
    compose_pyramid,
]


# --------------------------------------------------------------------------------------------
# Camera, ordering and drawing.
# --------------------------------------------------------------------------------------------


class Camera:
    """A parallel projection turned ``yaw`` degrees about the vertical, looking down ``pitch``."""

    def __init__(self, yaw: float, pitch: float) -> None:
        self.cos_yaw, self.sin_yaw = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
        self.cos_pitch = math.cos(math.radians(pitch))
        self.sin_pitch = math.sin(math.radians(pitch))
        self.scale = 1.0
        self.origin: Point = (0.0, 0.0)

    @property
    def view(self) -> Vec:
        """Unit vector from the scene towards the camera."""
        return (self.sin_yaw * self.cos_pitch, self.cos_yaw * self.cos_pitch, self.sin_pitch)

    def project(self, p: Vec) -> Point:
        across = p[0] * self.cos_yaw - p[1] * self.sin_yaw
        depth = p[0] * self.sin_yaw + p[1] * self.cos_yaw
        down = depth * self.sin_pitch - p[2] * self.cos_pitch
        return (self.origin[0] + self.scale * across, self.origin[1] + self.scale * down)

    def ground(self, sx: float, sy: float) -> Point:
        """The point on the floor (z = 0) that lands on screen position (sx, sy)."""
        across = (sx - self.origin[0]) / self.scale
        depth = (sy - self.origin[1]) / (self.scale * self.sin_pitch)
        return (
            across * self.cos_yaw + depth * self.sin_yaw,
            -across * self.sin_yaw + depth * self.cos_yaw,
        )

    def fit(self, pieces: Sequence[Piece], width: int, height: int, fill: float) -> None:
        self.scale, self.origin = 1.0, (0.0, 0.0)
        xs, ys = [], []
        for piece in pieces:
            for corner in _corners(piece.low, piece.high):
                sx, sy = self.project(corner)
                xs.append(sx)
                ys.append(sy)
        span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
        self.scale = min(width * fill / span_x, height * fill / span_y, height / 5)
        self.origin = (
            width / 2 - self.scale * (max(xs) + min(xs)) / 2,
            height * 0.53 - self.scale * (max(ys) + min(ys)) / 2,
        )


def _corners(low: Vec, high: Vec) -> list[Vec]:
    return [
        (x, y, z) for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])
    ]


def _is_behind(a: Piece, b: Piece, view: Vec) -> bool:
    """True if an axis separates them with ``a`` on the far side, so ``a`` cannot hide ``b``."""
    for axis in range(3):
        if view[axis] > EPSILON and a.high[axis] <= b.low[axis] + EPSILON:
            return True
        if view[axis] < -EPSILON and a.low[axis] >= b.high[axis] - EPSILON:
            return True
    return False


def painter_order(pieces: list[Piece], camera: Camera) -> list[Piece]:
    """Order pieces far to near; plain depth sorting fails for boxes of different sizes."""
    view = camera.view
    bounds = []
    for piece in pieces:
        points = [camera.project(c) for c in _corners(piece.low, piece.high)]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        bounds.append((min(xs), min(ys), max(xs), max(ys)))
    after: list[list[int]] = [[] for _ in pieces]
    blockers = [0] * len(pieces)
    for i, a in enumerate(pieces):
        for j in range(i + 1, len(pieces)):
            if not _screen_overlap(bounds[i], bounds[j]):
                continue
            b = pieces[j]
            a_first, b_first = _is_behind(a, b, view), _is_behind(b, a, view)
            if a_first and not b_first:
                after[i].append(j)
                blockers[j] += 1
            elif b_first and not a_first:
                after[j].append(i)
                blockers[i] += 1
    return [pieces[i] for i in _topological(after, blockers, pieces, view)]


def _screen_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _topological(
    after: list[list[int]], blockers: list[int], pieces: list[Piece], view: Vec
) -> list[int]:
    def depth(i: int) -> float:
        return _dot(_centroid([pieces[i].low, pieces[i].high]), view)

    ready = [(depth(i), i) for i, n in enumerate(blockers) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    done = [False] * len(pieces)
    while len(order) < len(pieces):
        if not ready:  # a rare cycle of mutual overlaps: break it at the farthest piece
            rest = min((depth(i), i) for i in range(len(pieces)) if not done[i])
            blockers[rest[1]] = 0
            ready.append(rest)
        _, i = heapq.heappop(ready)
        if done[i]:
            continue
        done[i] = True
        order.append(i)
        for j in after[i]:
            blockers[j] -= 1
            if blockers[j] == 0 and not done[j]:
                heapq.heappush(ready, (depth(j), j))
    return order


class Painter:
    def __init__(self, image: Image.Image, camera: Camera) -> None:
        self.draw = ImageDraw.Draw(image, "RGBA")
        self.camera = camera
        self.line = max(1, round(camera.scale * 0.025))

    def piece(self, piece: Piece) -> None:
        view = self.camera.view
        visible = [f for f in piece.faces if _dot(f.normal, view) > EPSILON]
        if piece.alpha < 255:
            # See-through elements show their far faces too.
            for face in piece.faces:
                if _dot(face.normal, view) <= EPSILON and face.normal[2] > -0.5:
                    self.face(face, piece.base, piece.alpha // 2)
        for face in visible:
            self.face(face, piece.base, piece.alpha)
        for stud in piece.studs:
            self.stud(stud, piece.base, piece.alpha)

    def face(self, face: Face, base: RGB, alpha: int) -> None:
        fill = shade(base, face.normal)
        points = [self.camera.project(p) for p in face.points]
        if face.outlined:
            outline = (*edge_colour(fill), alpha)
            self.draw.polygon(points, fill=(*fill, alpha), outline=outline, width=self.line)
        else:
            self.draw.polygon(points, fill=(*fill, alpha))

    def stud(self, centre: Vec, base: RGB, alpha: int) -> None:
        cam = self.camera
        bx, by = cam.project(centre)
        _, ty = cam.project((centre[0], centre[1], centre[2] + STUD_HEIGHT))
        rx = STUD_RADIUS * cam.scale
        ry = rx * cam.sin_pitch
        lit, dark = shade(base, (0.0, 1.0, 0.0)), shade(base, (1.0, 0.0, 0.0))
        top = shade(base, (0.0, 0.0, 1.0))
        self.draw.ellipse((bx - rx, by - ry, bx + rx, by + ry), fill=(*dark, alpha))
        self.draw.rectangle((bx - rx, ty, bx, by), fill=(*lit, alpha))
        self.draw.rectangle((bx, ty, bx + rx, by), fill=(*dark, alpha))
        self.draw.ellipse((bx - rx, by - ry, bx, by + ry), fill=(*lit, alpha))
        self.draw.ellipse(
            (bx - rx, ty - ry, bx + rx, ty + ry),
            fill=(*top, alpha),
            outline=(*edge_colour(top), alpha),
            width=self.line,
        )
        # A short bright arc on the top reads as the glossy rim of a moulded stud.
        ix, iy = rx * 0.25, rx * 0.25 * cam.sin_pitch
        sheen = (*_mix(top, (255, 255, 255), 0.55), alpha)
        arc_box = (bx - rx + ix, ty - ry + iy, bx + rx - ix, ty + ry - iy)
        self.draw.arc(arc_box, 160, 250, fill=sheen, width=max(1, round(rx * 0.18)))


# --------------------------------------------------------------------------------------------
# Backgrounds and shadows.
# --------------------------------------------------------------------------------------------

BACKDROPS = [
    ((206, 222, 238), (246, 248, 250)),
    ((238, 226, 210), (250, 247, 242)),
    ((220, 236, 224), (246, 250, 246)),
    ((232, 222, 238), (249, 246, 251)),
    ((200, 204, 212), (238, 239, 242)),
]


def gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    column = Image.new("RGB", (1, size[1]))
    column.putdata([_mix(top, bottom, i / (size[1] - 1)) for i in range(size[1])])
    # Stretching a single column sideways needs no interpolation, which keeps this cheap.
    return column.resize(size, Image.Resampling.NEAREST)


def vignette(image: Image.Image, strength: float) -> Image.Image:
    # The radial gradient is black in the middle and white at the rim: use it as a darkening mask.
    mask = Image.radial_gradient("L").resize(image.size, Image.Resampling.BILINEAR)
    mask = mask.point(lambda v: int(max(0, v - 96) * strength))
    return Image.composite(Image.new("RGB", image.size, (20, 24, 30)), image, mask)


WOOD_TONES: list[RGB] = [(196, 150, 104), (168, 118, 76), (214, 178, 134), (140, 96, 62)]


def wood_table(image: Image.Image, camera: Camera, rng: random.Random) -> None:
    """Cover the floor with planks running along x, seen through the same camera as the model."""
    draw = ImageDraw.Draw(image)
    corners = [camera.ground(x, y) for x in (0, image.width) for y in (0, image.height)]
    x0, x1 = min(c[0] for c in corners) - 1, max(c[0] for c in corners) + 1
    y0, y1 = min(c[1] for c in corners) - 1, max(c[1] for c in corners) + 1
    tone = rng.choice(WOOD_TONES)
    width = rng.uniform(3.0, 4.5)
    y = math.floor(y0 / width) * width
    while y < y1:
        tint = (255, 240, 220) if rng.random() < 0.5 else (60, 35, 20)
        board = _mix(tone, tint, rng.random() * 0.15)
        _plank(draw, camera, rng, board, (x0, x1), (y, y + width))
        seam = [camera.project((x0, y, 0.0)), camera.project((x1, y, 0.0))]
        seam_width = max(1, round(camera.scale * 0.05))
        draw.line(seam, fill=_mix(tone, (40, 20, 10), 0.5), width=seam_width)
        y += width


def _plank(
    draw: ImageDraw.ImageDraw,
    camera: Camera,
    rng: random.Random,
    board: RGB,
    xs: Point,
    ys: Point,
) -> None:
    quad = [(xs[0], ys[0], 0.0), (xs[1], ys[0], 0.0), (xs[1], ys[1], 0.0), (xs[0], ys[1], 0.0)]
    draw.polygon([camera.project(p) for p in quad], fill=board)
    grain = _mix(board, (70, 40, 20), 0.18)
    for _ in range(7):
        gy = rng.uniform(ys[0] + 0.2, ys[1] - 0.2)
        phase, amplitude = rng.uniform(0, 6), rng.uniform(0.03, 0.12)
        line = [
            camera.project((gx, gy + amplitude * math.sin(gx / 3 + phase), 0.0))
            for gx in _frange(xs[0], xs[1], 1.5)
        ]
        draw.line(line, fill=grain, width=max(1, round(camera.scale * 0.03)))


def _frange(start: float, stop: float, step: float) -> list[float]:
    return [start + k * step for k in range(int((stop - start) / step) + 2)]


def baseplate(pieces: list[Piece], rng: random.Random) -> Piece:
    lows = [p.low for p in pieces]
    highs = [p.high for p in pieces]
    margin = rng.randint(2, 3)
    x0 = math.floor(min(p[0] for p in lows)) - margin
    y0 = math.floor(min(p[1] for p in lows)) - margin
    x1 = math.ceil(max(p[0] for p in highs)) + margin
    y1 = math.ceil(max(p[1] for p in highs)) + margin
    covered = {
        (x, y)
        for p in pieces
        if p.low[2] < EPSILON
        for x in range(math.floor(p.low[0] + 0.5), math.ceil(p.high[0] - 0.5))
        for y in range(math.floor(p.low[1] + 0.5), math.ceil(p.high[1] - 0.5))
    }
    # A baseplate in the model's own colour would swallow it, so prefer one that contrasts.
    used = {p.base for p in pieces}
    name = rng.choice([n for n in BASEPLATE_COLOURS if colour(n) not in used] or ["white"])
    plate = box(colour(name), x0, y0, -PLATE / 3, x1 - x0, y1 - y0, PLATE / 3, studs=False)
    plate.studs = [
        (x + 0.5, y + 0.5, 0.0)
        for x in range(x0, x1)
        for y in range(y0, y1)
        if (x, y) not in covered
    ]
    return plate


def _convex_hull(points: list[Point]) -> list[Point]:
    points = sorted(set(points))
    if len(points) < 3:
        return points

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    upper: list[Point] = []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def cast_shadows(image: Image.Image, camera: Camera, pieces: list[Piece]) -> Image.Image:
    """Darken the floor below and beside the pieces with a soft shadow."""
    shrink = 8  # blurring a small mask is far cheaper than blurring the full image
    size = (image.width // shrink, image.height // shrink)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for piece in pieces:
        (lx, ly, lz), (hx, hy, hz) = piece.low, piece.high
        ground: list[Point] = []
        for z in (lz, hz):
            dx, dy = SHADOW_SHIFT[0] * z, SHADOW_SHIFT[1] * z
            for x in (lx, hx):
                for y in (ly, hy):
                    sx, sy = camera.project((x + dx, y + dy, 0.0))
                    ground.append((sx / shrink, sy / shrink))
        draw.polygon(_convex_hull(ground), fill=110)
    radius = max(1.5, camera.scale / shrink * 0.5)
    mask = mask.filter(ImageFilter.GaussianBlur(radius))
    mask = mask.resize(image.size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", image.size, (25, 25, 35)), image, mask)


# --------------------------------------------------------------------------------------------
# Putting it together.
# --------------------------------------------------------------------------------------------


def _camera_for(composition: Composition, rng: random.Random) -> Camera:
    if composition is compose_mosaic:
        return Camera(rng.uniform(-12, 12), rng.choice([90.0, rng.uniform(55, 70)]))
    if composition is compose_wall:
        # Walls run along x; a more frontal view shows their face instead of their end.
        return Camera(rng.uniform(22, 40), rng.uniform(25, 35))
    return Camera(rng.uniform(30, 60), rng.uniform(28, 40))


def _backdrop(
    composition: Composition,
    pieces: list[Piece],
    camera: Camera,
    size: tuple[int, int],
    rng: random.Random,
) -> Image.Image:
    kind = rng.choice(["gradient", "baseplate", "wood"])
    if composition is compose_garden:
        kind = "baseplate"
    elif composition is compose_mosaic and kind == "baseplate":
        kind = "gradient"  # a mosaic already is a plate
    image = gradient(size, *rng.choice(BACKDROPS))
    if kind == "wood":
        wood_table(image, camera, rng)
    elif kind == "baseplate":
        Painter(image, camera).piece(baseplate(pieces, rng))
    return image


def draw_creation(seed: int, *, width: int = 960, height: int = 720) -> bytes:
    """Draw the demo picture for ``seed`` and return it as JPEG bytes."""
    rng = random.Random(seed)
    # Cycling through the compositions guarantees variety among neighbouring seeds.
    composition = COMPOSITIONS[seed % len(COMPOSITIONS)]
    pieces = composition(rng)
    camera = _camera_for(composition, rng)
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    camera.fit(pieces, *size, fill=rng.uniform(0.62, 0.74))
    image = cast_shadows(_backdrop(composition, pieces, camera, size, rng), camera, pieces)
    painter = Painter(image, camera)
    for piece in painter_order(pieces, camera):
        painter.piece(piece)
    image = vignette(image.reduce(SUPERSAMPLE), 0.25)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88, optimize=True)
    return buffer.getvalue()
