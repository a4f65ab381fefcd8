"""用户注册 of the sandbox portal: 个人 and 法人 registration, 获取验证码, the test SIM inbox,
login and account cancellation (注销账号).

Pages: /register (choose a form), /register/personal, /register/legal, /register/captcha.svg,
POST /register/sms-code (JSON, what the form's 获取验证码 calls), /user/login, /user,
/user/cancel. The SMS gateway of the test SIMs answers at /__sandbox/sms/inbox behind a
bearer token (outside the portal's own faults: it is the monitor's equipment).

Mount it with ``desk = RegistrationDesk()`` and ``areas=[registration_area(desk)]``; the
desk holds the faults (also at /__sandbox/faults/registration), the SMS inbox and the
accounts. A test environment honours a CAPTCHA bypass token sent as the
``X-Captcha-Bypass`` header, the ``captcha_bypass`` cookie, or the ``captcha_bypass`` query
parameter (which sets the cookie), so a monitor can reach 获取验证码 behind a CAPTCHA.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.layout import render, render_bare
from sandbox.registration_state import (
    BYPASS_TOKEN,
    FORM_KINDS,
    SMS_TOKEN,
    Account,
    RegistrationDesk,
    RegistrationFaults,
    captcha_svg,
)
from sandbox.site import SiteArea

__all__ = [
    "BYPASS_HEADER",
    "BYPASS_NAME",
    "BYPASS_TOKEN",
    "SMS_INBOX_PATH",
    "SMS_TOKEN",
    "RegistrationDesk",
    "registration_area",
]

AREA_NAME = "registration"
SMS_INBOX_PATH = "/__sandbox/sms/inbox"
BYPASS_HEADER = "X-Captcha-Bypass"
BYPASS_NAME = "captcha_bypass"
SESSION_COOKIE = "SFREGSID"
USER_COOKIE = "SFUSERSID"
MAX_INBOX_WAIT_S = 30.0

FORM_TITLES = {"personal": "个人用户注册", "legal": "法人用户注册"}
KIND_LABELS = {"personal": "个人用户", "legal": "法人用户"}
_FIELDS = ("name", "id_number", "org_name", "credit_code", "legal_rep", "mobile")
_REQUIRED = {
    "personal": ("name", "id_number"),
    "legal": ("org_name", "credit_code", "legal_rep", "name", "id_number"),
}
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_CAPTCHA_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def registration_area(desk: RegistrationDesk) -> SiteArea:
    """The 用户注册 area to mount on the portal (``areas=[registration_area(desk)]``),
    healthy unless ``desk.faults`` says otherwise."""
    return SiteArea(AREA_NAME, registration_routes(desk), desk.faults)


def registration_routes(desk: RegistrationDesk) -> list[BaseRoute]:
    """Every route of the area, bound to ``desk``."""
    pages = _Pages(desk)
    return [
        Route("/register", pages.index, methods=["GET"]),
        Route("/register/captcha.svg", pages.captcha_image, methods=["GET"]),
        Route("/register/sms-code", pages.request_code, methods=["POST"]),
        Route("/register/{kind}", pages.form, methods=["GET"]),
        Route("/register/{kind}", pages.submit, methods=["POST"]),
        Route("/user/login", pages.login_form, methods=["GET"]),
        Route("/user/login", pages.login, methods=["POST"]),
        Route("/user", pages.account, methods=["GET"]),
        Route("/user/cancel", pages.cancel, methods=["POST"]),
        Route("/user/logout", pages.logout, methods=["GET"]),
        Route(SMS_INBOX_PATH, pages.sms_inbox, methods=["GET"]),
    ]


class _Pages:
    def __init__(self, desk: RegistrationDesk) -> None:
        self.desk = desk

    # -- registration ---------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        faults = self.desk.faults.to_dict()
        if faults["register_down"] and set(faults["affected_forms"]) >= set(FORM_KINDS):
            return _server_error()
        return render(request, "register_index.html")

    async def form(self, request: Request) -> Response:
        kind = _kind_or_404(request)
        faults = self.desk.faults.for_form(kind)
        if faults.register_down:
            return _server_error()
        response = self._render_form(request, kind, faults, {}, "")
        return self._with_session(request, response)

    async def submit(self, request: Request) -> Response:
        kind = _kind_or_404(request)
        faults = self.desk.faults.for_form(kind)
        if faults.register_down:
            return _server_error()
        posted = await request.form()
        values = {name: str(posted.get(name, "")).strip() for name in _FIELDS}
        error = self._registration_error(kind, faults, values, posted)
        if error:
            return self._render_form(request, kind, faults, values, error)
        password = str(posted.get("password", ""))
        account = Account(
            kind=kind,
            phone=values["mobile"],
            name=values["name"],
            password_digest=self.desk.accounts.digest(password),
            details={k: v for k, v in values.items() if k not in ("mobile", "name")},
        )
        if not self.desk.accounts.add(account):
            message = "该手机号码已注册，请直接登录"
            return self._render_form(request, kind, faults, values, message)
        return render(
            request,
            "register_result.html",
            {
                "ok": True,
                "crumb": "用户注册",
                "heading": "注册成功",
                "message": f"恭喜您，{KIND_LABELS[kind]}账号注册成功！请使用手机号码和密码登录。",
                "actions": [("立即登录", "/user/login"), ("返回首页", "/")],
            },
        )

    def _registration_error(
        self, kind: str, faults: RegistrationFaults, values: dict[str, str], posted: Any
    ) -> str:
        if faults.register_refused:
            return "系统繁忙，注册失败，请稍后再试"
        labels = {
            "name": "姓名",
            "id_number": "证件号码",
            "org_name": "单位名称",
            "credit_code": "统一社会信用代码",
            "legal_rep": "法定代表人姓名",
        }
        for name in _REQUIRED[kind]:
            if not values[name]:
                return f"请填写{labels[name]}"
        if not _ID_NUMBER.match(values["id_number"]):
            return "证件号码格式不正确"
        if kind == "legal" and not _CREDIT_CODE.match(values["credit_code"].upper()):
            return "统一社会信用代码格式不正确"
        if not re.match(faults.phone_regex(), values["mobile"]):
            return "手机号格式不对"
        if not self.desk.take_code(kind, values["mobile"], str(posted.get("sms_code", ""))):
            return "短信验证码错误或已失效，请重新获取"
        password = str(posted.get("password", ""))
        if not (
            8 <= len(password) <= 20
            and re.search(r"[A-Za-z]", password)
            and re.search(r"\d", password)
        ):
            return "密码须为8-20位，且同时包含字母和数字"
        if password != str(posted.get("password2", "")):
            return "两次输入的密码不一致"
        if not posted.get("agree"):
            return "请阅读并同意《用户服务协议》和《隐私政策》"
        return ""

    def _render_form(
        self,
        request: Request,
        kind: str,
        faults: RegistrationFaults,
        values: dict[str, str],
        error: str,
    ) -> Response:
        captcha = "" if self._bypassed(request) else faults.captcha
        response = render(
            request,
            "register_form.html",
            {
                "kind": kind,
                "form_title": FORM_TITLES[kind],
                "phone_label": "经办人手机号码" if kind == "legal" else "手机号码",
                "phone_pattern": faults.phone_regex(),
                "captcha": captcha,
                "unlabelled": faults.form_unlabelled,
                "values": {name: values.get(name, "") for name in _FIELDS},
                "error": error,
            },
        )
        if request.query_params.get(BYPASS_NAME) == self.desk.bypass_token:
            response.set_cookie(BYPASS_NAME, self.desk.bypass_token, httponly=True)
        return response

    async def request_code(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return JSONResponse({"code": 400, "msg": "请求格式错误"}, status_code=400)
        kind = str(payload.get("kind", ""))
        phone = str(payload.get("mobile", "")).strip()
        if kind not in FORM_KINDS:
            return JSONResponse({"code": 400, "msg": "注册类型错误"}, status_code=400)
        faults = self.desk.faults.for_form(kind)
        if not re.match(faults.phone_regex(), phone):
            return JSONResponse({"code": 1001, "msg": "手机号格式不对"})
        if faults.captcha and not self._bypassed(request):
            answer = self.desk.sessions.get(request.cookies.get(SESSION_COOKIE), "captcha")
            if faults.captcha == "slider" and payload.get("slider") != "passed":
                return JSONResponse({"code": 1002, "msg": "请先完成滑块安全验证"})
            if faults.captcha == "graphic" and (
                answer is None or str(payload.get("captcha", "")).upper() != answer
            ):
                return JSONResponse({"code": 1003, "msg": "图形验证码错误"})
        if phone[:3] in faults.code_rejected_segments:
            return JSONResponse({"code": 1004, "msg": "暂不支持该号段，请更换手机号码"})
        if faults.code_request_throttled:
            return JSONResponse({"code": 4290, "msg": "操作过于频繁，请稍后再试"})
        if faults.code_request_refused:
            return JSONResponse({"code": 5001, "msg": "短信发送失败，请稍后再试"})
        code = self.desk.issue_code(kind, phone)
        if not faults.sms_not_sent:
            text = (
                f"【示范省政务服务网】您正在注册{KIND_LABELS[kind]}，验证码为：{code}，"
                "5分钟内有效。请勿将验证码告知他人。"
            )
            self._send_sms(phone, text, faults.sms_delay_ms)
        return JSONResponse({"code": 0, "msg": "验证码已发送，请注意查收"})

    def _send_sms(self, phone: str, text: str, delay_ms: int) -> None:
        if delay_ms <= 0:
            self.desk.sms.deliver(phone, text)
            return
        asyncio.get_running_loop().call_later(delay_ms / 1000, self.desk.sms.deliver, phone, text)

    async def captcha_image(self, request: Request) -> Response:
        text = "".join(random.choice(_CAPTCHA_CHARS) for _ in range(4))
        response = Response(
            captcha_svg(text), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )
        sid = request.cookies.get(SESSION_COOKIE)
        if sid is None:
            sid = self.desk.sessions.new()
            response.set_cookie(SESSION_COOKIE, sid, httponly=True)
        self.desk.sessions.put(sid, "captcha", text)
        return response

    def _bypassed(self, request: Request) -> bool:
        token = self.desk.bypass_token
        offered = (
            request.headers.get(BYPASS_HEADER),
            request.cookies.get(BYPASS_NAME),
            request.query_params.get(BYPASS_NAME),
        )
        return any(value is not None and secrets.compare_digest(value, token) for value in offered)

    def _with_session(self, request: Request, response: Response) -> Response:
        if request.cookies.get(SESSION_COOKIE) is None:
            response.set_cookie(SESSION_COOKIE, self.desk.sessions.new(), httponly=True)
        return response

    # -- login, account, cancellation ----------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        kind = request.query_params.get("kind", "personal")
        return render(request, "register_login.html", {"error": "", "kind": kind, "mobile": ""})

    async def login(self, request: Request) -> Response:
        posted = await request.form()
        kind = str(posted.get("kind", "personal"))
        phone = str(posted.get("mobile", "")).strip()
        account = self.desk.accounts.check(kind, phone, str(posted.get("password", "")))
        if account is None:
            context = {"error": "手机号码或密码错误", "kind": kind, "mobile": phone}
            return render(request, "register_login.html", context)
        sid = self.desk.sessions.new()
        self.desk.sessions.put(sid, "user", f"{kind}:{phone}")
        response = RedirectResponse("/user", status_code=303)
        response.set_cookie(USER_COOKIE, sid, httponly=True)
        return response

    def _logged_in(self, request: Request) -> Account | None:
        who = self.desk.sessions.get(request.cookies.get(USER_COOKIE), "user")
        if who is None:
            return None
        kind, _, phone = who.partition(":")
        return self.desk.accounts.find(kind, phone)

    async def account(self, request: Request) -> Response:
        account = self._logged_in(request)
        if account is None:
            return RedirectResponse("/user/login", status_code=303)
        return render(
            request,
            "register_account.html",
            {
                "account": account,
                "kind_label": KIND_LABELS[account.kind],
                "masked_phone": f"{account.phone[:3]}****{account.phone[-4:]}",
            },
        )

    async def cancel(self, request: Request) -> Response:
        account = self._logged_in(request)
        if account is None:
            return RedirectResponse("/user/login", status_code=303)
        self.desk.accounts.remove(account.kind, account.phone)
        self.desk.sessions.drop(request.cookies.get(USER_COOKIE), "user")
        response = render(
            request,
            "register_result.html",
            {
                "ok": True,
                "crumb": "用户中心",
                "heading": "账号已注销",
                "message": "您的账号已注销成功，该手机号码可重新注册。",
                "actions": [("返回首页", "/")],
            },
        )
        response.delete_cookie(USER_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        self.desk.sessions.drop(request.cookies.get(USER_COOKIE), "user")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(USER_COOKIE)
        return response

    # -- the test SIM gateway ------------------------------------------------------------

    async def sms_inbox(self, request: Request) -> Response:
        if self.desk.faults.to_dict()["sms_inbox_down"]:
            return JSONResponse({"error": "gateway unavailable"}, status_code=503)
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(offered, self.desk.sms_token):
            return JSONResponse({"error": "invalid token"}, status_code=401)
        if self.desk.faults.to_dict()["sms_gateway_shape"] == "records":
            return self._records(request)
        phone = request.query_params.get("phone", "")
        try:
            since = dt.datetime.fromtimestamp(float(request.query_params.get("since", "0")), dt.UTC)
            wait_s = min(float(request.query_params.get("wait", "0")), MAX_INBOX_WAIT_S)
        except ValueError:
            return JSONResponse({"error": "since and wait are numbers of seconds"}, 400)
        messages = await self.desk.sms.wait(phone, since, max(wait_s, 0.0))
        return JSONResponse({"messages": [m.as_dict() for m in messages]})

    def _records(self, request: Request) -> Response:
        """Another vendor's gateway: other names, milliseconds in, Beijing time out."""
        phone = request.query_params.get("mobile", "")
        try:
            start = int(request.query_params.get("start", "0")) / 1000
        except ValueError:
            return JSONResponse({"code": 400, "msg": "start is milliseconds"}, 400)
        since = dt.datetime.fromtimestamp(start, dt.UTC)
        beijing = dt.timezone(dt.timedelta(hours=8))
        records = [
            {
                "msgId": sms.id,
                "mobile": sms.phone,
                "content": sms.text,
                "recvTime": sms.received_at.astimezone(beijing).strftime("%Y-%m-%d %H:%M:%S"),
            }
            for sms in self.desk.sms.received(phone, since)
        ]
        return JSONResponse({"code": 0, "data": {"records": records}})


def _kind_or_404(request: Request) -> str:
    from starlette.exceptions import HTTPException

    kind = str(request.path_params["kind"])
    if kind not in FORM_KINDS:
        raise HTTPException(status_code=404)
    return kind


def _server_error() -> Response:
    return HTMLResponse(render_bare("register_500.html"), status_code=500)
