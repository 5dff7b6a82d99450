"""Helpers for 1C's XML: local names only (namespaces differ by version), streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from onboarding.importing import bounds
from onboarding.importing.errors import UnreadableFile


def local(element: Any) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # comments, processing instructions
    return tag.rpartition("}")[2]


def kids(element: Any, name: str) -> Iterator[Any]:
    for child in element:
        if local(child) == name:
            yield child


def kid(element: Any, *path: str) -> Any | None:
    node = element
    for name in path:
        node = next(kids(node, name), None)
        if node is None:
            return None
    return node


def children(element: Any) -> dict[str, Any]:
    """An element's children by local name (the first of each name): one pass over them for a
    reader that looks up many fields of one element."""
    found: dict[str, Any] = {}
    for child in element:
        found.setdefault(local(child), child)
    return found


def text_of(element: Any, *path: str) -> str:
    node = kid(element, *path) if path else element
    if node is None or node.text is None:
        return ""
    return " ".join(node.text.split())


def ends(stream: IO[bytes], encoding: str) -> Iterator[tuple[Any, list[str]]]:
    """(element, ancestors' local names from the root) at the end of every element.

    The caller clears what it has consumed; elements it does not consume stay in memory
    only until their parent is consumed, so memory follows the largest record, not the file.
    """
    stream.seek(0)
    python_encoding = {"utf-8-sig": "utf-8", "cp1251": "windows-1251"}.get(encoding, encoding)
    context = etree.iterparse(
        stream,
        events=("start", "end"),
        encoding=python_encoding or None,
        huge_tree=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
    )
    path: list[str] = []
    try:
        for event, element in context:
            if event == "start":
                path.append(local(element))
                if len(path) > bounds.MAX_XML_DEPTH:
                    raise UnreadableFile("too_deep", limit=bounds.MAX_XML_DEPTH)
                continue
            path.pop()
            yield element, path
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc


def release(element: Any) -> None:
    """Free a consumed element and the siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
