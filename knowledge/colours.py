"""Readable colours from the company's accent colour, whatever it chose: text on the accent is
white or near-black, whichever contrasts more, and links on the light page are the accent
darkened until they reach WCAG's 4.5:1 (the help centre's pages pass axe-core's check)."""

from __future__ import annotations

PAGE = (0xF6, 0xF7, 0xFA)
DARK_TEXT = "#1d2330"
MIN_CONTRAST = 4.5


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(accent: str) -> str:
    rgb = _rgb(accent)
    white = contrast(rgb, (255, 255, 255))
    return "#ffffff" if white >= contrast(rgb, _rgb(DARK_TEXT)) else DARK_TEXT


def link_on_page(accent: str) -> str:
    r, g, b = _rgb(accent)
    for _step in range(40):
        if contrast((r, g, b), PAGE) >= MIN_CONTRAST:
            break
        r, g, b = int(r * 0.9), int(g * 0.9), int(b * 0.9)
    return f"#{r:02x}{g:02x}{b:02x}"
