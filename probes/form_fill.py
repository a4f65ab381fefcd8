"""Required form fields a probe does not know, filled from the catalog (``params.fill``).

``fill: {所属部门: 省市场监督管理局, "#agree": "true"}`` — a key is a field's label (as
printed next to it) or a CSS selector; a value is the option to choose in a select (its
text or value), ``true``/``false`` for a checkbox, or the text to type. Fields that are
required, visible and still empty when the probe is about to submit are named by
`unfilled_required`, so a run can say which setting would help instead of blaming the unit
for the refusal that follows.
"""

from __future__ import annotations

from collections.abc import Mapping

from playwright.async_api import Locator, Page

from probes.locate import first_visible

_CSS_HINT = ("#", ".", "[", ":", ">", "=")
_TRUE = frozenset({"true", "1", "yes", "on", "是", "勾选"})

# Visible required fields still empty, named by their label: selects without a choice,
# unticked required checkboxes, empty required inputs. Runs in the page: one round trip.
_UNFILLED_JS = r"""
(root) => {
  const scope = (root && document.querySelector(root)) || document;
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => {
    const label = (el.labels && el.labels[0]) || el.closest('label');
    return ((label && label.innerText) || el.getAttribute('aria-label')
      || el.getAttribute('placeholder') || el.name || el.id || '').replace(/[\s*：:]+/g, '');
  };
  const out = [];
  for (const el of scope.querySelectorAll('select, input, textarea')) {
    const required = el.required || el.getAttribute('aria-required') === 'true';
    if (!required || !visible(el) || el.disabled) continue;
    const empty = el.type === 'checkbox' || el.type === 'radio' ? !el.checked : !el.value;
    if (empty) out.push(named(el));
  }
  return out;
}
"""


async def fill_fields(page: Page, fill: Mapping[str, str]) -> list[str]:
    """Fill each configured field; the keys that matched no visible field."""
    unmatched = []
    for key, value in fill.items():
        field = await _field(page, key)
        if field is None:
            unmatched.append(key)
            continue
        await _set(field, value)
    return unmatched


async def unfilled_required(page: Page, root: str | None = None) -> list[str]:
    """Labels of the visible required fields still empty (within ``root``, a CSS selector)."""
    found: list[str] = await page.evaluate(_UNFILLED_JS, root)
    return [name for name in found if name]


async def _field(page: Page, key: str) -> Locator | None:
    candidates = [page.get_by_label(key, exact=False)]
    if key.startswith(_CSS_HINT) or " " in key:
        candidates.insert(0, page.locator(key))
    return await first_visible(candidates)


async def _set(field: Locator, value: str) -> None:
    tag, kind = await field.evaluate("(e) => [e.tagName, (e.type || '').toLowerCase()]")
    if tag == "SELECT":
        options = await field.locator("option").evaluate_all(
            "(os) => os.map((o) => [o.value, o.innerText.trim()])"
        )
        chosen = next((v for v, text in options if value in (v, text)), None)
        chosen = chosen or next((v for v, text in options if value in text), value)
        await field.select_option(value=chosen)
    elif kind in ("checkbox", "radio"):
        await field.set_checked(value.strip().lower() in _TRUE)
    else:
        await field.fill(value)
