"""``govpatrol user …``: console accounts from a shell.

Passwords are never command-line arguments (they would sit in the shell history and in
``ps``): they come from a prompt, from ``--password-file`` or from the
``GOVPATROL_USER_PASSWORD`` environment variable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy import select

from bot.commands import services_from
from bot.console.accounts import (
    DEFAULT_TOKEN_LIFETIME,
    AccountError,
    ConsoleUser,
    Role,
    account_tokens,
    add_user,
    disable_user,
    enable_user,
    issue_token,
    revoke_token,
    set_password,
)
from bot.task_commands import table

PASSWORD_ENV = "GOVPATROL_USER_PASSWORD"  # noqa: S105 - a variable name
MAX_TOKEN_DAYS = 3650


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="console accounts (supervisors, operators)")
    actions = user.add_subparsers(metavar="ACTION")

    add = actions.add_parser("add", help="create an account", allow_abbrev=False)
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--unit", help="limit the account to this unit and the units below it")
    add.add_argument(
        "--password-file", type=Path, help=f"read the password (or set {PASSWORD_ENV})"
    )
    add.set_defaults(handler=user_add)

    password = actions.add_parser(
        "password", help="set a new password; ends its sessions and tokens", allow_abbrev=False
    )
    password.add_argument("name")
    password.add_argument("--password-file", type=Path)
    password.set_defaults(handler=user_password)
    for parser in (add, password):
        parser.add_argument("--password", nargs="?", action=RefusedPassword, help=argparse.SUPPRESS)

    listing = actions.add_parser("list", help="list accounts")
    listing.set_defaults(handler=user_list)

    disable = actions.add_parser("disable", help="disable an account, its sessions and tokens")
    disable.add_argument("name")
    disable.set_defaults(handler=user_disable)

    enable = actions.add_parser("enable", help="let a disabled account sign in again")
    enable.add_argument("name")
    enable.set_defaults(handler=user_enable)

    token = actions.add_parser(
        "token",
        help="create an API bearer token (shown once); --list or --revoke TOKEN_NAME",
        allow_abbrev=False,
    )
    token.add_argument("name", help="the account")
    what = token.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the account's tokens")
    what.add_argument("--revoke", metavar="TOKEN_NAME", help="revoke one token by its name")
    token.add_argument(
        "--name", dest="token_name", default="", help="the new token's name (default token-N)"
    )
    token.add_argument(
        "--days",
        type=int,
        default=DEFAULT_TOKEN_LIFETIME.days,
        help=f"days it is valid (default {DEFAULT_TOKEN_LIFETIME.days}; 0: until revoked)",
    )
    token.set_defaults(handler=user_token)


class RefusedPassword(argparse.Action):
    """``--password`` is refused without echoing what followed it."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.exit(2, f"密码不能作为参数传入：请用 --password-file 或环境变量 {PASSWORD_ENV}\n")


def read_password(path: Path | None) -> str:
    """The password from the file, the environment or a prompt (asked twice)."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AccountError(f"无法读取密码文件（{exc.strerror}）") from None
        return lines[0] if lines else ""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise AccountError(f"请用 --password-file 或环境变量 {PASSWORD_ENV} 提供密码")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise AccountError("两次输入的密码不一致")
    return first


def user_add(args: argparse.Namespace) -> int:
    services = services_from(args)
    role = Role(args.role)
    if args.unit:
        try:
            services.catalog.unit(args.unit)
        except KeyError:
            print(f"目录中没有责任单位 {args.unit!r}", file=sys.stderr)
            return 1
    try:
        password = read_password(args.password_file)
        with services.sessions.begin() as session:
            add_user(session, args.name, role, password, services.clock.now(), args.unit)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    scope = f"，限 {args.unit} 及下级单位" if args.unit else ""
    print(f"已创建{role.label}账号 {args.name}{scope}")
    return 0


def user_password(args: argparse.Namespace) -> int:
    services = services_from(args)
    try:
        password = read_password(args.password_file)
        with services.sessions.begin() as session:
            revoked = set_password(session, args.name, password)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已重设 {args.name} 的密码，原有登录已失效，吊销 API 令牌 {revoked} 个")
    return 0


def user_list(args: argparse.Namespace) -> int:
    services = services_from(args)
    with services.sessions() as session:
        users = session.scalars(select(ConsoleUser).order_by(ConsoleUser.name)).all()
        rows = [
            [
                user.name,
                Role(user.role).label,
                user.unit_code or "全部",
                "已停用" if user.disabled else "启用",
                user.created_at.astimezone(services.zone).strftime("%Y-%m-%d %H:%M"),
            ]
            for user in users
        ]
    if not rows:
        print("还没有账号；用 govpatrol user add NAME --role supervisor 创建")
        return 0
    print(table(("用户名", "角色", "单位范围", "状态", "创建时间"), rows))
    return 0


def user_disable(args: argparse.Namespace) -> int:
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            disable_user(session, args.name)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已停用 {args.name}，其登录与 API 令牌立即失效")
    return 0


def user_enable(args: argparse.Namespace) -> int:
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            enable_user(session, args.name)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已启用 {args.name}，可用原密码登录；停用时吊销的 API 令牌不会恢复")
    return 0


def user_token(args: argparse.Namespace) -> int:
    if args.list:
        return token_list(args)
    services = services_from(args)
    if not 0 <= args.days <= MAX_TOKEN_DAYS:
        print(f"--days 应在 0 到 {MAX_TOKEN_DAYS} 之间", file=sys.stderr)
        return 2
    lifetime = dt.timedelta(days=args.days) if args.days else None
    try:
        with services.sessions.begin() as session:
            if args.revoke:
                revoke_token(session, args.name, args.revoke)
            else:
                token = issue_token(
                    session, args.name, services.clock.now(), args.token_name, lifetime
                )
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.revoke:
        print(f"已吊销 {args.name} 的令牌 {args.revoke}，立即失效")
        return 0
    until = f"{args.days} 天内有效" if lifetime else "吊销前一直有效"
    print(f"{args.name} 的 API 令牌（{until}；只显示这一次，请妥善保存）：", file=sys.stderr)
    print(token)
    return 0


def token_list(args: argparse.Namespace) -> int:
    """The account's tokens: name, made, expiry and whether it still works (never the token:
    only its digest is kept)."""
    services = services_from(args)
    now = services.clock.now()

    def local(moment: dt.datetime) -> str:
        return moment.astimezone(services.zone).strftime("%Y-%m-%d %H:%M")

    try:
        with services.sessions() as session:
            rows = [
                [
                    token.name,
                    local(token.created_at),
                    local(token.expires_at) if token.expires_at else "不过期",
                    "已过期" if token.expires_at and token.expires_at <= now else "有效",
                ]
                for token in account_tokens(session, args.name)
            ]
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not rows:
        print(f"{args.name} 没有 API 令牌")
        return 0
    print(table(("令牌名称", "创建时间", "到期时间", "状态"), rows))
    return 0
