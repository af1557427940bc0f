"""The shared per-user proxy of `fitwheel pip` / `fitwheel uv`: one `fitwheel serve` process per
key (what it serves) on a stable loopback port, started on first use and gone when idle.

`key` says what a proxy serves, `state` keeps its state file and locks, `client` asks a
running one who it is (with proof) and what it handed out, `start` finds or starts one,
`server` is the proxy process itself, and `control` is `fitwheel serve --status/--stop`.
"""
