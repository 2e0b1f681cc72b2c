"""FileIO: the few file operations tables need, over ``pyarrow.fs``.

Two backends share one interface: a local folder (the embedded default) and S3
(``s3://bucket/prefix``). All paths given to a :class:`FileIO` are relative to its
root, so a table folder can be moved or copied as a whole.

Publishing a snapshot must never overwrite another committer's file, so
:meth:`FileIO.put_if_absent` is atomic: locally a fully written temporary file is
hard-linked to its final name (``os.link`` fails if the name exists); on S3 a
conditional ``PutObject`` with ``If-None-Match: *`` is answered 412 when the key
exists. Both raise :class:`FileExistsConflict`.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from hasivu_compute._core.errors import ConfigError, FileExistsConflict, StorageError

_TMP_MARK = ".tmp-"


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One listed file: path relative to the FileIO root, size and modification time."""

    path: str
    size: int
    mtime_s: float


def is_temporary(path: str) -> bool:
    """Whether ``path`` is a temporary file left by an interrupted local write."""
    return _TMP_MARK in path.rsplit("/", 1)[-1]


class FileIO:
    """File access rooted at a folder or an S3 prefix.

    Use :meth:`from_uri` to build one; :meth:`child` gives a FileIO rooted at a
    sub-folder (a table's own folder).
    """

    def __init__(
        self,
        fs: pafs.FileSystem,
        root: str,
        *,
        s3_options: dict[str, Any] | None = None,
        _shared: dict[str, Any] | None = None,
    ) -> None:
        self._fs = fs
        self._root = root.rstrip("/")
        self._s3_options = s3_options
        # Shared with children: one boto3 client per FileIO tree, made on first use.
        self._shared: dict[str, Any] = {} if _shared is None else _shared

    # --- construction -----------------------------------------------------------

    @classmethod
    def from_uri(cls, uri: str, **s3_options: Any) -> FileIO:
        """FileIO for a local folder (path or ``file://``) or ``s3://bucket/prefix``.

        Args:
            uri: where the data lives.
            **s3_options: passed to ``pyarrow.fs.S3FileSystem`` (``endpoint_override``,
                ``scheme``, ``access_key``, ``secret_key``, ``region``, ...).
        """
        if uri.startswith("s3://"):
            root = uri[len("s3://") :].strip("/")
            if not root:
                raise ConfigError(f"S3 uri {uri!r} names no bucket; use s3://bucket/prefix")
            fs = pafs.S3FileSystem(**s3_options)
            return cls(fs, root, s3_options=dict(s3_options))
        if s3_options:
            raise ConfigError(f"S3 options given for a local uri {uri!r}")
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        # No folder is made here: a reader opening a mistyped path must not leave an empty
        # warehouse behind. Writes create the folders they need.
        path = os.path.abspath(os.path.expanduser(path))
        return cls(pafs.LocalFileSystem(), path)

    def child(self, subpath: str) -> FileIO:
        """A FileIO rooted at ``subpath`` below this one (sharing the filesystem)."""
        return FileIO(
            self._fs, self._full(subpath), s3_options=self._s3_options, _shared=self._shared
        )

    @property
    def is_local(self) -> bool:
        """Whether this FileIO writes to the local filesystem."""
        return isinstance(self._fs, pafs.LocalFileSystem)

    @property
    def root(self) -> str:
        """The root folder (local path, or ``bucket/prefix`` on S3)."""
        return self._root

    @property
    def uri(self) -> str:
        """The root as a uri that :meth:`from_uri` accepts."""
        return self._root if self.is_local else f"s3://{self._root}"

    def _full(self, path: str) -> str:
        path = path.strip("/")
        return f"{self._root}/{path}" if path else self._root

    # --- reading ----------------------------------------------------------------

    def open_input(self, path: str) -> pa.NativeFile:
        """Open a file for random access (``size()`` and ``read_at(nbytes, offset)``)."""
        try:
            return self._fs.open_input_file(self._full(path))
        except FileNotFoundError:
            raise
        except OSError as exc:
            if "not found" in str(exc).lower() or "does not exist" in str(exc).lower():
                raise FileNotFoundError(path) from exc
            raise StorageError(f"cannot open {path!r}: {exc}") from exc

    def read_bytes(self, path: str) -> bytes:
        """The whole content of a file; ``FileNotFoundError`` if it is missing."""
        with self.open_input(path) as f:
            return bytes(f.read_at(f.size(), 0)) if f.size() else b""

    def root_exists(self) -> bool:
        """Whether the root folder (or, on S3, anything under the prefix) exists."""
        if self.is_local:
            return os.path.isdir(self._root)
        return bool(self.list_dirs()) or bool(self.list())

    def exists(self, path: str) -> bool:
        """Whether a file exists at ``path``."""
        return bool(self._fs.get_file_info(self._full(path)).type == pafs.FileType.File)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every file below ``prefix`` (recursive), as sorted root-relative paths."""
        return [s.path for s in self.list_status(prefix)]

    def list_status(self, prefix: str = "") -> builtins.list[FileStatus]:
        """Like :meth:`list` with sizes and modification times (for vacuum's grace period)."""
        selector = pafs.FileSelector(self._full(prefix), recursive=True, allow_not_found=True)
        out: builtins.list[FileStatus] = []
        cut = len(self._root) + 1
        for info in self._fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            mtime = info.mtime.timestamp() if info.mtime is not None else 0.0
            out.append(FileStatus(info.path[cut:], info.size or 0, mtime))
        out.sort(key=lambda s: s.path)
        return out

    def list_dirs(self, prefix: str = "") -> builtins.list[str]:
        """Names of the immediate sub-folders of ``prefix``."""
        selector = pafs.FileSelector(self._full(prefix), recursive=False, allow_not_found=True)
        infos = self._fs.get_file_info(selector)
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    # --- writing ----------------------------------------------------------------

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file atomically (a reader sees all of it or nothing).

        Meant for new, uniquely named files (segments); an existing file is replaced.
        """
        if self.is_local:
            full = self._full(path)
            tmp = self._write_local_temp(full, data)
            try:
                os.replace(tmp, full)
            except BaseException:
                _unlink_quietly(tmp)
                raise
            _fsync_dir(os.path.dirname(full))
            return
        with self._fs.open_output_stream(self._full(path)) as out:
            out.write(data)

    def put_if_absent(self, path: str, data: bytes) -> None:
        """Create ``path`` with ``data`` only if nothing is there yet, atomically.

        Raises:
            FileExistsConflict: the file already exists (someone published first).
        """
        if self.is_local:
            self._put_if_absent_local(self._full(path), data)
        else:
            self._put_if_absent_s3(self._full(path), data)

    def delete(self, path: str) -> None:
        """Delete a file; a missing file is not an error (deletes are idempotent)."""
        try:
            self._fs.delete_file(self._full(path))
        except FileNotFoundError:
            return
        except OSError as exc:
            if not self._fs.get_file_info(self._full(path)).type == pafs.FileType.NotFound:
                raise StorageError(f"cannot delete {path!r}: {exc}") from exc

    def delete_tree(self, prefix: str) -> None:
        """Delete a folder and everything below it (missing is fine).

        A file that vanishes while the tree is walked (a writer's temporary file
        renamed into place), or appears in a folder already emptied, makes the walk
        fail; it is simply walked again.
        """
        full = self._full(prefix)
        for attempt in range(5):
            if self._fs.get_file_info(full).type == pafs.FileType.NotFound:
                return
            try:
                self._fs.delete_dir(full)
                return
            except FileNotFoundError:
                if attempt == 4:
                    raise
            except OSError as exc:
                if exc.errno != errno.ENOTEMPTY and "not empty" not in str(exc).lower():
                    raise
                if attempt == 4:
                    raise StorageError(f"cannot delete {prefix!r}: {exc}") from exc

    # --- local internals --------------------------------------------------------

    def _write_local_temp(self, full: str, data: bytes) -> str:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        base = os.path.basename(full)
        tmp = os.path.join(os.path.dirname(full), f"{base}{_TMP_MARK}{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        os.close(fd)
        return tmp

    def _put_if_absent_local(self, full: str, data: bytes) -> None:
        tmp = self._write_local_temp(full, data)
        try:
            os.link(tmp, full)
        except FileExistsError as exc:
            raise FileExistsConflict(f"{full} already exists") from exc
        finally:
            _unlink_quietly(tmp)
        _fsync_dir(os.path.dirname(full))

    # --- S3 internals -----------------------------------------------------------

    def _client(self) -> Any:
        client = self._shared.get("s3_client")
        if client is None:
            client = self._shared["s3_client"] = _make_s3_client(self._s3_options or {})
        return client

    def _put_if_absent_s3(self, full: str, data: bytes) -> None:
        bucket, _, key = full.partition("/")
        client = self._client()
        try:
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise FileExistsConflict(f"s3://{full} already exists") from exc
            raise StorageError(f"conditional put of s3://{full} failed: {exc}") from exc


def _make_s3_client(options: dict[str, Any]) -> Any:
    """A boto3 S3 client configured like the ``pyarrow.fs.S3FileSystem`` options."""
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - boto3 is installed with the s3 extra
        raise ConfigError("S3 tables need boto3 for conditional puts: pip install boto3") from exc
    kwargs: dict[str, Any] = {}
    endpoint = options.get("endpoint_override")
    if endpoint:
        if "://" not in endpoint:
            endpoint = f"{options.get('scheme', 'https')}://{endpoint}"
        kwargs["endpoint_url"] = endpoint
    if options.get("access_key"):
        kwargs["aws_access_key_id"] = options["access_key"]
        kwargs["aws_secret_access_key"] = options.get("secret_key")
    if options.get("session_token"):
        kwargs["aws_session_token"] = options["session_token"]
    if options.get("region"):
        kwargs["region_name"] = options["region"]
    return boto3.client("s3", **kwargs)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_dir(path: str) -> None:
    # Make the new directory entry durable; not every platform allows it.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
