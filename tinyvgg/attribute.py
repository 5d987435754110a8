"""Why a class, for one image file: an attribution map written as a PNG over the input.

    python -m tinyvgg.attribute [--method exact] [--target CLASS] [--versus CLASS] [--out PATH]
        [--checkpoint PATH] [--steps 50] [--patch 4] [--stride 2] [--no-invert] IMAGE

The image goes through the same reading and preprocessing as `tinyvgg.predict`. A class is one
of the model's class names, in any case ("coat", "ankle boot", "t-shirt") or its index; the
target defaults to the model's answer. The PNG (default `<image stem>-<method>[-vs-<versus>].png`
in the current folder) shows the 28×28 input in grey, 10× larger, with the map over it: red for
the class, blue against, on a scale symmetric about 0 that a strip under the picture states in
logit units. Prints one JSON line: the map's summary (method, target, versus, logit, sum, delta,
settings) with "file", "png" and "scale"; errors are one line on stderr. Exits 1 if the image
could not be used, 2 for a usage error (a class, a setting, --out) or a model that did not load.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from tinyvgg.attribution import (
    IG_STEPS,
    LABELS,
    METHODS,
    OCCLUSION_PATCH,
    OCCLUSION_STRIDE,
    AttributionError,
    attribute,
)
from tinyvgg.data import find_class
from tinyvgg.model import SKETCH_CHECKPOINT
from tinyvgg.predict import cli_model, model_input, probabilities, read_image_file
from tinyvgg.preprocess import PreprocessError

ZOOM = 10  # each input pixel as a 10×10 block: 280×280 for Fashion-MNIST
RED, BLUE = np.array([202.0, 0, 32]), np.array([5.0, 113, 176])  # ColorBrewer RdBu's ends
FONT_SIZE, PAD = 12, 6


class UsageError(ValueError):
    """A class name, a setting or an output path that cannot be used; one sentence."""


# ---------------------------------------------------------------------------- the picture


def _blend(base: np.ndarray, t: np.ndarray) -> np.ndarray:
    """`base` (H, W, 3) in 0-255 moved toward red (t > 0) or blue (t < 0) by |t| in [0, 1]."""
    a = np.abs(t)[..., None]
    end = np.where(t[..., None] >= 0, RED, BLUE)
    return np.clip(np.rint(base * (1 - a) + end * a), 0, 255).astype(np.uint8)


def _num(v: float) -> str:
    return f"{v:.3g}"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """`text` in lines that fit `width` pixels, breaking at spaces and at each newline."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        start = len(lines)
        for word in paragraph.split():
            if len(lines) > start and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
                lines[-1] += f" {word}"
            else:
                lines.append(word)
    return lines


def overlay_png(x: torch.Tensor, amap: torch.Tensor, caption: str) -> Image.Image:
    """The input `x` (C, H, W) or (1, C, H, W) in [0, 1], grey and ZOOM× larger (nearest), with
    the signed map `amap` (H, W) blended over it: toward red where positive, toward blue where
    negative, by |value| / max|value|, so 0 leaves the input's grey. The scale is symmetric
    about 0 and set by the map's largest |value| (never min-max); a strip under the picture
    gives it ("-s ... 0 ... +s (logit units)") beside a colour bar, then the caption."""
    grey = x.detach().float().cpu().reshape(-1, *x.shape[-2:]).mean(0).clamp(0, 1)  # (H, W)
    base = np.repeat(grey.numpy()[..., None].astype(np.float64) * 255, 3, axis=2)
    m = amap.detach().double().cpu().numpy()
    scale = float(np.abs(m).max()) if m.size else 0.0
    t = m / scale if scale > 0 else np.zeros_like(m)
    h, w = m.shape
    picture = Image.fromarray(_blend(base, t)).resize((w * ZOOM, h * ZOOM), Image.NEAREST)

    font = ImageFont.load_default(size=FONT_SIZE)
    width, bar_h, line_h = w * ZOOM, 10, FONT_SIZE + 4
    lines = _wrap(ImageDraw.Draw(picture), caption, font, width - 2 * PAD)
    strip_h = PAD + bar_h + 4 + line_h * (1 + len(lines)) + PAD
    out = Image.new("RGB", (width, h * ZOOM + strip_h), "white")
    out.paste(picture, (0, 0))
    draw = ImageDraw.Draw(out)
    top = h * ZOOM + PAD
    ramp = np.linspace(-1, 1, width - 2 * PAD)[None, :].repeat(bar_h, 0)  # white at 0
    out.paste(Image.fromarray(_blend(np.full((*ramp.shape, 3), 255.0), ramp)), (PAD, top))
    draw.rectangle((PAD, top, width - PAD - 1, top + bar_h - 1), outline=(120, 120, 120))
    draw.line((width // 2, top, width // 2, top + bar_h - 1), fill=(120, 120, 120))
    legend = (f"-{_num(scale)} ... 0 ... +{_num(scale)} (logit units)" if scale > 0
              else "every value is 0 (logit units)")  # fmt: skip
    y = top + bar_h + 4
    for text in [legend, *lines]:
        draw.text((width / 2, y), text, fill="black", font=font, anchor="ma")
        y += line_h
    return out


# ---------------------------------------------------------------------------- classes


def slug(name: str) -> str:
    """A class name in a file name: 'T-shirt/top' -> 't-shirt-top', 'Ankle boot' -> 'ankle-boot'."""
    return re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-")


def resolve_class(text: str, names: tuple[str, ...]) -> int:
    """A class's index from its name in any case or spelling ('ankle boot', 'Ankle-Boot', 'top')
    or its index; UsageError names the nearest class otherwise."""
    if (found := find_class(text, names)) is not None:
        return found
    text = text.strip()
    if text.lstrip("+-").isdigit():
        raise UsageError(f"There is no class {text}: the classes are 0 to {len(names) - 1}.")
    nearest = difflib.get_close_matches(text.lower(), [n.lower() for n in names], 1, 0.0)
    near = next((n for n in names if nearest and n.lower() == nearest[0]), names[0])
    raise UsageError(f"Unknown class {text!r} (the nearest is {near!r}); the classes are "
                     f"{', '.join(names)}, or 0 to {len(names) - 1}.")  # fmt: skip


def default_png(image: str, method: str, versus: str | None) -> Path:
    """`<image stem>-<method>[-vs-<versus>].png` in the current folder."""
    return Path(f"{Path(image).stem}-{method}" + (f"-vs-{slug(versus)}" if versus else "") + ".png")


def caption(method: str, target: str, versus: str | None) -> str:
    """e.g. 'Integrated Gradients: why Coat and not Pullover' and, below, what the colours mean."""
    why = f"why {target}" + (f" and not {versus}" if versus else "")
    return f"{LABELS[method]}: {why}\nred: evidence for, blue: against"


# ---------------------------------------------------------------------------- the command


def _explain(args, model, device, names) -> dict:
    """Everything after the model loaded: the JSON line, or PreprocessError / UsageError /
    AttributionError."""
    target = resolve_class(args.target, names) if args.target is not None else None
    versus = resolve_class(args.versus, names) if args.versus is not None else None
    data = read_image_file(args.image)
    x = model_input(data, model, auto_invert=not args.no_invert)  # (C, 28, 28)
    if target is None:
        target = int(probabilities(model, x, device).argmax())
    a = attribute(model, x.to(device), args.method, target, versus, steps=args.steps,
                  patch=args.patch, stride=args.stride)  # fmt: skip
    vs_name = names[versus] if versus is not None else None
    png = Path(args.out) if args.out else default_png(args.image, args.method, vs_name)
    picture = overlay_png(x, a.map, caption(args.method, names[target], vs_name))
    try:
        picture.save(png, format="PNG")
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise UsageError(f"The PNG cannot be written to {png} ({why}).") from e
    scale = float(a.map.abs().max())
    return {"file": args.image} | a.summary(names) | {"png": str(png), "scale": scale}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tinyvgg.attribute", description=__doc__.split("\n")[0]
    )
    p.add_argument("image", metavar="IMAGE", help="PNG, JPEG, WebP, BMP or GIF file")
    p.add_argument("--method", choices=METHODS, default="exact")
    p.add_argument("--target", default=None, help="class name or index (default: the answer)")
    p.add_argument("--versus", default=None, help="explain target and not this class")
    p.add_argument("--out", default=None, help="PNG path (default: <stem>-<method>.png here)")
    p.add_argument("--checkpoint", default=str(SKETCH_CHECKPOINT),
                   help="default: the shipped sketch model, the best on drawings")  # fmt: skip
    p.add_argument("--steps", type=int, default=IG_STEPS, help="IG's first number of steps")
    p.add_argument("--patch", type=int, default=OCCLUSION_PATCH, help="occlusion's patch side")
    p.add_argument("--stride", type=int, default=OCCLUSION_STRIDE, help="occlusion's stride")
    p.add_argument("--no-invert", action="store_true", help="never invert light backgrounds")
    p.add_argument("--device", default=None, help="auto, cuda, mps or cpu")
    return p


def main(argv: list[str] | None = None) -> int:
    """Explain one image: write the PNG, print one JSON line; exit 1 for a bad image, 2 else."""
    args = _parser().parse_args(argv)
    if (loaded := cli_model(args.checkpoint, args.device)) is None:
        return 2
    model, device = loaded[0].requires_grad_(False), loaded[1]  # gradients for the input only
    names = model.classes
    try:
        line = _explain(args, model, device, names)
    except PreprocessError as e:
        print(f"error: {args.image}: {e}", file=sys.stderr)
        return 1
    except (UsageError, AttributionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
