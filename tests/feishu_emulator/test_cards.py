"""The shallow card check behind 230099: what it rejects, and cards it must let through."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from feishu_emulator.cards import card_problem, is_shared_card


class Case(NamedTuple):
    test_id: str
    card: Any
    problem: str | None  # a fragment of the reason, or None when the card passes


def v2(*elements: Any, **top: Any) -> dict[str, Any]:
    return {"schema": "2.0", "body": {"elements": list(elements)}, **top}


MARKDOWN = {"tag": "markdown", "content": "**hi**"}
PANEL = {
    "tag": "collapsible_panel",
    "expanded": False,
    "header": {"title": {"tag": "markdown", "content": "**Details**"}, "padding": "4px"},
    "elements": [MARKDOWN],
}
COLUMNS = {
    "tag": "column_set",
    "columns": [{"tag": "column", "width": "weighted", "weight": 1, "elements": [MARKDOWN]}],
}
LARK_MD = {"tag": "lark_md", "content": "x"}
TABLE_COLUMN = {"tag": "column", "elements": [{"tag": "table"}]}

CASES = [
    Case("v2-markdown", v2(MARKDOWN, header={"template": "blue"}), None),
    Case("v2-panel-and-columns", v2(PANEL, COLUMNS, {"tag": "hr"}), None),
    Case("v1-div-and-action", {"elements": [{"tag": "div"}, {"tag": "action"}]}, None),
    Case("template", {"type": "template", "data": {"template_id": "AAq"}}, None),
    Case("not-json", "{", "not JSON"),
    Case("not-object", [], "not a JSON object"),
    Case("v2-top-level-elements", {"schema": "2.0", "elements": []}, "body.elements"),
    Case("v2-note", v2({"tag": "note"}), "in schema 2.0"),
    Case("unknown-tag", v2({"tag": "blink"}), "'blink'"),
    Case("no-tag", v2({"content": "x"}), "with a tag"),
    Case("markdown-without-content", v2({"tag": "markdown"}), "content string"),
    Case("bad-template", v2(MARKDOWN, header={"template": "pink"}), "'pink'"),
    Case("panel-lark-md-title", v2({**PANEL, "header": {"title": LARK_MD}}), "title.tag"),
    Case("panel-two-paddings", v2({**PANEL, "header": {"padding": "4px 8px"}}), "padding"),
    Case("table-in-column", v2({**COLUMNS, "columns": [TABLE_COLUMN]}), "cannot contain table"),
    Case("v2-update-multi-false", v2(MARKDOWN, config={"update_multi": False}), "update_multi"),
    Case("v1-with-body", {"body": {}}, "cannot have a body"),
    Case("too-many", v2(*[MARKDOWN] * 201), "more than 200"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_card_problem(case: Case) -> None:
    content = case.card if isinstance(case.card, str) else json.dumps(case.card)

    problem = card_problem(content)

    if case.problem is None:
        assert problem is None
    else:
        assert problem is not None
        assert case.problem in problem


def test_deep_nesting_is_refused() -> None:
    card: dict[str, Any] = MARKDOWN
    for _ in range(5):
        card = {"tag": "interactive_container", "elements": [card]}

    assert "nest deeper" in (card_problem(json.dumps(v2(card))) or "")


@pytest.mark.parametrize(
    ("card", "shared"),
    [
        (v2(MARKDOWN), True),
        ({"elements": [], "config": {"update_multi": True}}, True),
        ({"elements": []}, False),
    ],
    ids=["v2-default", "v1-update-multi", "v1-default"],
)
def test_is_shared_card(card: dict[str, Any], shared: bool) -> None:
    assert is_shared_card(json.dumps(card)) is shared
