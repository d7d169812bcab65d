"""`accessbot`: the command line (typer). Each command loads settings and configuration, builds the
runtime in the composition root (`bot.runtime`), and runs one async entry point."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bot.audit_tools import ExportFormat, TrailCheck, verify_trail
from bot.config import AppConfig, load_config
from bot.logs import configure_logging
from bot.settings import Settings
from workflows.errors import AccessError, ConfigError
from workflows.model import LIVE_GRANT_STATES, Actor, Grant, GrantState, Surface

app = typer.Typer(help="accessbot: just-in-time access to customer networks (Entra ID groups + Cloudflare One).",
                  no_args_is_help=True, add_completion=False)  # fmt: skip
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML configuration (default: $ACCESSBOT_CONFIG or accessbot.toml)"),
]
SandboxOption = Annotated[
    bool, typer.Option("--sandbox", help="Simulate Entra ID and Cloudflare in-process (never for real access).")
]


def main() -> None:
    """Console-script entry point."""
    app()


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _load(config_path: Path | None, *, need_config: bool = True) -> tuple[Settings, AppConfig | None]:
    settings = Settings.load()
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    path = config_path or Path(settings.accessbot_config)
    if not need_config and not path.exists():
        return settings, None
    try:
        return settings, load_config(path)
    except ConfigError as error:
        _fail(f"configuration {path}:\n{error}")
        raise AssertionError("unreachable") from error


def _run(coro: Awaitable[T]) -> T:
    """Run one async entry point; a database problem becomes a clear message, not a traceback."""
    from sqlalchemy.exc import DBAPIError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except DBAPIError as error:
        reason = str(error.orig).splitlines()[0] if error.orig is not None else type(error).__name__
        hint = " Run `accessbot db upgrade` first." if "no such table" in reason or "does not exist" in reason else ""
        _fail(f"database error: {reason}.{hint}")
        raise AssertionError("unreachable") from error


async def _with_runtime(
    settings: Settings, config: AppConfig, sandbox: bool, work: Callable[[Any], Awaitable[T]], *, migrate: bool = False
) -> T:
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings, config, sandbox=sandbox, migrate=migrate)
    try:
        return await work(runtime)
    finally:
        await runtime.close()


def _require_production_settings(settings: Settings) -> None:
    missing = settings.missing_for_production()
    if missing:
        lines = "\n".join(f"  - {name}" for name in missing)
        _fail(
            "cannot start without these settings (environment or .env):\n"
            f"{lines}\nOr run `accessbot serve --sandbox` to try the bot with simulated Entra ID and Cloudflare."
        )


# ---- serve / demo ---------------------------------------------------------------------


@app.command()
def serve(
    config: ConfigOption = None,
    sandbox: SandboxOption = False,
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT or 3978).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",  # noqa: S104 - a server
) -> None:
    """Run the bot: HTTP endpoints, chat front ends and the scheduler. Applies pending migrations first."""
    settings, app_config = _load(config)
    assert app_config is not None
    if not sandbox:
        _require_production_settings(settings)
    for warning in settings.warnings():
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if sandbox:
        from bot.runtime import SANDBOX_BANNER

        err.print(f"[bold yellow on red] {SANDBOX_BANNER} [/]")

    async def run() -> None:
        from bot.runtime import build_runtime
        from bot.server import create_app
        from bot.server import serve as serve_app

        runtime = await build_runtime(settings, app_config, sandbox=sandbox, migrate=True)
        try:
            await serve_app(create_app(runtime, _front_ends()), host, port or settings.port)
        finally:
            await runtime.close()

    _run(run())


def _front_ends() -> list[Any]:
    """Installers of the front ends and background jobs that exist in this build, in order:
    the chat front ends first (they register summary posters), then the daily summary."""
    installers: list[Any] = []
    for module_name in ("bot.slack.routes", "bot.teams.routes", "bot.summary.routes"):
        try:
            module = __import__(module_name, fromlist=["install"])
        except ModuleNotFoundError:
            continue
        installers.append(module.install)
    return installers


@app.command()
def demo() -> None:
    """Run the whole lifecycle in the sandbox with a compressed clock, printing each step."""
    from bot.demo import run_demo

    raise typer.Exit(_run(run_demo(out)))


# ---- operator tools -------------------------------------------------------------------


@app.command()
def check(
    config: ConfigOption = None,
    online: Annotated[bool, typer.Option("--online", help="Also ask Graph and Cloudflare.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Validate the configuration and settings (and, with --online, the cloud side)."""
    settings, app_config = _load(config)
    assert app_config is not None
    problems = settings.missing_for_production()
    warnings = settings.warnings()
    teams_channels = [c.approval_channels["teams"] for c in app_config.catalog if "teams" in c.approval_channels]
    if settings.microsoft_app_id and teams_channels:

        async def unseen() -> list[str]:
            from adapters.store.chat_state import ChatState
            from adapters.store.engine import create_engine
            from bot.teams.references import unseen_approval_channels

            engine = create_engine(settings.database_url)
            try:
                return await unseen_approval_channels(ChatState(engine), teams_channels)
            except Exception:  # no database yet: nothing learned
                return sorted(set(teams_channels))
            finally:
                await engine.dispose()

        for channel in _run(unseen()):
            warnings.append(
                f"Teams approval conversation {channel} not seen by the bot yet: it will create a thread there, "
                "which works only if the bot is installed in that team (see README, Microsoft Teams)"
            )
    report: dict[str, Any] = {
        "config": "ok",
        "customers": [c.key for c in app_config.catalog],
        "missing_settings": problems,
        "warnings": warnings,
    }
    exit_code = 1 if problems else 0
    if online:
        from bot.runtime import build_directory, build_network

        async def run_online() -> Any:
            from adapters.online_check import check_online

            directory = build_directory(settings)
            network = build_network(settings, app_config)
            try:
                return await check_online(list(app_config.catalog), directory, network)  # type: ignore[arg-type]
            finally:
                for adapter in (directory, network):
                    aclose = getattr(adapter, "aclose", None)
                    if aclose is not None:
                        await aclose()

        graph_missing = [name for name in problems if name.startswith("AZURE")]
        if graph_missing:
            _fail("--online needs the Microsoft Graph settings: " + ", ".join(graph_missing))
        online_report = _run(run_online())
        report["online"] = json.loads(online_report.to_json())
        exit_code = exit_code or (0 if online_report.ok else 1)
    if as_json:
        out.print_json(json.dumps(report))
    else:
        out.print(f"configuration: ok ({len(report['customers'])} customers: {', '.join(report['customers'])})")
        for name in problems:
            out.print(f"[red]missing:[/red] {name}", highlight=False)
        for warning in warnings:
            out.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        if online:
            out.print(online_report.to_table(), highlight=False)
    raise typer.Exit(exit_code)


@app.command("teams-package")
def teams_package(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the zip.")] = Path(
        "accessbot-teams.zip"
    ),
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="The bot's Microsoft App ID (default: $MICROSOFT_APP_ID).")
    ] = None,
    name: Annotated[str, typer.Option(help="Short app name shown in Teams.")] = "accessbot",
    version: Annotated[str, typer.Option(help="App version, e.g. 1.0.0 (raise it for every upload).")] = "1.0.0",
    developer: Annotated[str, typer.Option(help="Developer name shown in Teams.")] = "IT Security",
    website_url: Annotated[str, typer.Option(help="https:// URL about the bot.")] = "https://example.com/accessbot",
    privacy_url: Annotated[str | None, typer.Option(help="https:// privacy statement (default: website).")] = None,
    terms_url: Annotated[str | None, typer.Option(help="https:// terms of use (default: website).")] = None,
    manifest_dir: Annotated[
        Path | None, typer.Option(help="Folder with manifest.json and the icons (default: the checkout's).")
    ] = None,
) -> None:
    """Build the Teams app package (manifest.json + icons) to upload in Teams."""
    from bot.teams.package import MANIFEST_DIR, PackageError, build_teams_package

    chosen = app_id or Settings.load().microsoft_app_id
    if not chosen:
        _fail("give --app-id or set MICROSOFT_APP_ID")
        return
    try:
        path = build_teams_package(
            chosen, output, name=name, version=version, developer_name=developer, website_url=website_url,
            privacy_url=privacy_url, terms_url=terms_url, manifest_dir=manifest_dir or MANIFEST_DIR,
        )  # fmt: skip
    except PackageError as error:
        _fail(str(error))
        return
    out.print(f"Teams app package: {path} (Teams > Apps > Manage your apps > Upload an app)")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply pending database migrations."""
    settings, _ = _load(config, need_config=False)

    async def run() -> tuple[str | None, str | None]:
        from adapters.store.engine import create_engine
        from adapters.store.migrate import upgrade

        engine = create_engine(settings.database_url)
        try:
            return await upgrade(engine)
        finally:
            await engine.dispose()

    before, after = _run(run())
    out.print(f"database at {after} (was {before or 'empty'})")


def _fmt(when: datetime | None, config: AppConfig) -> str:
    return when.astimezone(config.timezone).strftime("%Y-%m-%d %H:%M") if when else "-"


@app.command()
def grants(
    config: ConfigOption = None,
    active: Annotated[bool, typer.Option("--active", help="Only grants that have not ended.")] = False,
    customer: Annotated[str | None, typer.Option(help="Only this customer (key or alias).")] = None,
) -> None:
    """List grants as a table."""
    settings, app_config = _load(config)
    assert app_config is not None
    key = _customer_key(app_config, customer)

    async def run() -> list[Grant]:
        from adapters.store.engine import create_engine
        from adapters.store.repository import SqlStore

        engine = create_engine(settings.database_url)
        try:
            states = sorted(LIVE_GRANT_STATES) if active else None
            return await SqlStore(engine).list_grants(states=states, customer=key)
        finally:
            await engine.dispose()

    rows = _run(run())
    table = Table(title=f"{len(rows)} grant(s)")
    for column in ("id", "user", "customer", "state", "starts", "ends", "approved by", "last error"):
        table.add_column(column)
    for grant in rows:
        style = "red" if grant.state is GrantState.FAILED else ""
        table.add_row(
            str(grant.id), grant.person.upn, grant.customer, grant.state.value, _fmt(grant.starts_at, app_config),
            _fmt(grant.ends_at, app_config), ", ".join(grant.approved_by), grant.last_error[:60], style=style,
        )  # fmt: skip
    out.print(table)


def _customer_key(config: AppConfig, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return config.catalog.find(name).key
    except AccessError as error:
        _fail(error.message)
        raise AssertionError("unreachable") from error


@app.command()
def revoke(
    grant_id: Annotated[int | None, typer.Argument(help="The grant (access) number.")] = None,
    customer: Annotated[str | None, typer.Option(help="With --all: every live grant of this customer.")] = None,
    all_grants: Annotated[bool, typer.Option("--all", help="Emergency: end every grant of --customer now.")] = False,
    reason: Annotated[str, typer.Option(help="Why (goes into the audit trail).")] = "",
    operator: Annotated[str | None, typer.Option("--as", help="Operator name for the audit trail.")] = None,
    config: ConfigOption = None,
    sandbox: SandboxOption = False,
) -> None:
    """End access now: one grant, or (emergency) everyone's access to a customer."""
    if (grant_id is None) == (not all_grants):
        _fail("give a grant id, or --customer X --all")
    if all_grants and not customer:
        _fail("--all needs --customer X")
    settings, app_config = _load(config)
    assert app_config is not None
    if not sandbox:
        missing = [m for m in settings.missing_for_production() if m.startswith("AZURE")]
        if missing:
            _fail("revocation needs the Graph settings: " + ", ".join(missing))
    actor = Actor.operator(operator or getpass.getuser())

    async def work(runtime: Any) -> int:
        service = runtime.service
        if grant_id is not None:
            outcome = await service.revoke(grant_id, actor, surface=Surface.CLI, reason=reason)
            ended = outcome.grant.state in {GrantState.EXPIRED, GrantState.REVOKED}
            ids = [] if ended else [grant_id]
        else:
            marked = await service.revoke_customer(customer, actor, surface=Surface.CLI, reason=reason)
            ids = [g.id for g in marked]
        if not ids:
            out.print("nothing to revoke: no live grant matched")
            return 0
        with Progress(console=err, transient=False) as progress:
            task = progress.add_task(f"revoking {len(ids)} grant(s)", total=len(ids))
            elsewhere = await runtime.scheduler.process_now(ids, lambda n: progress.advance(task, n))
            progress.update(task, completed=len(ids) - len(elsewhere))
        failed = 0
        for gid in ids:
            grant = await runtime.store.get_grant(gid)
            state = grant.state.value if grant else "missing"
            failed += state not in {"revoked", "expired"} and gid not in elsewhere
            note = " (being finished by the running bot)" if gid in elsewhere else ""
            err_text = f" - {grant.last_error}" if grant and grant.last_error else ""
            out.print(f"#{gid} {grant.person.upn if grant else ''}: {state}{note}{err_text}", highlight=False)
        return 1 if failed else 0

    try:
        code = _run(_with_runtime(settings, app_config, sandbox, work))
    except AccessError as error:
        _fail(error.message)
    raise typer.Exit(code)


@app.command()
def summary(
    print_: Annotated[bool, typer.Option("--print", help="Show the summary in the terminal (the default).")] = False,
    post: Annotated[
        bool,
        typer.Option("--post", help="Post it now to bot.summary_channel (an extra post; the daily one still runs)."),
    ] = False,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The day whose daily summary to build: YYYY-MM-DD, today or yesterday. "
            "Default: the last 24 hours up to now.",
        ),
    ] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the timeline chart (PNG) to this file.")] = None,
    config: ConfigOption = None,
    sandbox: SandboxOption = False,
) -> None:
    """The daily access summary: print it, post it now, or write its timeline chart."""
    settings, app_config = _load(config)
    assert app_config is not None
    from bot.summary.terminal import run_summary_command

    code = _run(
        run_summary_command(
            settings, app_config, day=day, print_=print_, post=post, chart=chart, console=out, sandbox=sandbox
        )
    )
    raise typer.Exit(code)


# ---- audit --------------------------------------------------------------------------------


def _parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: {value!r} is not a date; use e.g. 2026-12-01 or 2026-12-01T08:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@audit_app.command("export")
def audit_export(
    export_format: Annotated[ExportFormat, typer.Option("--format", help="csv or jsonl")] = ExportFormat.jsonl,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601, UTC unless given).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    user: Annotated[str | None, typer.Option(help="Only events by or about this UPN / object id.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: standard output).")] = None,
    config: ConfigOption = None,
) -> None:
    """Write audit events with their hash-chain fields (an unfiltered export verifies on its own)."""
    settings, app_config = _load(config, need_config=False)
    key = _customer_key(app_config, customer) if app_config and customer else customer
    start, end = _parse_when(since, "--since"), _parse_when(until, "--until")

    async def run() -> int:
        from adapters.store.engine import create_engine
        from adapters.store.repository import SqlStore
        from bot.audit_tools import export_trail

        engine = create_engine(settings.database_url)
        stream = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
        try:
            return await export_trail(
                SqlStore(engine), stream, export_format, since=start, until=end, customer=key, user=user
            )
        finally:
            if output:
                stream.close()
            await engine.dispose()

    count = _run(run())
    err.print(f"{count} audit event(s) written", highlight=False)


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None) -> None:
    """Walk the hash chain; name the first broken event (exit 1) or confirm it is intact."""
    settings, _ = _load(config, need_config=False)

    async def run() -> TrailCheck:
        from adapters.store.engine import create_engine
        from adapters.store.repository import SqlStore

        engine = create_engine(settings.database_url)
        try:
            return await verify_trail(SqlStore(engine))
        finally:
            await engine.dispose()

    result = _run(run())
    if result.broken is not None:
        broken = result.broken
        out.print(f"[red]audit chain broken at event {broken.seq}:[/red] {broken.problem}", highlight=False)
        raise typer.Exit(1)
    out.print(f"audit chain intact: {result.events} events, head {result.head_hash[:16]}…")
