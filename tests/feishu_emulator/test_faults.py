"""The documented rate limits and the failure switches, on a fake monotonic clock."""

from __future__ import annotations

from feishu_emulator import Api, Limits, RefuseMode
from feishu_emulator.faults import ApiRateLimit, Faults, ServerError, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_sixth_send_to_one_chat_within_a_second_is_refused() -> None:
    clock = Clock()
    throttle = Throttle(Limits(), monotonic=clock)

    allowed = [throttle.chat_allows("oc_1") for _ in range(6)]
    other_chat = throttle.chat_allows("oc_2")
    clock.now += 1.0
    later = throttle.chat_allows("oc_1")

    assert allowed == [True] * 5 + [False]
    assert other_chat
    assert later


def test_the_api_limit_reports_whole_seconds_to_wait() -> None:
    clock = Clock()
    throttle = Throttle(Limits(api_qps=2), monotonic=clock)

    waits = [throttle.api_wait("cli_1", Api.MESSAGE_CREATE) for _ in range(3)]
    other_api = throttle.api_wait("cli_1", Api.MESSAGE_PATCH)

    assert waits == [0, 0, 1]
    assert other_api == 0


def test_limits_can_be_switched_off() -> None:
    throttle = Throttle(Limits(enforced=False), monotonic=Clock())

    assert all(throttle.patch_allows("om_1") for _ in range(50))


def test_server_errors_are_spent_in_order_and_skip_the_token_unless_named() -> None:
    faults = Faults()
    faults.fail_next(ServerError(status=502, body="json", api=None, times=2))
    faults.fail_next(ServerError(status=500, body="html", api=Api.TENANT_TOKEN, times=1))

    token = faults.take_server_error(Api.TENANT_TOKEN)
    first = faults.take_server_error(Api.MESSAGE_REPLY)
    second = faults.take_server_error(Api.MESSAGE_CREATE)
    third = faults.take_server_error(Api.MESSAGE_CREATE)

    assert token is not None
    assert token.status == 500
    assert [f.status if f else None for f in (first, second, third)] == [502, 502, None]


def test_an_api_rate_limit_for_one_api_leaves_the_others_alone() -> None:
    faults = Faults()
    faults.rate_limit_api(ApiRateLimit(api=Api.MESSAGE_PATCH, times=1, reset_after=2))

    assert faults.take_api_limit(Api.MESSAGE_CREATE) is None
    assert faults.take_api_limit(Api.MESSAGE_PATCH) is not None
    assert faults.take_api_limit(Api.MESSAGE_PATCH) is None


def test_an_endpoint_refusal_ends_after_its_seconds() -> None:
    clock = Clock()
    faults = Faults(monotonic=clock)
    faults.refuse_ws_endpoint(RefuseMode.SYSTEM_BUSY, times=None, seconds=5)

    during = faults.take_endpoint_refusal()
    clock.now += 5
    after = faults.take_endpoint_refusal()

    assert during is RefuseMode.SYSTEM_BUSY
    assert after is None
