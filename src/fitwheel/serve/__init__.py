"""The resolving index proxy: upstream pages resolved for a profile, served to stock installers.

`make_app(ServeConfig(...))` is the aiohttp application; `BackgroundServer` runs it on an
ephemeral loopback port (what `fitwheel pip --ephemeral` and locks use) and `serve_forever` in
the foreground (`fitwheel serve`, and the wrappers' shared proxy, `fitwheel serve --shared`).
Its `/` is a status page for people (`status`, fed by the upstreams' `health`). See
docs/serve.md.
"""
