"""What the search page needs from the local engine besides web actions:
the folders under the photo root it may search, their photos, JPEG previews of
any format a browser may not show (TIFF, BMP, 16-bit PNG), and a zip of chosen
originals.

With a web secret, every one of these routes wants it too (folders, photos,
previews and the zip alike): in the X-Require-Whisk-Auth header (the page sends it
when it lists the folders), or in the cookie that answer sets, since an <img> or a
plain form post cannot send a header.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import os
from pathlib import Path
from urllib.parse import parse_qs

from PIL import Image, ImageOps
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from zipstream import ZipStream

from findme.errors import BadRequest
from findme.images import PhotoError, open_image
from findme.settings import DEFAULT_PREVIEW_DECODES
from findme.sources.folder import IMAGE_SUFFIXES, inside_root, is_regular_file, read_limited

MAX_FOLDERS = 500
MAX_DEPTH = 3
SECRET_HEADER = "x-require-whisk-auth"
SECRET_COOKIE = "findme_photos"
UNAUTHORIZED = {"error": "Authentication is possible but has failed or not yet been provided."}
PREVIEW_SIDES = (400, 1600)  # a card's thumbnail, the lightbox's view
MAX_ZIP_PHOTOS = 10_000
MAX_ZIP_REQUEST_BYTES = 4 * 1024 * 1024
# A preview decodes the whole photo (up to about 300 MB for the largest one
# findme.images lets through): this many at once, the others wait their turn.
PREVIEW_DECODES_AT_ONCE = DEFAULT_PREVIEW_DECODES


def preview_jpeg(data: bytes, side: int) -> bytes:
    """An upright RGB JPEG of the photo, its longest side at most `side`."""
    image = open_image(data)
    try:
        image.draft("RGB", (side, side))  # JPEG decodes at a fraction of its size for free
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((side, side), Image.Resampling.LANCZOS)
        if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            upright = upright.point(lambda v: v / 256).convert("L")
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=82)
    except Exception as error:  # Pillow raises many kinds on a damaged photo
        raise PhotoError(f"truncated or corrupt image ({error})") from None
    return out.getvalue()


def zip_of(root: Path, folder: str, photos: list[str]) -> ZipStream:
    """The originals, as a zip whose length is known before it is sent (the
    browser shows an honest progress bar). Only photos inside the folder, each file
    once however its path is spelled (by its resolved path), named by that path
    relative to the folder, so a member name never holds `..`; anything else (a
    text file, a missing photo) refuses the whole zip."""
    base = inside_root(root, folder or ".", "folder")
    archive = ZipStream(sized=True)
    added: set[Path] = set()
    for photo in photos:
        path = inside_root(base, photo, "photo")
        if path.suffix.lower() not in IMAGE_SUFFIXES or not is_regular_file(path):
            raise BadRequest(f"no such photo: {photo[:200]}")
        if path not in added:
            added.add(path)
            archive.add_path(str(path), path.relative_to(base).as_posix())
    return archive


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


def photo_routes(
    root: Path | None, secret: str | None = None, decodes_at_once: int = PREVIEW_DECODES_AT_ONCE
) -> list[Route]:
    # Waiting here holds no thread: only decodes_at_once of the pool's threads decode.
    decoding = asyncio.Semaphore(max(decodes_at_once, 1))

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

    async def preview(request: Request) -> Response:
        if _secret_given(request, secret) is False:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        if root is None:
            return JSONResponse({"error": "no photo root"}, status_code=404)
        try:
            side = int(request.query_params.get("side", PREVIEW_SIDES[0]))
            path = inside_root(root, request.path_params["path"], "photo")
        except (BadRequest, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        if side not in PREVIEW_SIDES:
            return JSONResponse({"error": f"side must be one of {PREVIEW_SIDES}"}, 400)
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            return JSONResponse({"error": "no such photo"}, status_code=404)
        try:
            async with decoding:
                jpeg = await run_in_threadpool(lambda: preview_jpeg(read_limited(path), side))
        except PhotoError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return Response(
            jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )

    async def download_zip(request: Request) -> Response:
        """POST {folder, photos: [...]} (JSON, or a form whose `request` field holds it)."""
        if _secret_given(request, secret) is False:
            return JSONResponse(UNAUTHORIZED, status_code=401)
        if root is None:
            return JSONResponse({"error": "no photo root"}, status_code=404)
        try:
            raw = await request.body()
            if len(raw) > MAX_ZIP_REQUEST_BYTES:
                raise BadRequest("too many photos in one zip")
            kind = request.headers.get("content-type", "")
            if kind.startswith("application/x-www-form-urlencoded"):
                # The page's plain form post, so the browser downloads (and shows progress) itself.
                raw = parse_qs(raw.decode(), max_num_fields=4).get("request", [""])[0]
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise BadRequest("the request must be a JSON object")
            photos, folder = body.get("photos"), body.get("folder", ".")
            if (
                not isinstance(photos, list)
                or not 0 < len(photos) <= MAX_ZIP_PHOTOS
                or not all(isinstance(p, str) for p in photos)
                or not isinstance(folder, str)
            ):
                raise BadRequest(f"photos must be a list of 1 to {MAX_ZIP_PHOTOS} photo paths")
            archive = await run_in_threadpool(zip_of, root, folder, photos)
        except (BadRequest, ValueError, AttributeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        name = str(body.get("name") or "findme-photos.zip")
        safe = "".join(c for c in name if c.isalnum() or c in "-_.") or "findme-photos.zip"
        return StreamingResponse(
            archive,
            media_type="application/zip",
            headers={
                "Content-Length": str(len(archive)),
                "Content-Disposition": f'attachment; filename="{safe}"',
            },
        )

    return [
        Route("/findme/folders", folders, methods=["GET"]),
        Route("/findme/photos/{path:path}", photo, methods=["GET"]),
        Route("/findme/previews/{path:path}", preview, methods=["GET"]),
        Route("/findme/zip", download_zip, methods=["POST"]),
    ]
