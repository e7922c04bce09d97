"""Interactive card JSON (1.0 and 2.0): the shallow check behind 230099, and CardKit's card
entities (create, stream an element's text, settings, replace) with their documented refusals.

Owns which shapes the emulator calls invalid: structure, known tags, header colours, nesting,
element count, shared-card flag, element ids. It does not check each component's full schema,
so it accepts some cards the real server rejects; it never rejects a card the reference allows.
Knows no HTTP (rest.py) and no message rules (im.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from feishu_emulator import ids
from feishu_emulator.errors import OpenApiError
from feishu_emulator.faults import Throttle
from feishu_emulator.models import CardEntity, CardOp, CardOpKind, Limits
from feishu_emulator.state import World

__all__ = ["CardKit", "card_problem", "is_shared_card", "referenced_card_id"]

# CardKit's codes, from the error tables of the cardkit-v1 reference pages (card/create,
# card/settings, card-element/content); 300313's "not find elementID" wording is from a log.
CARDKIT_INVALID = 10002
BAD_CARD_JSON = 200220
CARD_NOT_FOUND = 200740
CARD_EXPIRED = 200750
UUID_CONFLICT = 200770
STREAMING_TIMEOUT = 200850
CARD_TOO_BIG = 200860
DUPLICATE_ELEMENT_ID = 300301
NOT_SHARED = 300302
ONLY_V2 = 300303
TOO_MANY_ELEMENTS = 300305
EMPTY_CARD = 300307
STREAMING_CLOSED = 300309
ONLY_TEXT = 300310
NOT_CARD_OWNER = 300311
ELEMENT_FAILED = 300313
SEQUENCE_STALE = 300317
# Not documented for the 10/s per-card limit: answered like the gateway's frequency limit.
RATE_LIMITED = 99991400
TEXT_TAGS = frozenset({"markdown", "plain_text"})
SETTINGS_KEYS = frozenset({"config", "card_link"})

TEMPLATES = frozenset(
    {
        "blue", "wathet", "turquoise", "green", "yellow", "orange", "red",
        "carmine", "violet", "purple", "indigo", "grey", "default",
    }
)  # fmt: skip
# Containers hold "elements"; column_set holds "columns" of "column".
CONTAINERS = frozenset(
    {"column_set", "column", "collapsible_panel", "form", "interactive_container"}
)
V2_TAGS = CONTAINERS | frozenset(
    {
        "markdown", "div", "plain_text", "hr", "img", "img_combination", "button", "table",
        "chart", "person", "person_list", "avatar", "input", "overflow", "select_static",
        "multi_select_static", "select_person", "multi_select_person", "select_img",
        "date_picker", "picker_time", "picker_datetime", "checker", "audio", "text_tag",
    }
)  # fmt: skip
# JSON 2.0 dropped these 1.0 modules.
V1_ONLY_TAGS = frozenset({"action", "note"})
V1_TAGS = V2_TAGS | V1_ONLY_TAGS
PANEL_TITLE_TAGS = frozenset({"plain_text", "markdown"})
MAX_DEPTH = 5


def card_problem(content: str, *, max_elements: int = 200) -> str | None:
    """Why the card JSON is invalid, or None when it passes."""
    try:
        card = json.loads(content)
    except ValueError:
        return "card content is not JSON"
    if not isinstance(card, dict):
        return "card content is not a JSON object"
    if card.get("type") == "template":
        data = card.get("data")
        ok = isinstance(data, dict) and isinstance(data.get("template_id"), str)
        return None if ok else "template card needs data.template_id"
    if card.get("schema") == "2.0":
        return _v2_problem(card, max_elements)
    if "schema" in card:
        return f"unknown card schema {card['schema']!r}"
    return _v1_problem(card, max_elements)


def is_shared_card(content: str) -> bool:
    """Whether PATCH may update a card: 2.0 cards are shared; 1.0 needs update_multi."""
    card = json.loads(content)
    config = card.get("config") if isinstance(card, dict) else None
    multi = config.get("update_multi") if isinstance(config, dict) else None
    if isinstance(card, dict) and card.get("schema") == "2.0":
        return multi is not False
    return multi is True


def referenced_card_id(content: str) -> str | None:
    """The card_id that ``{"type": "card", "data": {"card_id": …}}`` content names ("" when
    it names none), or None for any other content (a card's own JSON, a template)."""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") != "card":
        return None
    data = body.get("data")
    card_id = data.get("card_id") if isinstance(data, dict) else None
    return card_id if isinstance(card_id, str) else ""


def _v2_problem(card: Mapping[str, Any], max_elements: int) -> str | None:
    if "elements" in card:
        return "schema 2.0 cards put elements under body.elements"
    config = card.get("config", {})
    if not isinstance(config, dict):
        return "config must be an object"
    if config.get("update_multi") is False:
        return "schema 2.0 supports only config.update_multi=true"
    if problem := _header_problem(card.get("header")):
        return problem
    body = card.get("body", {})
    if not isinstance(body, dict):
        return "body must be an object"
    elements = body.get("elements", [])
    return _elements_problem(elements, V2_TAGS, max_elements)


def _v1_problem(card: Mapping[str, Any], max_elements: int) -> str | None:
    if "body" in card:
        return "a card without schema 2.0 cannot have a body"
    if problem := _header_problem(card.get("header")):
        return problem
    if "i18n_elements" in card:
        localized = card["i18n_elements"]
        if not isinstance(localized, dict):
            return "i18n_elements must be an object"
        for elements in localized.values():
            if problem := _elements_problem(elements, V1_TAGS, max_elements):
                return problem
        return None
    return _elements_problem(card.get("elements", []), V1_TAGS, max_elements)


def _header_problem(header: object) -> str | None:
    if header is None:
        return None
    if not isinstance(header, dict):
        return "header must be an object"
    template = header.get("template")
    if template is not None and template not in TEMPLATES:
        return f"unknown header template {template!r}"
    title = header.get("title")
    if title is not None and not (
        isinstance(title, dict) and isinstance(title.get("content"), str)
    ):
        return "header.title needs a content string"
    return None


def _elements_problem(elements: object, tags: frozenset[str], limit: int) -> str | None:
    if not isinstance(elements, list):
        return "elements must be a list"
    count = 0
    for element, depth, parent in _walk(elements, depth=1, parent=None):
        count += 1
        if problem := _element_problem(element, depth, parent, tags):
            return problem
    if count > limit:
        return f"card has {count} elements, more than {limit}"
    return None


def _element_problem(
    element: object, depth: int, parent: str | None, tags: frozenset[str]
) -> str | None:
    if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
        return "every element must be an object with a tag"
    tag = element["tag"]
    if tag not in tags:
        return f"element tag {tag!r} is not supported" + (
            " in schema 2.0" if tag in V1_ONLY_TAGS else ""
        )
    if depth > MAX_DEPTH:
        return f"components nest deeper than {MAX_DEPTH} levels"
    if tag == "markdown" and not isinstance(element.get("content"), str):
        return "markdown needs a content string"
    if parent == "column" and tag in {"table", "form"}:
        return f"a column cannot contain {tag}"
    if parent == "collapsible_panel" and tag == "form":
        return "a collapsible_panel cannot contain a form"
    if tag == "collapsible_panel":
        return _panel_problem(element)
    return None


def _panel_problem(panel: Mapping[str, Any]) -> str | None:
    header = panel.get("header", {})
    if not isinstance(header, dict):
        return "collapsible_panel header must be an object"
    title = header.get("title", {})
    if isinstance(title, dict) and title.get("tag", "plain_text") not in PANEL_TITLE_TAGS:
        return "collapsible_panel header.title.tag must be plain_text or markdown"
    padding = header.get("padding")
    if isinstance(padding, str) and len(padding.split()) not in (1, 4):
        return "invalid panel header padding"
    return None


def _walk(
    elements: list[Any], *, depth: int, parent: str | None
) -> Iterator[tuple[Any, int, str | None]]:
    for element in elements:
        yield element, depth, parent
        if not isinstance(element, dict) or element.get("tag") not in CONTAINERS:
            continue
        tag = element["tag"]
        children = element.get("columns" if tag == "column_set" else "elements", [])
        if isinstance(children, list):
            yield from _walk(children, depth=depth + 1, parent=tag)


class CardKit:
    """The card entities' rules over the world; every method runs on the server's loop.

    A call on an existing entity is checked in this order: it exists, this app created it,
    it is under 14 days old, the card's 10 calls per second, the uuid is new on this card,
    the sequence is above the last accepted one. Only an accepted call moves the sequence.
    Raises: OpenApiError, from every public method.
    """

    def __init__(self, *, world: World, throttle: Throttle, limits: Limits) -> None:
        self._world = world
        self._throttle = throttle
        self._limits = limits

    def create(self, *, app_id: str, card_type: str, data: str) -> CardEntity:
        """POST /cardkit/v1/cards: a new entity; its creation counts as its first call."""
        card = self._valid(card_type, data)
        now = self._world.now_ms()
        entity = CardEntity(
            card_id=ids.new_card_id(),
            app_id=app_id,
            content=data,
            created_at=now,
            streaming_since=now if _streaming(card) else None,
        )
        self._throttle.card_allows(entity.card_id)
        return self._commit(entity, CardOpKind.CREATE, content=data)

    def stream(
        self,
        *,
        app_id: str,
        card_id: str,
        element_id: str,
        text: str,
        sequence: int,
        uuid: str | None,
    ) -> CardEntity:
        """PUT …/elements/:element_id/content: the element's whole new text (streaming only)."""
        entity = self._operable(app_id, card_id, sequence, uuid)
        if entity.streaming_since is None:
            raise OpenApiError(STREAMING_CLOSED, "Card streaming closed")
        card = entity.body()
        if self._world.now_ms() - entity.streaming_since > self._limits.streaming_timeout * 1000:
            card.setdefault("config", {})["streaming_mode"] = False
            self._world.store_card(
                dataclasses.replace(entity, content=_dumps(card), streaming_since=None)
            )
            raise OpenApiError(STREAMING_TIMEOUT, "Card streaming timeout")
        element = _find_element(card, element_id)
        if element is None:
            raise OpenApiError(ELEMENT_FAILED, f"ErrMsg: not find elementID : {element_id}")
        if element.get("tag") not in TEXT_TAGS:
            raise OpenApiError(ONLY_TEXT, "Only update text")
        element["content"] = text
        changed = dataclasses.replace(entity, content=_dumps(card))
        return self._commit(
            changed,
            CardOpKind.CONTENT,
            content=text,
            element_id=element_id,
            sequence=sequence,
            uuid=uuid,
        )

    def configure(
        self, *, app_id: str, card_id: str, settings: str, sequence: int, uuid: str | None
    ) -> CardEntity:
        """PATCH …/settings: merge ``config`` (key by key) and replace ``card_link``."""
        entity = self._operable(app_id, card_id, sequence, uuid)
        card = entity.body()
        parsed = _settings(settings)
        if "config" in parsed:
            card["config"] = {**card.get("config", {}), **parsed["config"]}
        if "card_link" in parsed:
            card["card_link"] = parsed["card_link"]
        if card.get("config", {}).get("update_multi") is False:
            raise OpenApiError(NOT_SHARED, "update_multi property is false")
        changed = self._restream(entity, card, _dumps(card))
        return self._commit(
            changed, CardOpKind.SETTINGS, content=settings, sequence=sequence, uuid=uuid
        )

    def replace(
        self,
        *,
        app_id: str,
        card_id: str,
        card_type: str,
        data: str,
        sequence: int,
        uuid: str | None,
    ) -> CardEntity:
        """PUT /cardkit/v1/cards/:card_id: a whole new card for the same entity."""
        entity = self._operable(app_id, card_id, sequence, uuid)
        changed = self._restream(entity, self._valid(card_type, data), data)
        return self._commit(changed, CardOpKind.UPDATE, content=data, sequence=sequence, uuid=uuid)

    def _operable(self, app_id: str, card_id: str, sequence: int, uuid: str | None) -> CardEntity:
        try:
            entity = self._world.card(card_id)
        except LookupError:
            raise OpenApiError(CARD_NOT_FOUND, "The card entity does not exist") from None
        if entity.app_id != app_id:
            raise OpenApiError(
                NOT_CARD_OWNER,
                "The current application does not have permission to update/use this card",
            )
        if self._world.now_ms() - entity.created_at > self._limits.card_entity_ttl * 1000:
            raise OpenApiError(CARD_EXPIRED, "The card entity has expired")
        if not self._throttle.card_allows(card_id):
            headers = {
                "x-ogw-ratelimit-limit": str(self._limits.card_ops_per_second),
                "x-ogw-ratelimit-reset": "1",
            }
            raise OpenApiError(
                RATE_LIMITED, "request trigger frequency limit", status=429, headers=headers
            )
        if uuid is not None and uuid in entity.uuids:
            raise OpenApiError(UUID_CONFLICT, "UUID conflict")
        if sequence <= entity.sequence:
            raise OpenApiError(
                SEQUENCE_STALE,
                "The sequence number for operating on the card did not increment consecutively",
            )
        return entity

    def _valid(self, card_type: str, data: str) -> dict[str, Any]:
        if card_type != "card_json":
            raise OpenApiError(
                CARDKIT_INVALID,
                "Your request contains an invalid request parameter: the emulator takes "
                f"type card_json only, not {card_type!r}",
            )
        code, problem, card = _entity_card(data, self._limits)
        if card is None:
            raise OpenApiError(code, problem)
        return card

    def _restream(self, entity: CardEntity, card: Mapping[str, Any], content: str) -> CardEntity:
        """The entity showing ``card``; streaming_since starts when streaming_mode turns on."""
        since = None
        if _streaming(card):
            since = entity.streaming_since or self._world.now_ms()
        return dataclasses.replace(entity, content=content, streaming_since=since)

    def _commit(
        self,
        entity: CardEntity,
        op: CardOpKind,
        *,
        content: str,
        element_id: str | None = None,
        sequence: int | None = None,
        uuid: str | None = None,
    ) -> CardEntity:
        if len(entity.content.encode()) > self._limits.card_bytes:
            raise OpenApiError(CARD_TOO_BIG, "Card content exceeds limit.")
        if sequence is not None:
            entity = dataclasses.replace(entity, sequence=sequence)
        if uuid is not None:
            entity = dataclasses.replace(entity, uuids=entity.uuids | {uuid})
        self._world.store_card(entity)
        draft = CardOp(
            seq=0,
            at=0,
            op=op,
            app_id=entity.app_id,
            card_id=entity.card_id,
            content=content,
            element_id=element_id,
            sequence=sequence,
            uuid=uuid,
        )
        self._world.record_card_op(draft)
        return entity


def _entity_card(data: str, limits: Limits) -> tuple[int, str, dict[str, Any] | None]:
    """The parsed card JSON 2.0 of a new entity, or the code and message refusing it."""
    if not data.strip():
        return EMPTY_CARD, "The card DSL is empty", None
    if len(data.encode()) > limits.card_bytes:
        return CARD_TOO_BIG, "Card content exceeds limit.", None
    try:
        card = json.loads(data)
    except ValueError:
        return BAD_CARD_JSON, "Failed to generate card content: the data is not JSON", None
    if not isinstance(card, dict) or card.get("schema") != "2.0":
        return ONLY_V2, "Only schema 2.0 is supported", None
    config = card.get("config")
    if isinstance(config, dict) and config.get("update_multi") is False:
        return NOT_SHARED, "update_multi property is false", None
    if problem := card_problem(data, max_elements=10**9):
        return BAD_CARD_JSON, f"Failed to generate card content, ErrMsg: {problem}", None
    elements = _elements(card)
    if len(elements) > limits.card_elements:
        return TOO_MANY_ELEMENTS, "The number of card components exceeds 200", None
    element_ids = [e["element_id"] for e in elements if "element_id" in e]
    if len(set(element_ids)) != len(element_ids):
        return DUPLICATE_ELEMENT_ID, "Duplicate element_id in card component.", None
    return 0, "", card


def _elements(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every element of a card that passed card_problem, containers' children included."""
    elements = card.get("body", {}).get("elements", [])
    return [element for element, _, _ in _walk(elements, depth=1, parent=None)]


def _find_element(card: Mapping[str, Any], element_id: str) -> dict[str, Any] | None:
    return next((e for e in _elements(card) if e.get("element_id") == element_id), None)


def _settings(settings: str) -> dict[str, Any]:
    try:
        parsed = json.loads(settings)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not parsed or set(parsed) - SETTINGS_KEYS:
        raise OpenApiError(
            CARDKIT_INVALID,
            "Your request contains an invalid request parameter: settings must be a JSON "
            "object of config and/or card_link",
        )
    if not all(isinstance(value, dict) for value in parsed.values()):
        raise OpenApiError(CARDKIT_INVALID, "Your request contains an invalid request parameter")
    return parsed


def _streaming(card: Mapping[str, Any]) -> bool:
    config = card.get("config")
    return isinstance(config, dict) and config.get("streaming_mode") is True


def _dumps(card: Mapping[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, separators=(",", ":"))
