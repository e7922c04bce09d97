"""Channel bindings and per-channel settings (pure)."""

from __future__ import annotations

from unified_icc import ChannelId, WindowId
from unified_icc.channel_router import ChannelRouter

A = ChannelId("feishu:app:oc_a")
B = ChannelId("feishu:app:oc_b:omt_1")


def test_channel_router_rebind_moves_channel_to_new_window() -> None:
    router = ChannelRouter()
    router.bind(A, WindowId("@1"))

    previous = router.bind(A, WindowId("@2"))

    assert previous == WindowId("@1")
    assert router.resolve_window(A) == WindowId("@2")
    assert router.channels_for(WindowId("@1")) == ()


def test_channel_router_unbind_window_drops_every_channel_of_it() -> None:
    router = ChannelRouter({A: WindowId("@1"), B: WindowId("@1")})

    assert router.unbind_window(WindowId("@1")) == (A, B)
    assert router.bindings == {}


def test_channel_router_move_window_follows_a_renumbered_window() -> None:
    router = ChannelRouter({A: WindowId("@1")})

    router.move_window(WindowId("@1"), WindowId("@7"))

    assert router.resolve_window(A) == WindowId("@7")


def test_channel_settings_default_and_persist_shape() -> None:
    router = ChannelRouter()

    assert router.setting(A, "verbose", False) is False
    router.set_setting(A, "verbose", True)
    assert router.settings == {A: {"verbose": True}}
