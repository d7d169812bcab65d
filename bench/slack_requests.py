"""Benchmark: N concurrent signed `/access` requests against `accessbot serve`; p50/p99 time to HTTP response.

What Slack times is the HTTP answer to its POST (3 s, or the user sees an error). The bot acks
first and does the work (users.info, the directory, the database, chat.postMessage) after the
answer, so this measures the ack path under a burst.

By default it starts everything itself on this machine: the fake Slack Web API (a separate
process), `accessbot serve --sandbox` on a temporary SQLite database, then fires `--rounds`
bursts of `--concurrency` requests, each from a different user, and waits until the fake Slack
got every approval message (so the work after the ack really happened).

    .venv/bin/python bench/slack_requests.py                 # 5 rounds x 50 concurrent
    .venv/bin/python bench/slack_requests.py --url http://host:3978 --signing-secret ...  # a running bot

With `--url`, the requests carry `response_url`s that point nowhere useful; only the HTTP
answer times are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret-0123456789abcdef"
CONFIG = """
[bot]
timezone = "Europe/Prague"
[defaults]
approval_channel = { slack = "C0APPROVALS" }
[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"
approvers = ["alice@contoso.example", "bob@contoso.example"]
max_duration = "4h"
"""


def signed(body: str, secret: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(user: str, response_url: str) -> str:
    # The shape of Slack's slash command POST (reference/slack/slash_command_payloads.json).
    return urllib.parse.urlencode(
        {
            "token": "verification_token",
            "team_id": "T0FAKE001",
            "team_domain": "fake",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/access",
            "text": "cx 1h benchmark burst",
            "api_app_id": "A0ACCESSBOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{time.time():.6f}.{user}",
        }
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def burst(session: aiohttp.ClientSession, url: str, secret: str, users: list[str], sink: str) -> list[float]:
    async def one(user: str) -> float:
        body = command_body(user, f"{sink}/response/{user}")
        headers = signed(body, secret)
        started = time.perf_counter()
        async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for {user}")
        return time.perf_counter() - started

    return list(await asyncio.gather(*(one(u) for u in users)))


def fake_stats(fake: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{fake}/_bench/stats", timeout=5) as response:
        stats: dict[str, int] = json.loads(response.read())
        return stats


async def run(url: str, secret: str, rounds: int, concurrency: int, fake: str | None) -> dict[str, object]:
    times: list[float] = []
    per_round: list[dict[str, float]] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # One request first, not timed: the first dispatch pays one-time costs (imports inside
        # bolt and SQLAlchemy, compiled statements, the first users.info) that a running bot has behind it.
        warmup = await burst(session, url, secret, ["U99B0000"], fake or url)
        if fake:
            await wait_for_messages(fake, 1)
        gc.collect()
        gc.freeze()  # the client's own collections must not show up as server latency
        for number in range(rounds):
            users = [f"U{number:02d}B{i:04d}" for i in range(concurrency)]
            results = await burst(session, url, secret, users, fake or url)
            times.extend(results)
            per_round.append(
                {"p50_ms": percentile(results, 50) * 1000, "p99_ms": percentile(results, 99) * 1000,
                 "max_ms": max(results) * 1000}
            )  # fmt: skip
            if fake:  # wait until the work after the ack is done before the next burst
                await wait_for_messages(fake, 1 + (number + 1) * concurrency)
    return {
        "warmup_ms": warmup[0] * 1000,
        "requests": len(times),
        "p50_ms": percentile(times, 50) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "max_ms": max(times) * 1000,
        "mean_ms": statistics.fmean(times) * 1000,
        "rounds": per_round,
    }


async def wait_for_messages(fake: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while (await asyncio.to_thread(fake_stats, fake))["approval_messages"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {fake_stats(fake)} after 60 s")
        await asyncio.sleep(0.05)


# ---- the fake Slack, as a separate process ---------------------------------------------------


def serve_fake_slack(port_file: Path, users: int) -> None:
    """Run the tests' fake Slack (plain HTTP) until killed; write its port to `port_file`."""
    sys.path.insert(0, str(ROOT))
    from aiohttp import web

    from tests.fakes.slack_server import FakeSlackServer

    async def main() -> None:
        fake = FakeSlackServer(None, bot_token="xoxb-bench-token-000000000000")
        fake.add_channel("C0APPROVALS")
        fake.add_user("U99B0000", "u99b0000@contoso.example")
        for number in range(100):
            for i in range(users):
                uid = f"U{number:02d}B{i:04d}"
                fake.add_user(uid, f"{uid.lower()}@contoso.example")

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(
                {"approval_messages": len(fake.in_channel("C0APPROVALS")), "calls": len(fake.calls),
                 "violations": len(fake.violations), "responses": len(fake.responses)}
            )  # fmt: skip

        app_builder = fake.build_app

        def build_app() -> web.Application:
            app = app_builder()
            app.router.add_get("/_bench/stats", stats)
            return app

        fake.build_app = build_app  # type: ignore[method-assign]
        await fake.start()
        await asyncio.to_thread(port_file.write_text, str(fake.port))
        await asyncio.Event().wait()

    asyncio.run(main())


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    one, five, _ = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {one:.2f} (1 min), {five:.2f} (5 min) at the end"
    )


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running bot (default: start one with a fake Slack)")
    parser.add_argument("--signing-secret", default=os.environ.get("SLACK_SIGNING_SECRET", SECRET))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--server-log", type=Path, help="keep the started bot's log here")
    parser.add_argument("--serve-fake-slack", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_slack:
        serve_fake_slack(args.serve_fake_slack, args.concurrency)
        return 0
    if args.url:
        result = asyncio.run(run(args.url.rstrip("/"), args.signing_secret, args.rounds, args.concurrency, None))
    else:
        result = run_local(args.rounds, args.concurrency, args.server_log)
    result["machine"] = machine()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"machine: {result['machine']}")
        print(f"{result['requests']} requests in {args.rounds} bursts of {args.concurrency} concurrent")
        print(f"time to HTTP response: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
              f"max {result['max_ms']:.1f} ms, mean {result['mean_ms']:.1f} ms")  # fmt: skip
        for number, item in enumerate(result["rounds"], 1):  # type: ignore[arg-type]
            print(
                f"  burst {number}: p50 {item['p50_ms']:.1f} ms, p99 {item['p99_ms']:.1f} ms, "
                f"max {item['max_ms']:.1f} ms"
            )
    return 0


def run_local(rounds: int, concurrency: int, server_log: Path | None = None) -> dict[str, object]:
    exe = Path(sys.executable).with_name("accessbot")
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        work = Path(tmp)
        port_file = work / "fake-slack.port"
        fake = subprocess.Popen(
            [sys.executable, __file__, "--serve-fake-slack", str(port_file), "--concurrency", str(concurrency)],
            cwd=ROOT,
        )
        bot: subprocess.Popen[bytes] | None = None
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or fake.poll() is not None:
                    raise RuntimeError("the fake Slack did not start")
                time.sleep(0.05)
            fake_url = f"http://127.0.0.1:{port_file.read_text()}"
            (work / "accessbot.toml").write_text(CONFIG)
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AZURE_", "CLOUDFLARE_"))}
            env.update(
                ACCESSBOT_CONFIG=str(work / "accessbot.toml"),
                DATABASE_URL=f"sqlite+aiosqlite:///{work / 'accessbot.db'}",
                SLACK_BOT_TOKEN="xoxb-bench-token-000000000000",
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=f"{fake_url}/api/",
                LOG_LEVEL="WARNING",
            )
            log = (server_log or work / "serve.log").open("wb")
            bot = subprocess.Popen(
                [str(exe), "serve", "--sandbox", "--host", "127.0.0.1", "--port", str(port)],
                cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            wait_http(f"http://127.0.0.1:{port}/healthz")
            result = asyncio.run(run(f"http://127.0.0.1:{port}", SECRET, rounds, concurrency, fake_url))
            stats = fake_stats(fake_url)
            result["fake_slack"] = stats
            if stats["violations"]:
                raise RuntimeError(f"the fake Slack recorded {stats['violations']} violations")
            return result
        finally:
            for process in (bot, fake):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(timeout=15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
