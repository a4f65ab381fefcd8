"""``govpatrol user …``: console accounts from a shell.

Passwords are never command-line arguments (they would sit in the shell history and in
``ps``): they come from a prompt, from ``--password-file`` or from the
``GOVPATROL_USER_PASSWORD`` environment variable.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy import select

from bot.commands import services_from
from bot.console.accounts import (
    AccountError,
    ConsoleUser,
    Role,
    add_user,
    disable_user,
    issue_token,
    set_password,
)
from bot.task_commands import table

PASSWORD_ENV = "GOVPATROL_USER_PASSWORD"  # noqa: S105 - a variable name


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
        "password", help="set a new password; ends its sessions", allow_abbrev=False
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

    token = actions.add_parser("token", help="create an API bearer token (shown once)")
    token.add_argument("name")
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
            set_password(session, args.name, password)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已重设 {args.name} 的密码，原有登录已失效")
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


def user_token(args: argparse.Namespace) -> int:
    services = services_from(args)
    try:
        with services.sessions.begin() as session:
            token = issue_token(session, args.name, services.clock.now())
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.name} 的 API 令牌（只显示这一次，请妥善保存）：", file=sys.stderr)
    print(token)
    return 0
