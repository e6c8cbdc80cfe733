"""`tf.gfile`: TF1's file helpers over the local file system (TF1's file_io on local paths).

Errors are TF1's: a missing file or folder raises `tf.errors.NotFoundError`, an existing
target `AlreadyExistsError` (Rename, Copy without overwrite), other OS failures
`tf.errors.UnknownError`/`PermissionDeniedError`. GFile opens lazily, as TF1's does (a
missing file raises on the first read), and reads str in text modes, bytes in "b" modes.
"""
from __future__ import annotations

import contextlib
import glob as _glob
import os
import shutil

from lowerflow.runtime import errors


@contextlib.contextmanager
def _tf_errors(path: str):
    """OS errors as TF1's error classes."""
    try:
        yield
    except FileNotFoundError as e:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from e
    except FileExistsError as e:
        raise errors.AlreadyExistsError(None, None, f"{path}; File exists") from e
    except PermissionError as e:
        raise errors.PermissionDeniedError(None, None, f"{path}; Permission denied") from e
    except NotADirectoryError as e:
        raise errors.FailedPreconditionError(None, None, f"{path}; Not a directory") from e
    except OSError as e:
        raise errors.UnknownError(None, None, f"{path}; {e.strerror or e}") from e


class GFile:
    """A file with TF1's GFile interface: read(n), readline, readlines, iteration, write,
    seek/tell, flush, close, and the context-manager protocol."""

    def __init__(self, name, mode: str = "r"):
        if mode not in ("r", "w", "a", "rb", "wb", "ab", "r+", "w+", "a+", "rb+", "wb+", "ab+"):
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self.name, self.mode, self._file = os.fspath(name), mode, None

    def _handle(self):
        if self._file is None:
            with _tf_errors(self.name):
                self._file = open(self.name, self.mode, **({} if "b" in self.mode else {"newline": ""}))
        return self._file

    def read(self, n: int = -1):
        return self._handle().read(n)

    def readline(self):
        return self._handle().readline()

    def readlines(self):
        return self._handle().readlines()

    def write(self, file_content) -> None:
        handle = self._handle()
        if "b" in self.mode and isinstance(file_content, str):
            file_content = file_content.encode()
        elif "b" not in self.mode and isinstance(file_content, bytes):
            file_content = file_content.decode()
        handle.write(file_content)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle().seek(offset, whence)

    def tell(self) -> int:
        return self._handle().tell()

    def size(self) -> int:
        return os.stat(self.name).st_size

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Open = FastGFile = GFile


def Exists(filename) -> bool:  # noqa: N802  (TF1 names, here and below)
    return os.path.exists(os.fspath(filename))


def IsDirectory(dirname) -> bool:  # noqa: N802
    return os.path.isdir(os.fspath(dirname))


def MakeDirs(dirname) -> None:  # noqa: N802
    """The folder and its missing parents; an existing folder is fine."""
    dirname = os.fspath(dirname)
    if os.path.exists(dirname) and not os.path.isdir(dirname):
        raise errors.FailedPreconditionError(None, None, f"{dirname} is not a directory")
    with _tf_errors(dirname):
        os.makedirs(dirname, exist_ok=True)


def MkDir(dirname) -> None:  # noqa: N802
    """One folder; its parent must exist (an existing folder is fine, as in TF1)."""
    dirname = os.fspath(dirname)
    if not os.path.isdir(dirname):
        with _tf_errors(dirname):
            os.mkdir(dirname)


def ListDirectory(dirname) -> list[str]:  # noqa: N802
    """The entries' names (not paths), without "." and ".."."""
    dirname = os.fspath(dirname)
    if not os.path.isdir(dirname):
        raise errors.NotFoundError(None, None, f"Could not find directory {dirname}")
    with _tf_errors(dirname):
        return os.listdir(dirname)


def Glob(filename) -> list[str]:  # noqa: N802
    return _glob.glob(os.fspath(filename))


def Remove(filename) -> None:  # noqa: N802
    with _tf_errors(os.fspath(filename)):
        os.remove(os.fspath(filename))


def DeleteRecursively(dirname) -> None:  # noqa: N802
    """A folder and all it holds (or one file)."""
    dirname = os.fspath(dirname)
    if not os.path.lexists(dirname):
        raise errors.NotFoundError(None, None, f"{dirname} not found")
    with _tf_errors(dirname):
        if os.path.isdir(dirname) and not os.path.islink(dirname):
            shutil.rmtree(dirname)
        else:
            os.remove(dirname)


def Copy(oldpath, newpath, overwrite: bool = False) -> None:  # noqa: N802
    oldpath, newpath = os.fspath(oldpath), os.fspath(newpath)
    if not overwrite and os.path.exists(newpath):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    with _tf_errors(oldpath):
        if not (os.path.exists(newpath) and os.path.samefile(oldpath, newpath)):
            shutil.copyfile(oldpath, newpath)


def Rename(oldname, newname, overwrite: bool = False) -> None:  # noqa: N802
    oldname, newname = os.fspath(oldname), os.fspath(newname)
    if not overwrite and os.path.exists(newname):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {newname}")
    with _tf_errors(oldname):
        os.replace(oldname, newname)


def Walk(top, in_order: bool = True):  # noqa: N802
    """(folder, subfolder names, file names) per folder, as os.walk (top-down when in_order)."""
    yield from os.walk(os.fspath(top), topdown=in_order)
