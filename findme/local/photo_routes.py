"""What the search page needs from the local engine besides web actions:
the folders under the photo root it may search, and their photos as thumbnails."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from findme.errors import BadRequest
from findme.sources.folder import IMAGE_SUFFIXES, inside_root

MAX_FOLDERS = 500
MAX_DEPTH = 3


def list_folders(root: Path) -> list[str]:
    """Folders under the root (itself as "."), hidden ones skipped, a few levels deep."""
    folders = ["."]
    for directory, subdirs, _ in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        relative = Path(directory).relative_to(root)
        if len(relative.parts) >= MAX_DEPTH:
            subdirs.clear()
        folders.extend((relative / d).as_posix() for d in subdirs)
        if len(folders) >= MAX_FOLDERS:
            break
    return folders[:MAX_FOLDERS]


def photo_routes(root: Path | None) -> list[Route]:
    async def folders(request: Request) -> Response:
        if root is None:
            return JSONResponse({"folders": []})
        return JSONResponse({"folders": list_folders(root)})

    async def photo(request: Request) -> Response:
        if root is None:
            return JSONResponse({"error": "no photo root"}, status_code=404)
        try:
            path = inside_root(root, request.path_params["path"], "photo")
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            return JSONResponse({"error": "no such photo"}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    return [
        Route("/findme/folders", folders, methods=["GET"]),
        Route("/findme/photos/{path:path}", photo, methods=["GET"]),
    ]
