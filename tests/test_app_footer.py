"""The footer ends cleanly at every width: the palette key, docked right, covers the
last column, so no letter of the keys beneath it shows through ("palettet")."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.registry import MODES

from .app_support import make_app, settle


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_palette_key_covers_the_footer_to_its_last_column(demo_spec: LaunchSpec,
                                                                   size: tuple[int, int]) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for mode in MODES:
            await pilot.press(mode.key)
            await settle(pilot)
            key = app.screen.query_one("FooterKey.-command-palette", FooterKey)
            assert key.region.right == size[0], (mode.name, key.region)
            strip = app.screen._compositor.render_strips()[size[1] - 1]
            assert strip.text.rstrip().endswith("^p palette"), (mode.name, strip.text)
