"""新用户注册 of the single-page portal: the JSON APIs its register view calls.

The same desk (faults, test SIM inbox, accounts, codes) as the first portal's 用户注册, with
wording of its own wherever a probe reads text: the rules the view validates with (and the
CAPTCHA it shows), the blur-time phone check, 获取短信验证码 and 立即注册.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.registration import BYPASS_HEADER, BYPASS_NAME
from sandbox.registration_state import FORM_KINDS, Account, RegistrationDesk
from sandbox.spa.faults import SpaFaults

_PHONE = re.compile(r"^1[3-9]\d{9}$")
KIND_NAMES = {"personal": "个人", "legal": "法人"}


def spa_registration_routes(
    desk: RegistrationDesk, spa: SpaFaults, delay: Callable[[], Awaitable[None]]
) -> list[BaseRoute]:
    """The register view's APIs, bound to ``desk``; each answer waits ``delay()``."""

    def bypassed(request: Request) -> bool:
        offered = (request.headers.get(BYPASS_HEADER), request.cookies.get(BYPASS_NAME))
        return any(v is not None and secrets.compare_digest(v, desk.bypass_token) for v in offered)

    async def rules(request: Request) -> Response:
        await delay()
        faults = desk.faults.for_form(request.query_params.get("kind", "personal"))
        captcha = "" if bypassed(request) else faults.captcha
        return JSONResponse(
            {"pattern": faults.phone_regex(), "captcha": captcha, "silent": spa.blur_check_silent}
        )

    async def phone_check(request: Request) -> Response:
        # The availability check many portals make when the phone field is left.
        await delay()
        phone = str((await request.json()).get("phone", ""))
        if not _PHONE.match(phone) or phone[:3] in spa.server_rejected_segments:
            return JSONResponse({"ok": False, "msg": "该手机号码不正确，请重新输入"})
        return JSONResponse({"ok": True, "msg": ""})

    async def send_code(request: Request) -> Response:
        await delay()
        data: dict[str, Any] = await request.json()
        kind, phone = str(data.get("kind", "")), str(data.get("mobile", "")).strip()
        if kind not in FORM_KINDS:
            return JSONResponse({"status": "error", "message": "注册类型有误"}, status_code=400)
        faults = desk.faults.for_form(kind)
        if not re.match(faults.phone_regex(), phone):
            return JSONResponse({"status": "error", "message": "请填写正确的手机号码"})
        if faults.captcha and not bypassed(request) and data.get("verified") is not True:
            return JSONResponse({"status": "error", "message": "请先向右滑动完成安全验证"})
        if phone[:3] in faults.code_rejected_segments:
            return JSONResponse({"status": "error", "message": "该号码无效，无法发送验证码"})
        if faults.code_request_throttled:
            return JSONResponse({"status": "error", "message": "获取次数过多，请1分钟后重试"})
        if faults.code_request_refused:
            return JSONResponse({"status": "error", "message": "验证码下发失败，请稍候重试"})
        code = desk.issue_code(kind, phone)
        if not faults.sms_not_sent:
            text = (
                f"【示范省一体化政务服务平台】您的{KIND_NAMES[kind]}用户注册校验码是{code}，"
                "5分钟内有效，请勿泄露。"
            )
            _deliver(desk, phone, text, faults.sms_delay_ms)
        return JSONResponse({"status": "ok", "message": "短信验证码已下发，5分钟内有效"})

    async def register(request: Request) -> Response:
        await delay()
        data: dict[str, Any] = await request.json()
        kind, phone = str(data.get("kind", "")), str(data.get("mobile", "")).strip()
        if kind not in FORM_KINDS:
            return JSONResponse({"status": "error", "message": "注册类型有误"}, status_code=400)
        faults = desk.faults.for_form(kind)
        if faults.register_refused:
            return JSONResponse({"status": "error", "message": "注册服务异常，账号未能创建"})
        if not re.match(faults.phone_regex(), phone):
            return JSONResponse({"status": "error", "message": "请填写正确的手机号码"})
        if not desk.take_code(kind, phone, str(data.get("code", ""))):
            return JSONResponse({"status": "error", "message": "短信校验码不正确或已过期"})
        password = str(data.get("password", ""))
        account = Account(kind, phone, phone, desk.accounts.digest(password), {})
        if len(password) < 8:
            return JSONResponse({"status": "error", "message": "密码长度至少8位"})
        if not desk.accounts.add(account):
            return JSONResponse({"status": "error", "message": "该号码已存在账号，请直接登录"})
        return JSONResponse({"status": "ok", "message": "恭喜，账号创建成功"})

    return [
        Route("/api/register/rules", rules, methods=["GET"]),
        Route("/api/register/phone-check", phone_check, methods=["POST"]),
        Route("/api/register/sms", send_code, methods=["POST"]),
        Route("/api/register", register, methods=["POST"]),
    ]


def _deliver(desk: RegistrationDesk, phone: str, text: str, delay_ms: int) -> None:
    if delay_ms <= 0:
        desk.sms.deliver(phone, text)
        return
    asyncio.get_running_loop().call_later(delay_ms / 1000, desk.sms.deliver, phone, text)
