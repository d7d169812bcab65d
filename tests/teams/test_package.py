"""The Teams app package: manifest filled in, icons of the sizes Teams requires, zipped flat."""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import pytest

from bot.teams.package import MANIFEST_DIR, PackageError, build_teams_package, png_size


def test_package_holds_the_filled_manifest_and_both_icons(tmp_path: Path) -> None:
    app_id = str(uuid.uuid4())
    path = build_teams_package(app_id, tmp_path / "out" / "accessbot.zip", version="1.2.3",
                               website_url="https://it.contoso.example/accessbot")  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    assert "{{" not in json.dumps(manifest)
    assert manifest["id"] == app_id and manifest["version"] == "1.2.3"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["developer"]["privacyUrl"] == "https://it.contoso.example/accessbot"
    (bot,) = manifest["bots"]
    assert bot["botId"] == app_id
    assert set(bot["scopes"]) == {"personal", "team"}
    (commands,) = bot["commandLists"]
    assert [c["title"] for c in commands["commands"]] == ["access", "access list", "help"]
    assert all(len(c["description"]) <= 128 and len(c["title"]) <= 32 for c in commands["commands"])


def test_outline_icon_is_white_on_transparent() -> None:
    from PIL import Image

    with Image.open(MANIFEST_DIR / "outline.png") as icon:
        rgba = icon.convert("RGBA")
        pixels = [rgba.getpixel((x, y)) for x in range(rgba.width) for y in range(rgba.height)]
    assert {p[:3] for p in pixels if p[3] > 0} == {(255, 255, 255)}
    assert any(p[3] == 0 for p in pixels)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_id": "accessbot"}, "Microsoft App ID"),
        ({"version": "1.0"}, "1.0.0"),
        ({"website_url": "http://example.com"}, "https://"),
    ],
)
def test_bad_inputs_are_explained(tmp_path: Path, kwargs: dict[str, str], message: str) -> None:
    arguments: dict[str, str] = {"app_id": str(uuid.uuid4())} | kwargs
    app_id = arguments.pop("app_id")
    with pytest.raises(PackageError, match=message):
        build_teams_package(app_id, tmp_path / "x.zip", **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / "x.zip").exists()
