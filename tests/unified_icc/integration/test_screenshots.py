"""Screenshots of a real tmux pane: cropped at twice the size for a phone, or the whole pane."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from support import World, wait_until
from unified_icc import UnifiedICC, WindowId
from unified_icc.terminal import ScreenshotRenderer, ScreenshotStyle

pytestmark = pytest.mark.integration

CELL = ScreenshotRenderer(style=ScreenshotStyle(scale=2)).cell
PADDING = 2 * ScreenshotStyle().padding


def size(png: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.size


def colours(png: bytes) -> set[object]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 24) or []}


@pytest.fixture
async def shell(world: World) -> AsyncIterator[tuple[UnifiedICC, WindowId]]:
    async with UnifiedICC(world.bash_config()) as gateway:
        window = await gateway.create_window(world.workspace, "shell")
        await wait_until(lambda: _line(gateway, window.window_id, 0, "$"), what="a prompt")
        yield gateway, window.window_id


async def test_idle_shell_screenshot_is_its_prompt_line_at_twice_the_cell_size(
    shell: tuple[UnifiedICC, WindowId],
) -> None:
    gateway, window = shell

    png = await gateway.capture_screenshot(window)

    # "$ " and the cursor on row 0, a margin row below; 20 columns at least.
    assert size(png) == (20 * CELL.width + 2 * PADDING, 2 * CELL.height + 2 * PADDING)


async def test_full_screenshot_is_the_whole_pane_at_the_normal_cell_size(
    shell: tuple[UnifiedICC, WindowId],
) -> None:
    gateway, window = shell

    png = await gateway.capture_screenshot(window, full=True)

    assert size(png) == (2024, 974)  # 200 x 50 cells of 10 x 19 px, 12 px padding


async def test_cropped_screenshot_keeps_output_and_its_true_colour(
    shell: tuple[UnifiedICC, WindowId],
) -> None:
    gateway, window = shell
    command = r"printf '\033[48;2;10;200;30m%s\033[0m\n' '    green    '"
    await gateway.send_to_window(window, command)
    await wait_until(
        lambda: _prompt_after_output(gateway, window), what="the output and the next prompt"
    )

    png = await gateway.capture_screenshot(window)

    # Rows: the command, its output, the new prompt with the cursor, a margin row.
    columns = len("$ " + command) + 1
    assert size(png) == (columns * CELL.width + 2 * PADDING, 4 * CELL.height + 2 * PADDING)
    assert (10, 200, 30) in colours(png)


@pytest.mark.parametrize(
    ("hide", "rows"),
    [("", 8), (r"\033[?25l", 3)],
    ids=["visible-cursor-line-is-kept", "hidden-cursor-is-ignored"],
)
async def test_cropped_screenshot_keeps_the_blank_cursor_line_below_the_output(
    shell: tuple[UnifiedICC, WindowId], hide: str, rows: int
) -> None:
    gateway, window = shell
    command = rf"printf 'top\n\n\n\n\n{hide}'; sleep 60"
    await gateway.send_to_window(window, command)
    await wait_until(
        lambda: _line(gateway, window, 1, "top"), what="the output, then the cursor 5 rows down"
    )

    png = await gateway.capture_screenshot(window)

    # The command (row 0), "top", four blank rows, the cursor's row 6, a margin row; when the
    # cursor is hidden only the command, "top" and a margin row.
    columns = len("$ " + command) + 1
    assert size(png) == (columns * CELL.width + 2 * PADDING, rows * CELL.height + 2 * PADDING)


async def _line(gateway: UnifiedICC, window: WindowId, row: int, text: str) -> bool:
    """Whether the pane's line row reads text (capture-pane drops trailing blanks)."""
    lines = (await gateway.capture_pane(window)).split("\n")
    return len(lines) > row and lines[row].rstrip() == text


async def _prompt_after_output(gateway: UnifiedICC, window: WindowId) -> bool:
    return await _line(gateway, window, 1, "    green") and await _line(gateway, window, 2, "$")


async def test_content_wider_than_half_the_pane_is_cropped_at_the_normal_cell_size(
    shell: tuple[UnifiedICC, WindowId],
) -> None:
    gateway, window = shell
    command = "printf '%0150d\\n' 7"
    await gateway.send_to_window(window, command)
    await wait_until(lambda: _line(gateway, window, 2, "$"), what="the output and the prompt")

    png = await gateway.capture_screenshot(window)

    # 150 columns at twice the size would be wider than the whole pane's picture (2024 px):
    # the crop keeps its rows but is drawn at the normal size instead.
    normal = ScreenshotRenderer().cell
    padding = ScreenshotStyle().padding
    assert size(png) == (151 * normal.width + 2 * padding, 4 * normal.height + 2 * padding)
