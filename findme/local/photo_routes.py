"""What the search page needs from the local engine besides web actions:
the folders under the photo root it may search, and their photos as thumbnails.

With a web secret, these routes want it too: in the X-Require-Whisk-Auth header
(the page sends it when it lists the folders), or in the cookie that answer sets,
since an <img> cannot send a header.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from findme.errors import BadRequest
from findme.sources.folder import IMAGE_SUFFIXES, inside_root, is_regular_file

MAX_FOLDERS = 500
MAX_DEPTH = 3
SECRET_HEADER = "x-require-whisk-auth"
SECRET_COOKIE = "findme_photos"
UNAUTHORIZED = {"error": "Authentication is possible but has failed or not yet been provided."}


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


def _cookie_value(secret: str) -> str:
    """Derived from the secret, so the cookie never holds the secret itself."""
    return hmac.new(secret.encode(), b"findme photo routes", hashlib.sha256).hexdigest()


def _secret_given(request: Request, secret: str | None) -> bool | None:
    """True for the header, None for the cookie, False for neither (no secret: True)."""
    if not secret:
        return True
    if hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
        return True
    cookie = request.cookies.get(SECRET_COOKIE, "")
    return None if hmac.compare_digest(cookie.encode(), _cookie_value(secret).encode()) else False


def photo_routes(root: Path | None, secret: str | None = None) -> list[Route]:
    async def folders(request: Request) -> Response:
        given = _secret_given(request, secret)
        if given is False:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        response = JSONResponse({"folders": list_folders(root) if root else []})
        if secret and given:
            response.set_cookie(
                SECRET_COOKIE,
                _cookie_value(secret),
                httponly=True,
                samesite="strict",
                path="/findme",
            )
        return response

    async def photo(request: Request) -> Response:
        if _secret_given(request, secret) is False:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        if root is None:
            return JSONResponse({"error": "no photo root"}, status_code=404)
        try:
            path = inside_root(root, request.path_params["path"], "photo")
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        if path.suffix.lower() not in IMAGE_SUFFIXES or not is_regular_file(path):
            return JSONResponse({"error": "no such photo"}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    return [
        Route("/findme/folders", folders, methods=["GET"]),
        Route("/findme/photos/{path:path}", photo, methods=["GET"]),
    ]
