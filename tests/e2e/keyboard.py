"""Keyboard-only helpers for browser tests: move the focus with Tab, as a person would."""


def tab_to(page, selector: str, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until the element `selector` (Playwright's) has the focus.

    Fails when it is not reached within `limit` presses: the control is not in the tab
    order (or is hidden from it), which is what these tests are for.
    """
    key = "Shift+Tab" if backwards else "Tab"
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} was not reached with {limit} presses of {key}")


def focus_is_visible(page) -> bool:
    """The focused element shows a focus indicator: an outline or a box shadow."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
               || s.boxShadow !== 'none'; }"""
    )
