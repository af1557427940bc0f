"""The output folder of `index build`: files put in place in one step, and removed only by name.

Every file goes through `fitwheel.files` (written beside its name, then renamed over it); the
temporaries a killed build leaves are removed by the next one. Distributions are published as copies (never hard links: rebuilding a wheel in the source
folder must not change the bytes behind a published sha256), with the mode a new file gets
(`0o666` less the umask), whatever the source's mode. A project's folder that is a symbolic
link is refused, and removal goes through the project folder's descriptor without following
links, so a name from the state file cannot reach outside the output folder.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import stat
from dataclasses import dataclass

from fitwheel.errors import FitwheelError
from fitwheel.files import atomic_file, is_temporary, write_atomically


class OutputError(FitwheelError):
    """The output folder cannot be written as planned (a linked folder, a changing source)."""


class ChangedWhileCopying(OSError):
    """The source no longer has the bytes it was hashed with a moment ago."""


_COPY_CHUNK = 1 << 20


def copy_verified(source: str, path: str, sha256: str) -> None:
    """Copy `source` to `path` in one rename (`fitwheel.files.atomic_file`), refusing a copy
    whose sha256 is not `sha256`: the source changed since it was read, and publishing it
    would contradict its page. A symbolic link at `source` is not followed."""
    digest = hashlib.sha256()
    fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    with open(fd, "rb") as copied, atomic_file(path) as stream:
        while chunk := copied.read(_COPY_CHUNK):
            digest.update(chunk)
            stream.write(chunk)
        if digest.hexdigest() != sha256:
            raise ChangedWhileCopying(f"{source} changed while it was being published")


def remove_temporaries(folder: str) -> None:
    """Remove what a killed writer left in `folder` (`fitwheel.files`'s temporaries only)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if is_temporary(name):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))


@dataclass(frozen=True)
class CopyOf:
    """A source file's bytes, as read (its sha256 and size)."""

    path: str
    sha256: str
    size: int
    trusted: bool
    """Whether a file of the same size already at the name may be taken to hold these bytes
    (this builder copied the same unchanged source there before)."""


class Change(enum.Enum):
    SAME = "same"
    NEW = "new"
    CHANGED = "changed"


class OutputFolder:
    """Writes under `root` (relative paths, `/`-separated), counting what changed."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.written = 0
        self._folders: set[str] = {""}

    def folder(self, name: str) -> str:
        """`root/name`, made if missing (without its temporaries); never a symbolic link."""
        path = f"{self.root}/{name}" if name else self.root
        if name not in self._folders:
            try:
                os.mkdir(path)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    raise OutputError(
                        f"{path} is not a folder (a symbolic link or a file): move it away"
                    ) from None
                remove_temporaries(path)
            except OSError as exc:
                raise OutputError(f"cannot make {path}: {exc.strerror}") from None
            self._folders.add(name)
        return path

    def _path(self, relative: str) -> str:
        folder, _, _ = relative.rpartition("/")
        self.folder(folder)
        return f"{self.root}/{relative}"

    def change(self, relative: str, content: bytes | CopyOf) -> Change:
        """What putting `content` at `relative` would do to the file there now."""
        path = f"{self.root}/{relative}"
        try:
            have = os.lstat(path)
        except FileNotFoundError:
            return Change.NEW
        if not stat.S_ISREG(have.st_mode) or have.st_nlink > 1:
            return Change.CHANGED  # a link (from an older build) is replaced by a copy
        if isinstance(content, CopyOf):
            if have.st_size != content.size:
                return Change.CHANGED
            if content.trusted:
                return Change.SAME
            with open(path, "rb") as handle:
                same = hashlib.file_digest(handle, "sha256").hexdigest() == content.sha256
            return Change.SAME if same else Change.CHANGED
        if have.st_size != len(content):
            return Change.CHANGED
        with open(path, "rb") as handle:
            return Change.SAME if handle.read() == content else Change.CHANGED

    def put(self, relative: str, content: bytes | CopyOf) -> None:
        """Put `content` at `relative` in one step, unless it is there already."""
        if self.change(relative, content) is Change.SAME:
            self._path(relative)
            return
        path = self._path(relative)
        try:
            if isinstance(content, CopyOf):
                copy_verified(content.path, path, content.sha256)
            else:
                write_atomically(path, content)
        except OSError as exc:
            what = content.path if isinstance(content, CopyOf) else path
            raise OutputError(f"cannot publish {what}: {exc}") from None
        self.written += 1

    def remove(self, folder: str, name: str) -> None:
        """Remove the file `name` of `root/folder` (a link itself, never what it points to)."""
        path = f"{self.root}/{folder}" if folder else self.root
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return  # gone already, or a link planted in its place: nothing of ours to remove
        try:
            os.unlink(name, dir_fd=fd)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            pass
        finally:
            os.close(fd)

    def remove_folder(self, name: str) -> bool:
        """Remove the folder `root/name` if it is empty; whether it is gone."""
        try:
            os.rmdir(f"{self.root}/{name}")
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
