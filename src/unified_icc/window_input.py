"""WindowInput: every keystroke the gateway sends into an agent window.

Owns the per-window lock that serialises text, keys and prompt answers, the check that a
window is still ours and alive, waiting for the agent's input box, the Enter pacing and
confirmation per provider, and answering prompts by number. Knows nothing of channels or
state; the screen comes from the monitor's ScreenWatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from unified_icc.config import GatewaySettings
from unified_icc.errors import (
    InvalidOptionError,
    NoPromptError,
    PromptPendingError,
    PromptStuckError,
    WindowDeadError,
    WindowNotFoundError,
)
from unified_icc.events import AgentStatus, PromptInfo
from unified_icc.ids import RecordId
from unified_icc.providers import Provider
from unified_icc.session_monitor import SessionMonitor
from unified_icc.terminal import ScreenStatus
from unified_icc.tmux import (
    KEY_NAMES,
    DeliveryMethod,
    PaneProbe,
    TmuxBackend,
    normalise_key,
    plan_text,
)
from unified_icc.transcripts import append_input_marker
from unified_icc.window_store import WindowRecord

__all__ = ["WindowInput", "holds"]

logger = logging.getLogger(__name__)

# How many submit_timeout periods a CLI without a submit hook is watched after Enter.
_ENTER_CHECKS = 3
# Seconds a step of a key sequence (a menu opening) gets to change the screen.
_STEP_SECONDS = 3.0


class WindowInput:
    def __init__(
        self, *, backend: TmuxBackend, monitor: SessionMonitor, settings: GatewaySettings
    ) -> None:
        self._backend = backend
        self._monitor = monitor
        self._settings = settings
        self._locks: dict[RecordId, asyncio.Lock] = {}
        self._ready: set[RecordId] = set()
        self._last_typed: dict[RecordId, str] = {}

    def forget(self, record: WindowRecord) -> None:
        self._locks.pop(record.record_id, None)
        self.restarted(record)

    def restarted(self, record: WindowRecord) -> None:
        """The window's agent was started again: wait for its input box before typing."""
        self._ready.discard(record.record_id)
        self._last_typed.pop(record.record_id, None)

    async def type_text(self, record: WindowRecord, provider: Provider, text: str) -> None:
        """Type ``text`` literally and submit it (see UnifiedICC.send_to_window)."""
        delivery = plan_text(text, max_chars=self._settings.max_text_chars)
        await self._monitor.screens.close_announced_turn(record)  # not under the lock
        async with self._lock(record):
            await self.verify_alive(record)
            await self._await_input_box(record)
            if record.provider == "shell" and record.transcript_path:
                # Where the shell's output for this submission begins (a new turn).
                path = Path(record.transcript_path)
                await asyncio.to_thread(append_input_marker, path, delivery.text)
            if delivery.method is DeliveryMethod.PASTE:
                await self._backend.paste(record.window_id, delivery.text)
            else:
                await self._backend.send_literal(record.window_id, delivery.text)
            if provider.submit_delay:
                await asyncio.sleep(provider.submit_delay)
            await self._submit(record, provider, delivery.text)
            self._last_typed[record.record_id] = delivery.text
            self._touched(record)

    async def press(self, record: WindowRecord, key: str) -> None:
        """Press one named key (see UnifiedICC.send_key)."""
        tmux_key, literal = normalise_key(key)
        async with self._lock(record):
            await self.verify_alive(record)
            if literal:
                await self._backend.send_literal(record.window_id, tmux_key)
            else:
                await self._backend.send_key(record.window_id, tmux_key)
            self._touched(record)

    async def press_sequence(self, record: WindowRecord, steps: Sequence[str]) -> None:
        """Press each step (a key name, or text to type as it is) once the screen changed
        after the one before, as a menu opens (at most _STEP_SECONDS each): one operation
        under the window's lock. Raises: InputRejectedError, WindowDeadError, TmuxError."""
        async with self._lock(record):
            await self.verify_alive(record)
            for step in steps:
                before = await self._backend.capture(record.window_id)
                if step in KEY_NAMES or len(step) == 1:
                    tmux_key, literal = normalise_key(step)
                else:
                    tmux_key, literal = step, True
                if literal:
                    await self._backend.send_literal(record.window_id, tmux_key)
                else:
                    await self._backend.send_key(record.window_id, tmux_key)
                await self.capture_until(record, before.__ne__, within=_STEP_SECONDS)
            self._touched(record)

    async def interrupt(self, record: WindowRecord, provider: Provider) -> bool:
        """Press the provider's interrupt key (Escape; Ctrl-C for a shell); take back what we
        typed if the CLI put it back in its input box.

        Returns whether text was taken back (see UnifiedICC.interrupt).
        """
        async with self._lock(record):
            await self.verify_alive(record)
            await self._backend.send_key(record.window_id, provider.interrupt_key)
            self._touched(record)
            typed = self._last_typed.get(record.record_id, "")
            hint = provider.clear_input_hint
            if hint is None or not typed.strip():
                return False
            shown = await self.screen_until(record, lambda s: s.status is not AgentStatus.WORKING)
            if shown is not None and not shown.input_text:
                # Claude stops its spinner first and refills its input box a moment later.
                shown = await self.screen_until(
                    record,
                    lambda s: s.status is not AgentStatus.WORKING and bool(s.input_text),
                    within=self._settings.interrupt_timeout,
                )
            if shown is None or not shown.input_text or not typed.startswith(shown.input_text):
                return False  # nothing came back, or the box holds someone else's text
            await self._backend.send_key(record.window_id, "Escape")
            if not await self.capture_until(record, lambda screen: hint in screen):
                return False
            await self._backend.send_key(record.window_id, "Escape")
            cleared = await self.screen_until(record, lambda s: not s.input_text)
            self._last_typed.pop(record.record_id, None)
            return cleared is not None

    async def answer(self, record: WindowRecord, provider: Provider, choice: int) -> PromptInfo:
        """Pick option ``choice`` of the prompt on screen (see UnifiedICC.answer_prompt)."""
        window_id = record.window_id
        async with self._lock(record):
            await self.verify_alive(record)
            shown = await self._monitor.screens.look_now(record)
            prompt = shown.prompt
            if shown.status is not AgentStatus.PROMPT or prompt is None:
                raise NoPromptError(
                    f"there is no prompt on the screen of window {window_id}; nothing was sent",
                    window_id=window_id,
                )
            valid = tuple(option.number for option in prompt.options)
            if choice not in valid:
                listed = ", ".join(map(str, valid))
                raise InvalidOptionError(
                    f"option {choice} is not on screen; reply with one of {listed}",
                    window_id=window_id,
                    valid=valid,
                )
            await self._backend.send_literal(window_id, provider.option_key(choice))
            self._touched(record)
            await self._await_prompt_gone(record, prompt)
        return prompt

    async def verify_ours(self, record: WindowRecord) -> PaneProbe:
        """Check tmux still shows our record id at that window id (ids are re-used).

        Raises: WindowNotFoundError.
        """
        probe = await self._backend.probe(record.window_id)
        if probe.record_id != record.record_id:
            raise WindowNotFoundError(
                f"window {record.window_id} is no longer the {record.provider} window this "
                "gateway created (tmux was restarted and re-used the id)",
                window_id=record.window_id,
            )
        return probe

    async def verify_alive(self, record: WindowRecord) -> None:
        """Raises: WindowNotFoundError, WindowDeadError (with the exit status when known)."""
        probe = await self.verify_ours(record)
        if record.asleep:
            raise WindowDeadError(
                f"the {record.provider} agent in window {record.window_id} is asleep (stopped "
                "while idle): a message wakes it, or resume it",
                window_id=record.window_id,
                exit_status=record.exit_status,
            )
        if record.dead or probe.dead:
            status = record.exit_status if record.dead else probe.dead_status
            raise WindowDeadError(
                f"the {record.provider} agent in window {record.window_id} has exited"
                + (f" (status {status})" if status is not None else "")
                + "; resume it or start a new session",
                window_id=record.window_id,
                exit_status=status,
            )

    async def _await_input_box(self, record: WindowRecord) -> None:
        """Wait until the agent shows its input box; refuse while a prompt waits for a number.

        A TUI that is still starting discards what is typed, and text typed into a prompt
        could answer it.
        """
        timeout = self._settings.ready_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    shown = await self._monitor.screens.look_now(record)
                    if shown.status is AgentStatus.PROMPT:
                        raise PromptPendingError(
                            f"the agent in window {record.window_id} is waiting for an answer "
                            "to the prompt on its screen; answer it with a number first",
                            window_id=record.window_id,
                        )
                    if shown.status is AgentStatus.IDLE or self._has_been_ready(record):
                        self._ready.add(record.record_id)
                        return
                    await asyncio.sleep(0.1)
        logger.warning("window %s: no input box after %gs; typing anyway",
                       record.window_id, timeout)  # fmt: skip

    def _has_been_ready(self, record: WindowRecord) -> bool:
        # Once ready, a busy agent queues typed text itself (Claude and Codex do).
        return record.record_id in self._ready

    async def _submit(self, record: WindowRecord, provider: Provider, text: str) -> None:
        """Press Enter and see the submission through (slash commands are the CLI's own and
        a shell's input is not confirmed: Enter only)."""
        if text.startswith("/") or record.provider == "shell":
            await self._backend.send_key(record.window_id, "Enter")
        elif "UserPromptSubmit" in provider.hook_events:
            await self._enter_until_hooked(record)
        else:
            await self._enter_until_written(record, text)

    async def _enter_until_hooked(self, record: WindowRecord) -> None:
        """Enter, once more if no UserPromptSubmit hook came within submit_timeout."""
        timeout = self._settings.submit_timeout
        for attempt in (1, 2):
            submitted = self._monitor.expect_submit(record.record_id)
            await self._backend.send_key(record.window_id, "Enter")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await submitted.wait()
                    return
            logger.warning("window %s: no submission seen %.0fs after Enter (attempt %d)",
                           record.window_id, timeout, attempt)  # fmt: skip

    async def _enter_until_written(self, record: WindowRecord, text: str) -> None:
        """A CLI without a submit hook (Gemini): Enter once its box shows the text, then
        again every submit_timeout while the box still holds it, until the message is in its
        transcript, for up to three periods. A busy CLI (Gemini loading a resumed session)
        reads text and Enter in one burst and takes the Enter for part of a paste; Enter on
        text still in the box cannot send it twice. The screen alone cannot tell: mid-redraw
        Gemini's last history line looks like its input box. Enter is never pressed again
        unless the screen is idle (a prompt's panel takes Enter as its answer)."""
        timeout = self._settings.submit_timeout
        submitted = self._monitor.expect_submit(record.record_id)
        await self.screen_until(record, lambda s: holds(s.input_text, text), within=timeout)
        await self._backend.send_key(record.window_id, "Enter")
        for _ in range(_ENTER_CHECKS):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await submitted.wait()
                    return
            shown = await self._monitor.screens.look_now(record)
            if shown.status is AgentStatus.PROMPT:
                return  # it took the message and asks something: Enter would answer that
            if shown.status is AgentStatus.IDLE and holds(shown.input_text, text):
                logger.info("window %s: the text is still in the input box; Enter again",
                            record.window_id)  # fmt: skip
                await self._backend.send_key(record.window_id, "Enter")
        logger.warning("window %s: the message is not in the transcript %gs after Enter",
                       record.window_id, timeout * _ENTER_CHECKS)  # fmt: skip

    def unsent(self, record: WindowRecord, input_text: str) -> bool:
        """Whether an input box showing input_text holds what we typed last, not yet sent."""
        return holds(input_text, self._last_typed.get(record.record_id, ""))

    async def _await_prompt_gone(self, record: WindowRecord, prompt: PromptInfo) -> None:
        def gone(shown: ScreenStatus) -> bool:
            return shown.prompt is None or shown.prompt.raw != prompt.raw

        if await self.screen_until(record, gone) is None:
            raise PromptStuckError(
                f"the prompt in window {record.window_id} is still on screen "
                f"{self._settings.answer_timeout:g}s after the answer; look at the terminal "
                "(#screenshot)",
                window_id=record.window_id,
            )

    async def screen_until(
        self,
        record: WindowRecord,
        wanted: Callable[[ScreenStatus], bool],
        *,
        within: float | None = None,
    ) -> ScreenStatus | None:
        """The first look at the screen that is wanted, within ``within`` seconds (default
        answer_timeout); else None. A query: it takes no lock."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within or self._settings.answer_timeout):
                while True:
                    shown = await self._monitor.screens.look_now(record)
                    if wanted(shown):
                        return shown
                    await asyncio.sleep(0.05)
        return None

    async def capture_until(
        self, record: WindowRecord, wanted: Callable[[str], bool], *, within: float | None = None
    ) -> bool:
        """Whether the pane's text became wanted within ``within`` (answer_timeout)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within or self._settings.answer_timeout):
                while True:
                    if wanted(await self._backend.capture(record.window_id)):
                        return True
                    await asyncio.sleep(0.05)
        return False

    def lock(self, record: WindowRecord) -> asyncio.Lock:
        """The window's keystroke lock (held to stop or restart its agent between keys)."""
        return self._lock(record)

    def _lock(self, record: WindowRecord) -> asyncio.Lock:
        return self._locks.setdefault(record.record_id, asyncio.Lock())

    def _touched(self, record: WindowRecord) -> None:
        """Keys went in: have the monitor look at (and report) the screen soon."""
        self._monitor.screens.flag(record.record_id)
        self._monitor.wake()


def holds(input_text: str, text: str) -> bool:
    """Whether an input box showing input_text (its first line) holds text's beginning."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return bool(first) and input_text.strip().startswith(first[:40])
