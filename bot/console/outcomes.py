"""What a console form did, carried to the page it redirects to.

Outcomes travel in the redirect signed, so a crafted link cannot show a false "done".
"""

from __future__ import annotations

from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer


class SignedOutcomes:
    def __init__(self, signing_key: str, salt: str) -> None:
        self._serializer = URLSafeSerializer(signing_key, salt=salt)

    def redirect(self, url: str, *, done: str = "", error: str = "") -> RedirectResponse:
        """303 to ``url`` with the outcome appended as ``msg``."""
        message = self._serializer.dumps({"done": done, "error": error})
        joiner = "&" if "?" in url else "?"
        return RedirectResponse(f"{url}{joiner}msg={message}", status_code=303)

    def shown(self, msg: str) -> dict[str, str]:
        """The outcome in ``msg``; nothing when it is missing or not ours."""
        try:
            shown: dict[str, str] = self._serializer.loads(msg) if msg else {}
        except BadSignature:
            shown = {}
        return shown
