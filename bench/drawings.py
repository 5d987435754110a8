"""How well the shipped model recognises drawn garments, through the app's real preprocessing.

    python bench/drawings.py [--checkpoint PATH] [--per-cell 2] [--seed 0] [--save DIR]

Draws every class of Fashion-MNIST as a simple garment picture (a polygon per class, plus a few
lines: straps, handles, seams), in two styles (a filled silhouette, an outline), on three
backgrounds (white paper with black ink; a canvas's transparent background with black ink;
black paper with white ink), on four canvas sizes, each with a random size, position and small
rotation. The shapes were written once from what the garments look like (aspect ratios from the
Fashion-MNIST test set's bounding boxes; footwear with the toe to the left as in the dataset)
and were not adjusted to the model's answers. Prints one JSON line: top-1 and top-3 accuracy,
overall and by style, background, canvas size and class, and each class's most common answer.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyvgg.data import CLASS_NAMES  # noqa: E402
from tinyvgg.model import SHIPPED_CHECKPOINT, load_checkpoint  # noqa: E402
from tinyvgg.preprocess import preprocess  # noqa: E402

# class -> (height / width, outline polygon, lines). Points are in a unit box, y down.
# A line is ("cut", points): a seam or opening, paper-coloured on a silhouette, ink on an
# outline; or ("ink", points): a strap or handle, ink in both styles.
SHAPES = {
    "T-shirt/top": (1.28, [(.32, 0), (.42, .04), (.5, .1), (.58, .04), (.68, 0), (1, .2), (.9, .38),
                           (.78, .3), (.78, 1), (.22, 1), (.22, .3), (.1, .38), (0, .2)], []),
    "Trouser": (2.4, [(.1, 0), (.9, 0), (1, 1), (.58, 1), (.5, .28), (.42, 1), (0, 1)], []),
    "Pullover": (1.3, [(.3, 0), (.5, .06), (.7, 0), (.88, .08), (1, .9), (.86, .92), (.78, .35),
                       (.78, 1), (.22, 1), (.22, .35), (.14, .92), (0, .9), (.12, .08)], []),
    "Dress": (1.85, [(.35, 0), (.42, 0), (.5, .06), (.58, 0), (.65, 0), (.68, .3), (.62, .4),
                     (1, 1), (0, 1), (.38, .4), (.32, .3)], []),
    "Coat": (1.37, [(.3, 0), (.5, .05), (.7, 0), (.9, .07), (1, .92), (.86, .94), (.8, .4),
                    (.82, 1), (.18, 1), (.2, .4), (.14, .94), (0, .92), (.1, .07)],
             [("cut", [(.5, .3), (.5, 1)]), ("cut", [(.38, .02), (.5, .3), (.62, .02)])]),
    "Sandal": (0.59, [(0, .75), (.55, .8), (.8, .55), (1, .5), (1, .62), (.95, .65), (.95, 1),
                      (.88, 1), (.86, .7), (.6, .95), (0, .9)],
               [("ink", [(.1, .78), (.25, .35), (.4, .8)]),
                ("ink", [(.45, .8), (.6, .15), (.75, .62)]),
                ("ink", [(.72, .6), (.85, 0), (.98, .52)])]),
    "Shirt": (1.3, [(.32, 0), (.42, 0), (.5, .12), (.58, 0), (.68, 0), (.88, .06), (1, .88),
                    (.87, .9), (.8, .35), (.8, 1), (.2, 1), (.2, .35), (.13, .9), (0, .88),
                    (.12, .06)], [("cut", [(.5, .12), (.5, 1)])]),
    "Sneaker": (0.49, [(0, .75), (.05, .5), (.3, .35), (.5, .2), (.62, 0), (.95, 0), (1, .2),
                       (1, 1), (.05, 1)], [("cut", [(.02, .8), (1, .8)])]),
    "Bag": (0.93, [(0, .3), (1, .3), (.95, 1), (.05, 1)],
            [("ink", [(.25, .3), (.3, .05), (.5, 0), (.7, .05), (.75, .3)])]),
    "Ankle boot": (0.77, [(0, .8), (.05, .62), (.3, .55), (.45, .45), (.5, 0), (.95, 0),
                          (1, .6), (1, 1), (.05, 1)], [("cut", [(.02, .88), (1, .88)])]),
}  # fmt: skip
STYLES = ("filled", "outline")
BACKGROUNDS = ("white", "transparent", "black")
CANVASES = ((160, 160), (320, 320), (600, 400), (280, 480))
SUPERSAMPLE = 4  # draw 4x larger, then shrink: antialiased edges, as a browser canvas has


def draw(name: str, style: str, background: str, canvas: tuple[int, int], rng: random.Random):
    """One garment picture: an RGB image on paper, or an RGBA array for a transparent canvas."""
    aspect, outline, lines = SHAPES[name]
    W, H = canvas[0] * SUPERSAMPLE, canvas[1] * SUPERSAMPLE
    long_side = rng.uniform(0.5, 0.9) * min(W, H)
    bw, bh = (long_side / aspect, long_side) if aspect >= 1 else (long_side, long_side * aspect)
    cx, cy = rng.uniform(bw / 2, W - bw / 2), rng.uniform(bh / 2, H - bh / 2)
    angle = math.radians(rng.uniform(-6, 6))

    def place(points):
        out = []
        for x, y in points:
            dx, dy = (x - 0.5) * bw, (y - 0.5) * bh
            out.append((cx + dx * math.cos(angle) - dy * math.sin(angle),
                        cy + dx * math.sin(angle) + dy * math.cos(angle)))  # fmt: skip
        return out

    ink = (255, 255, 255, 255) if background == "black" else (0, 0, 0, 255)
    paper = {"white": (255, 255, 255, 255), "black": (0, 0, 0, 255)}.get(background, (0, 0, 0, 0))
    im = Image.new("RGBA", (W, H), paper)
    d = ImageDraw.Draw(im)
    stroke = max(SUPERSAMPLE, round(0.03 * long_side))
    if style == "filled":
        d.polygon(place(outline), fill=ink)
    else:
        d.line(place(outline + outline[:1]), fill=ink, width=stroke, joint="curve")
    for kind, points in lines:
        colour = paper if (kind == "cut" and style == "filled") else ink
        width = 2 * stroke if kind == "ink" else stroke
        d.line(place(points), fill=colour, width=width, joint="curve")
    im = im.resize(canvas, Image.Resampling.LANCZOS)
    return np.asarray(im) if background == "transparent" else im.convert("RGB")


def main(argv: list[str] | None = None) -> int:
    """Draw the garments, classify them and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT))
    p.add_argument("--per-cell", type=int, default=2, help="pictures per class/style/bg/size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write the pictures as PNG files here")
    args = p.parse_args(argv)
    model, _ = load_checkpoint(args.checkpoint)
    model.eval()
    rng = random.Random(args.seed)
    rows, inputs = [], []
    for name in SHAPES:
        for style in STYLES:
            for bg in BACKGROUNDS:
                for canvas in CANVASES:
                    for k in range(args.per_cell):
                        picture = draw(name, style, bg, canvas, rng)
                        inputs.append(preprocess(picture).tensor)  # the app's path, auto invert
                        rows.append({"class": name, "style": style, "background": bg,
                                     "canvas": f"{canvas[0]}x{canvas[1]}",
                                     "class, style": f"{name}, {style}"})  # fmt: skip
                        if args.save:
                            out = Path(args.save) / f"{name.replace('/', '-')}_{style}_{bg}_"
                            Image.fromarray(np.asarray(picture)).save(
                                f"{out}{canvas[0]}x{canvas[1]}_{k}.png"
                            )
    with torch.no_grad():
        top3 = model(torch.stack(inputs)).topk(3, dim=1).indices.tolist()
    answers = Counter()
    for row, guesses in zip(rows, top3, strict=True):
        truth = CLASS_NAMES.index(row["class"])
        row["top1"], row["top3"] = guesses[0] == truth, truth in guesses
        answers[(row["class"], CLASS_NAMES[guesses[0]])] += 1

    def score(key: str | None) -> dict:
        groups = defaultdict(list)
        for row in rows:
            groups[row[key] if key else "all"].append(row)
        return {
            g: {"n": len(rs), "top1": round(sum(r["top1"] for r in rs) / len(rs), 3),
                "top3": round(sum(r["top3"] for r in rs) / len(rs), 3)}
            for g, rs in groups.items()
        }  # fmt: skip

    most_common = {
        name: max((n, pred) for (c, pred), n in answers.items() if c == name)[1] for name in SHAPES
    }
    filled = [r for r in rows if r["style"] == "filled"]
    print(json.dumps({
        "checkpoint": str(args.checkpoint), "n": len(rows), "overall": score(None)["all"],
        "filled_top1": round(sum(r["top1"] for r in filled) / len(filled), 3),
        "by_style": score("style"), "by_background": score("background"),
        "by_canvas": score("canvas"), "by_class": score("class"),
        "by_class_and_style": score("class, style"),
        "most_common_answer": most_common,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
