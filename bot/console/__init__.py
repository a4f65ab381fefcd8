"""The supervisor console (督办台): server-rendered pages under /console, exports, the
read-only JSON API under /api and /metrics, all behind console accounts.

``bot.console.app.mount_console`` adds them to the web app. This package file stays
empty so that the migrations can import ``bot.console.accounts`` without the web stack.
"""
