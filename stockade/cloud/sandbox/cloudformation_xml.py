"""Reading and rewriting moto's CloudFormation responses (the query protocol's XML).

The stack-window realism shows stacks as AWS would mid-operation: it finds stacks, change sets
and events in moto's responses and changes what they show. ElementTree keeps the document's
namespace, and ``serialize`` writes it back as moto wrote it (one default namespace, no XML
declaration), so botocore parses the rewritten response exactly as it parses moto's.

Who calls it: ``cloud.sandbox.cloudformation`` only, inside the sandbox server process.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable

from stockade.cloud.sandbox.stacks import Window
from stockade.cloud.sandbox.wire import Reply

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
#: what a stack in its window does not show: AWS has no outputs yet, nor a deletion time
HIDDEN_IN_PROGRESS = ("Outputs", "DeletionTime", "StackStatusReason")

Element = ET.Element


def q(tag: str) -> str:
    """``tag`` in CloudFormation's namespace."""
    return f"{{{NAMESPACE}}}{tag}"


def parse(reply: Reply) -> Element | None:
    """A successful reply's document; None for an error or a body that is not XML."""
    if reply.status != 200:
        return None
    try:
        return ET.fromstring(reply.body)  # noqa: S314 - moto's own response
    except ET.ParseError:
        return None


def serialize(root: Element) -> bytes:
    return bytes(
        ET.tostring(root, encoding="utf-8", xml_declaration=False, default_namespace=NAMESPACE)
    )


def first(root: Element, tag: str) -> Element | None:
    """The first element named ``tag`` anywhere in the document."""
    return next(root.iter(q(tag)), None)


def result_text(reply: Reply, tag: str) -> str | None:
    """The text of the first ``tag`` in a successful reply."""
    root = parse(reply)
    element = first(root, tag) if root is not None else None
    return element.text if element is not None else None


def text(element: Element, tag: str) -> str | None:
    child = element.find(q(tag))
    return child.text if child is not None else None


def set_text(element: Element, tag: str, value: str) -> None:
    child = element.find(q(tag))
    if child is not None:
        child.text = value


def members(root: Element | None, container: str) -> list[Element]:
    """The ``member`` children of the list element ``container`` (Stacks, StackSummaries...)."""
    parent = first(root, container) if root is not None else None
    return parent.findall(q("member")) if parent is not None else []


def drop_members(root: Element, container: str, unwanted: Callable[[Element], bool]) -> None:
    parent = first(root, container)
    if parent is not None:
        for member in parent.findall(q("member")):
            if unwanted(member):
                parent.remove(member)


def show_in_progress(stacks: Iterable[Element], windows: dict[str, Window]) -> set[str]:
    """Show each stack (or stack summary) that has a window as in progress; return the stack
    ids seen."""
    seen = set()
    for stack in stacks:
        stack_id = text(stack, "StackId") or ""
        seen.add(stack_id)
        window = windows.get(stack_id)
        if window is None:
            continue
        set_text(stack, "StackStatus", window.status)
        for tag in HIDDEN_IN_PROGRESS:
            child = stack.find(q(tag))
            if child is not None:
                stack.remove(child)
    return seen


def hold_back_events(root: Element, window: Window) -> None:
    """Drop the events newer than the operation's own in-progress event (newest come first)."""
    parent = first(root, "StackEvents")
    if parent is None:
        return
    events = parent.findall(q("member"))
    for index, event in enumerate(events):
        if (
            text(event, "LogicalResourceId") == window.stack_name
            and text(event, "ResourceStatus") == window.status
        ):
            for newer in events[:index]:
                parent.remove(newer)
            return
