"""photo_faces: the faces in a photo a person is about to search with, so the page
can outline the one a search will use and let them choose another (in a group
photo, say). It keeps nothing: the photo and its faces are gone with the answer.
register_search takes the chosen face's box as reference_face."""

from __future__ import annotations

from typing import Any

from findme import params
from findme.errors import BadRequest, run_action
from findme.images import PhotoError
from findme.reference import faces_in_photo
from findme.settings import Settings
from findme.stages.register import uploaded_photo


def photo_faces(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(args)
    params.require_post(args, "photo_faces")  # a photo is too large for a link
    data = uploaded_photo(args, settings)
    try:
        return faces_in_photo(data, settings)
    except PhotoError as error:
        raise BadRequest(f"reference_image: {error}") from None


def main(args: dict[str, Any]) -> dict[str, Any]:
    return run_action(photo_faces, args)
