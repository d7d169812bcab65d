"""The Teams app package: the manifest (from `manifests/teams/manifest.json`) and icons, zipped.

Upload the zip in Teams (Apps > Manage your apps > Upload an app) or in the Teams admin center.
The CLI command ``accessbot teams-package`` calls `build_teams_package`.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifests" / "teams"
FILES = ("manifest.json", "color.png", "outline.png")
ICON_SIZES = {"color.png": (192, 192), "outline.png": (32, 32)}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


class PackageError(ValueError):
    """An input the Teams app package cannot be built from; the message says what to fix."""


def render_manifest(template: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The manifest with every ``{{NAME}}`` placeholder replaced; `PackageError` if one is left unfilled."""

    def fill(node: Any) -> Any:
        if isinstance(node, str):

            def replace(match: re.Match[str]) -> str:
                key = match.group(1)
                if key not in values:
                    raise PackageError(f"manifest placeholder {{{{{key}}}}} has no value")
                return values[key]

            return _PLACEHOLDER.sub(replace, node)
        if isinstance(node, list):
            return [fill(item) for item in node]
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        return node

    result: dict[str, Any] = fill(template)
    return result


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def build_teams_package(
    app_id: str,
    output: Path,
    *,
    name: str = "accessbot",
    version: str = "1.0.0",
    developer_name: str = "IT Security",
    website_url: str = "https://example.com/accessbot",
    privacy_url: str | None = None,
    terms_url: str | None = None,
    manifest_dir: Path = MANIFEST_DIR,
) -> Path:
    """Write the Teams app package (manifest.json, color.png, outline.png) to `output`; returns it.

    `app_id` is the bot's Microsoft App ID (MICROSOFT_APP_ID): it is both the Teams app id and
    the bot id. Raises `PackageError` for a bad app id, version, URL or icon.
    """
    if not _GUID.fullmatch(app_id.strip()):
        raise PackageError(f"the app id must be the bot's Microsoft App ID (a GUID), got {app_id!r}")
    if not _SEMVER.fullmatch(version):
        raise PackageError(f"the version must look like 1.0.0, got {version!r}")
    if not 1 <= len(name) <= 30:
        raise PackageError("the short name must be 1 to 30 characters")
    urls = {
        "WEBSITE_URL": website_url,
        "PRIVACY_URL": privacy_url or website_url,
        "TERMS_URL": terms_url or website_url,
    }
    for key, url in urls.items():
        if not url.startswith("https://"):
            raise PackageError(f"{key.lower()} must be an https:// URL (Teams requires it), got {url!r}")
    template = json.loads((manifest_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest = render_manifest(
        template,
        {"MICROSOFT_APP_ID": app_id.strip().lower(), "VERSION": version, "NAME": name,
         "DEVELOPER_NAME": developer_name, **urls},
    )  # fmt: skip
    icons = {}
    for icon, size in ICON_SIZES.items():
        data = (manifest_dir / icon).read_bytes()
        if png_size(data) != size:
            raise PackageError(f"{icon} must be {size[0]}x{size[1]} pixels, is {png_size(data)}")
        icons[icon] = data
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Teams wants the three files at the root of the zip, not in a folder.
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon, data in icons.items():
            archive.writestr(icon, data)
    return output
