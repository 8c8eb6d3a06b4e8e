"""Send a compose request two ways: to the localhost server, or in this Python process.

Both take and return the JSON notes schema (beats), so a DAW bridge can switch freely:

    reply = compose_request({"notes": [...], "model": "gan", "seed": 1})               # server
    reply = compose_request({"notes": [...], "model": "gan", "seed": 1}, url=None)     # in-process

The server (``deepcompose serve``) keeps models loaded between calls; in-process is
simplest when the script already runs in a Python that has deepcompose installed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8765"


def compose_request(request: dict, url: str | None = DEFAULT_URL, timeout: float = 300) -> dict:
    """The composed song (JSON notes) for ``request`` (JSON notes + model, task, seed, ...)."""
    if url is None:
        import deepcompose
        from deepcompose.server import parse_request  # same validation as the server

        song, kwargs = parse_request(json.dumps(request).encode())
        return deepcompose.compose(song, **kwargs).to_notes()
    req = urllib.request.Request(f"{url}/compose", data=json.dumps(request).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 400/413/...: the server says why in JSON
        raise RuntimeError(f"deepcompose server: {json.loads(exc.read())['error']}") from None
