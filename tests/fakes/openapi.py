"""A small OpenAPI index the fakes use to check every request against the vendor's own spec.

It answers three questions a real service would also answer before doing any work:
does this method + path exist, which query parameters are required, and which body fields
are required. It is deliberately not a full validator: the fakes add the semantic rules
(the ones the vendor documents in prose) on top.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The vendors' specs live next to the repository (`../shared/reference`); overridable for odd layouts.
REFERENCE_DIR = Path(
    os.environ.get("ACCESSBOT_REFERENCE_DIR") or Path(__file__).resolve().parents[3] / "shared" / "reference"
)
GRAPH_SPEC = REFERENCE_DIR / "graph" / "msgraph_v1.0_openapi_trimmed.json"
CLOUDFLARE_SPEC = REFERENCE_DIR / "cloudflare" / "cloudflare_openapi_trimmed.json"

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    """One method + path template of a spec (or of a documented supplement)."""

    method: str  # upper case
    template: str
    pattern: re.Pattern[str]
    required_query: tuple[str, ...] = ()
    required_body: tuple[str, ...] = ()
    body_required: bool = False
    source: str = "spec"  # "spec", or the documentation page of a supplement entry

    def params(self, path: str) -> dict[str, str]:
        match = self.pattern.fullmatch(path)
        return dict(match.groupdict()) if match else {}


@dataclass
class OpenAPIIndex:
    """Operations of one OpenAPI document, matched against concrete request paths."""

    operations: list[Operation] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, *, action_prefix: str | None = None) -> OpenAPIIndex:
        spec = load_spec(path)
        index = cls()
        for template, item in spec["paths"].items():
            for method in _METHODS:
                op = item.get(method)
                if op is None:
                    continue
                index.operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        pattern=_compile(template, action_prefix),
                        required_query=tuple(_required_query(spec, op)),
                        required_body=tuple(_required_body(spec, op)),
                        body_required=bool(_resolve(spec, op.get("requestBody", {})).get("required", False)),
                    )
                )
        return index

    def add(
        self,
        method: str,
        template: str,
        *,
        source: str,
        required_body: tuple[str, ...] = (),
        required_query: tuple[str, ...] = (),
    ) -> None:
        """Add an operation the vendor documents but the trimmed spec does not contain."""
        self.operations.append(
            Operation(
                method=method.upper(),
                template=template,
                pattern=_compile(template, None),
                required_body=required_body,
                required_query=required_query,
                body_required=bool(required_body),
                source=source,
            )
        )

    def match(self, method: str, path: str) -> tuple[Operation | None, bool]:
        """The operation for method + path, and whether the path exists under another method."""
        path_exists = False
        for op in self.operations:
            if op.pattern.fullmatch(path):
                if op.method == method.upper():
                    return op, True
                path_exists = True
        return None, path_exists

    def check(self, method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
        """Problems the real service would reject this request for (empty: fine)."""
        op, path_exists = self.match(method, path)
        if op is None:
            if path_exists:
                return [f"{method} {path}: method not allowed on this path"]
            return [f"{method} {path}: no such operation in the spec"]
        problems = [
            f"{method} {path}: required query parameter {name!r} missing"
            for name in op.required_query
            if name not in query
        ]
        if op.body_required and body is None:
            problems.append(f"{method} {path}: request body required")
        if op.required_body and isinstance(body, dict):
            problems.extend(
                f"{method} {path}: required body field {name!r} missing"
                for name in op.required_body
                if name not in body
            )
        elif op.required_body and body is not None:
            problems.append(f"{method} {path}: body must be a JSON object")
        return problems


@functools.cache
def load_spec(path: Path) -> dict[str, Any]:
    """A parsed spec, read once per test session (treat it as read-only)."""
    spec: dict[str, Any] = json.loads(path.read_text())
    return spec


def _compile(template: str, action_prefix: str | None) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = re.sub(r"\W", "_", segment[1:-1])
            parts.append(f"(?P<{name}>[^/]+)")
        elif action_prefix and segment.startswith(action_prefix):
            # Graph: the PowerShell-flavoured spec names actions `microsoft.graph.revokeSignInSessions`
            # and functions `microsoft.graph.delta()`; the service (and every SDK) calls them
            # without the namespace and, for functions without arguments, without `()`.
            bare = segment[len(action_prefix) :]
            name = bare[:-2] if bare.endswith("()") else bare
            parts.append(f"(?:{re.escape(action_prefix)})?{re.escape(name)}(?:\\(\\))?")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts))


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for key in node["$ref"].lstrip("#/").split("/"):
            target = target[key]
        node = target
    return node


def _required_query(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    names = []
    for param in op.get("parameters", []):
        param = _resolve(spec, param)
        if param.get("in") == "query" and param.get("required"):
            names.append(param["name"])
    return names


def _required_body(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    body = _resolve(spec, op.get("requestBody", {}))
    schema = _resolve(spec, body.get("content", {}).get("application/json", {}).get("schema", {}))
    required = list(schema.get("required", []))
    for part in schema.get("allOf", []):
        required.extend(_resolve(spec, part).get("required", []))
    return required


def schema_properties(path: Path, schema_name: str) -> frozenset[str]:
    """All property names of a component schema, following allOf (used to check `$select`)."""
    spec = load_spec(path)
    names: set[str] = set()
    stack = [spec["components"]["schemas"][schema_name]]
    while stack:
        node = _resolve(spec, stack.pop())
        names.update(node.get("properties", {}))
        stack.extend(node.get("allOf", []))
    return frozenset(names)
