"""Reusable test helpers for real servers and real variant wheels.

- `helpers.nginx`: `start_nginx(root, workdir)` serves a folder with `docs/nginx-simple-index.conf`
  on 127.0.0.1 (a context manager yielding `NginxServer(url, access_log)`); `requires_nginx`
  skips a test where no `nginx` binary exists (CI installs it).
- `helpers.servers`: tiny real HTTP servers for failure cases: `hanging_server()` (accepts,
  never answers) and `status_server(status)` (answers every request with `status`).
- `helpers.variants`: `make_variant(wheel, outdir, *properties, label=None, null=False,
  namespace_priority=None)` runs `python -m fitwheel wheel make-variant`; `plain_wheel(...)` is
  `tests/wheelmaker.make_wheel` with optional `Requires-Python`.
- `helpers.locks`: `resolved(project, version, label=None)` and `target(name, environment,
  *files)` build the per-target resolutions `fitwheel.lock.merge.merge` takes, over three
  marker environments (`ENVIRONMENTS`) and one variants document (`DOCUMENT`).

Import them as `from helpers.nginx import start_nginx` (pytest puts `tests/` on `sys.path`).
"""
