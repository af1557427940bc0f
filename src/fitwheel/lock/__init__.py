"""Locks: PEP 751 `pylock.toml` files whose variant packages list every build a target needs.

A lock holds, per package, the wheels the lock's targets chose (variant wheels under their
labelled names) and the release's variants metadata inlined as `[packages.variants-json]`
(PEP 825), so the build is chosen on the machine that installs, offline.

- `model`: the values (`Lock`, `LockedPackage`, `LockedFile`);
- `document`: reading and writing `pylock.toml`, validated by `packaging.pylock`;
- `merge`: per-target resolutions -> one lock;
- `targets`: profiles re-aimed at other Pythons and platforms;
- `resolve`: a real resolver (pip) per target behind the resolving proxy;
- `plan`: what a target installs from a lock, chosen offline;
- `fetch`: the planned files from a wheel folder or their URLs, hash-checked;
- `install`: verified wheels into an environment with `installer`.
"""

from __future__ import annotations
