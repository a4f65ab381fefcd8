"""智能问答 of the SPA portal: a script-drawn widget asking a JSON API (``/api/chat``).

The same bot and faults as the first portal's 智能客服 (``sandbox/assistant.py``), in the
SPA's own words: the widget is drawn by ``/spa/chat.js`` only when ``/api/chat/widget``
says it is on (``widget_missing`` turns it off), its greeting is fetched when it opens,
and an answer is JSON (``{"code": 0, "data": {"reply": …, "links": […]}}``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.assistant import AssistantFaults, Reply, reply_to, wait_for

GREETING = "您好，我是政务小助手，请问您想办理什么业务？"


def spa_chat_routes(
    faults: AssistantFaults, delay: Callable[[], Awaitable[None]]
) -> list[BaseRoute]:
    """The widget's switch, its greeting and its answers; `delay` is the SPA's API delay."""

    async def widget(request: Request) -> Response:
        return JSONResponse(
            {
                "enabled": not faults.widget_missing,
                "title": "智能问答",
                "labelled": not faults.entry_unlabelled,
            }
        )

    async def welcome(request: Request) -> Response:
        await delay()
        return JSONResponse({"code": 0, "data": {"reply": GREETING}})

    async def ask(request: Request) -> Response:
        data = await request.json()
        question = str(data.get("question", "")).strip() if isinstance(data, dict) else ""
        reply = reply_to(question, faults) if question else Reply(200, "请描述您要办理的事项。")
        await wait_for(reply)
        if reply.status >= 500:
            return JSONResponse({"code": 500, "msg": "服务异常"}, status_code=reply.status)
        links = [{"title": text, "url": f"#/item/{item_id}"} for text, item_id in reply.links]
        return JSONResponse({"code": 0, "data": {"reply": reply.text, "links": links}})

    return [
        Route("/api/chat/widget", widget, methods=["GET"]),
        Route("/api/chat/welcome", welcome, methods=["GET"]),
        Route("/api/chat", ask, methods=["POST"]),
    ]
