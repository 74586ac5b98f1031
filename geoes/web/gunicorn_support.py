"""What gunicorn.conf.py installs: an access log without whole client addresses, and a control socket per
instance.

* `TruncatedAddressLogger` — gunicorn's logger whose access-log atoms `%(h)s` (the client, after
  GEOES_PROXY_COUNT's ProxyFix) and the forwarded-address headers (`%({x-forwarded-for}i)s`,
  `%({x-real-ip}i)s`, `%({forwarded}i)s`) hold truncated addresses (geoes.common.addresses): reporters
  and operators are not identifiable from the server's logs.
* `control_socket_path` — gunicorn's control socket (for `gunicornc`) of this instance: under the data
  directory (`run/gunicorn-<bind>.ctl`, directory 0700), not the one `~/.gunicorn/gunicorn.ctl` that every
  gunicorn of a user shares, where one instance's commands would reach another; None (no socket) when the
  path is too long for a Unix socket.
"""
from __future__ import annotations

import re
from pathlib import Path

from gunicorn.glogging import Logger

from geoes.common.addresses import truncate_address

FORWARDED_ATOMS = ("{x-forwarded-for}i", "{x-real-ip}i", "{forwarded}i")
MAX_SOCKET_PATH = 100          # sockaddr_un holds 108 bytes with the terminating zero; keep a margin


class TruncatedAddressLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["h"] = truncate_address(atoms.get("h", "-"))
        for key in FORWARDED_ATOMS:
            if key in atoms:
                atoms[key] = truncate_address(atoms[key])
        return atoms


def control_socket_path(data_dir: Path, binds: list[str]) -> Path | None:
    """The control socket of the instance bound to `binds`, under `data_dir`/run (made 0700)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", "_".join(binds) or "default").strip("-")[:40]
    path = Path(data_dir).resolve() / "run" / f"gunicorn-{name}.ctl"
    if len(str(path).encode()) > MAX_SOCKET_PATH:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    return path
