"""The dashboard's files: its own static directory, and Plotly's bundled JS from the installed
`plotly` package (never a committed copy, never a CDN)."""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
# Revalidated on every load (ETag -> 304), so a new release never runs stale modules.
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


class DashboardStatic(StaticFiles):
    """StaticFiles (ETag, Last-Modified, 304, no path traversal) plus caching and
    content-type-sniffing headers."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_version() -> str:
    """A short hash of every static file: changes whenever any of them does."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class PlotlyBundle:
    """plotly.min.js from the installed package, with its gzip form computed once."""

    version: str
    path: Path

    @property
    def etag(self) -> str:
        return f'"plotly-{self.version}-{self.path.stat().st_size}"'

    def gzipped(self) -> bytes:
        return _gzip_file(self.path, self.path.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _gzip_file(path: Path, _mtime_ns: int) -> bytes:
    # mtime in the key: a reinstalled package is compressed again.
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


@lru_cache(maxsize=1)
def plotly_bundle() -> PlotlyBundle:
    """Raises FileNotFoundError if the plotly package does not ship its JS bundle."""
    resource = resources.files("plotly") / "package_data" / "plotly.min.js"
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js not found in the plotly package ({path})")
    return PlotlyBundle(version=metadata.version("plotly"), path=path)
