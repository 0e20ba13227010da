"""The native lot builder: Keccak-256 and lot Merkle trees in C (native/lotmerkle.c) via ctypes.

`build_lot` computes the item ids of a lot, sorts them, and builds the tree of
app/chain/merkle.py (the pure-Python reference the tests hold it to): about 2.8 million items
per second on one core of an AVX-512 machine, 1.6 million with AVX2, 1 million on baseline
x86-64 (bench/native_tree.py; the C code picks the variant for the CPU at load time). The
caller passes buffers, so there is no per-item Python work; ctypes releases the GIL during the
call, so threads can build lots in parallel (the C code keeps no mutable globals).

The shared library is built into .build/native/ by `make setup`, or on first use when it is
missing or older than the C source (under a file lock, so concurrent processes build it once).
`python -m app.scale.native` builds it and prints its path.
"""

import ctypes
import fcntl
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from app.core.config import PROJECT_ROOT
from app.scale.shape import first_stored_level, stored_level_sizes

SOURCE: Final = PROJECT_ROOT / "native" / "lotmerkle.c"
LIBRARY: Final = PROJECT_ROOT / ".build" / "native" / "liblotmerkle.so"
CFLAGS: Final = ("-O3", "-fPIC", "-shared")

_OK, _DUPLICATE, _BAD_OFFSETS, _BAD_MD_INDEX, _NO_MEMORY, _BAD_ARGS = range(6)

Buffer = bytes | bytearray | memoryview


class NativeBuildError(RuntimeError):
    """The native library could not be built; the message says why."""


def _stale(library: Path, source: Path) -> bool:
    return not library.exists() or library.stat().st_mtime < source.stat().st_mtime


def build_library(source: Path = SOURCE, library: Path = LIBRARY) -> Path:
    """Compile `source` into `library` unless it is up to date; returns `library`."""
    if not _stale(library, source):
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    with open(library.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if not _stale(library, source):
            return library
        compiler = os.environ.get("CC", "cc")
        if shutil.which(compiler) is None:
            raise NativeBuildError(
                f"building {library} needs a C compiler, but `{compiler}` is not on PATH "
                "(install gcc, or set CC to a C compiler)"
            )
        partial = library.with_name(f"{library.name}.{os.getpid()}.tmp")
        command = [compiler, *CFLAGS, "-o", str(partial), str(source)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise NativeBuildError(f"{' '.join(command)} failed:\n{done.stderr}")
        os.replace(partial, library)  # atomic: a reader sees the old library or the new one
    return library


@cache
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build_library()))
    lib.lotmerkle_keccak256.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    lib.lotmerkle_keccak256.restype = None
    size, pointer = ctypes.c_size_t, ctypes.c_void_p
    lib.lotmerkle_build_lot.argtypes = (
        pointer,  # gtin14
        pointer,  # serials
        size,  # serials_len
        pointer,  # offsets
        size,  # n
        pointer,  # md_table
        size,  # m
        pointer,  # md_index
        pointer,  # ids_out
        pointer,  # md_index_out
        pointer,  # upper_out
        size,  # upper_len
        pointer,  # root_out
        ctypes.POINTER(ctypes.c_size_t),  # where
    )
    lib.lotmerkle_build_lot.restype = ctypes.c_int
    lib.lotmerkle_tree.argtypes = (
        pointer,  # ids
        size,  # n
        pointer,  # md_table
        size,  # m
        pointer,  # md_index
        pointer,  # upper_out
        size,  # upper_len
        pointer,  # root_out
        ctypes.POINTER(ctypes.c_size_t),  # where
    )
    lib.lotmerkle_tree.restype = ctypes.c_int
    return lib


def _address(buffer: Buffer) -> "bytes | ctypes.Array[ctypes.c_char]":
    """Something ctypes passes as a pointer to `buffer`'s bytes, without copying them."""
    if isinstance(buffer, bytes):
        return buffer
    view = memoryview(buffer)
    if view.readonly:
        return view.tobytes()  # read-only views other than bytes: one copy is the only way
    return (ctypes.c_char * view.nbytes).from_buffer(view)


def keccak256(data: Buffer) -> bytes:
    """Keccak-256 of `data` (Ethereum's keccak, not SHA3-256)."""
    out = ctypes.create_string_buffer(32)
    _lib().lotmerkle_keccak256(_address(data), len(memoryview(data)), out)
    return out.raw


@dataclass(frozen=True)
class BuiltLot:
    """A lot's tree, in the layout a compact store keeps (app/scale/shape.py).

    `ids`: the n item ids (32 bytes each), ascending; `md_index`: n little-endian uint32 indexes
    into the caller's metadata table, following `ids`; `upper`: the stored levels (from
    CHUNK_LEVELS, or just the top when the tree is lower) concatenated lowest first;
    `level_sizes`: node count of each stored level; `root`: the Merkle root.
    """

    ids: bytes
    md_index: bytes
    upper: bytes
    level_sizes: tuple[int, ...]
    root: bytes

    @property
    def first_level(self) -> int:
        """The tree level of the first stored level in `upper`."""
        return first_stored_level(len(self.ids) // 32)


def _serial(serials: Buffer, offsets: Buffer, i: int) -> str:
    start, end = struct.unpack_from("<II", offsets, 4 * i)
    return bytes(memoryview(serials)[start:end]).decode("utf-8", "replace")


def build_lot(gtin14: str, serials: Buffer, offsets: Buffer, md_table: Buffer, md_index: Buffer) -> BuiltLot:
    """The tree of a lot of n items of GTIN `gtin14` (see the module docstring).

    `serials`: the n UTF-8 serials concatenated; `offsets`: n + 1 little-endian uint32 offsets
    into `serials` (serial i is serials[offsets[i]:offsets[i + 1]]); `md_table`: m distinct
    32-byte metadata hashes concatenated; `md_index`: n little-endian uint32 indexes into it.
    Item id = keccak256("01" + gtin14 + "21" + serial) (app/gs1/keys.py).
    """
    if len(gtin14) != 14 or not gtin14.isascii() or not gtin14.isdigit():
        raise ValueError(f"GTIN {gtin14!r} must be the 14-digit form")
    offsets_len, md_index_len, md_table_len = (memoryview(b).nbytes for b in (offsets, md_index, md_table))
    n = offsets_len // 4 - 1
    if n < 1 or offsets_len % 4:
        raise ValueError("offsets must hold n + 1 uint32 values for n >= 1 items")
    if md_index_len != 4 * n:
        raise ValueError(f"md_index holds {md_index_len} bytes; {n} items need {4 * n}")
    if md_table_len == 0 or md_table_len % 32:
        raise ValueError("md_table must hold one or more 32-byte metadata hashes")
    sizes = stored_level_sizes(n)
    ids, order, upper = bytearray(32 * n), bytearray(4 * n), bytearray(32 * sum(sizes))
    root, where = ctypes.create_string_buffer(32), ctypes.c_size_t()
    status = _lib().lotmerkle_build_lot(
        gtin14.encode("ascii"),
        _address(serials),
        memoryview(serials).nbytes,
        _address(offsets),
        n,
        _address(md_table),
        md_table_len // 32,
        _address(md_index),
        _address(ids),
        _address(order),
        _address(upper),
        len(upper),
        root,
        ctypes.byref(where),
    )
    i = where.value
    if status == _DUPLICATE:
        raise ValueError(f"serial {_serial(serials, offsets, i)!r} is listed twice")
    if status == _BAD_OFFSETS:
        raise ValueError(f"offsets[{i}:{i + 2}] do not delimit a serial within the {n} items' serials")
    if status == _BAD_MD_INDEX:
        raise ValueError(f"md_index[{i}] is past the {md_table_len // 32} metadata hashes of md_table")
    if status == _NO_MEMORY:
        raise MemoryError(f"not enough memory to build a lot of {n} items")
    if status != _OK:
        raise RuntimeError(f"lotmerkle_build_lot returned {status}")
    return BuiltLot(bytes(ids), bytes(order), bytes(upper), sizes, root.raw)


def tree_of(ids: Buffer, md_table: Buffer, md_index: Buffer) -> tuple[bytes, bytes]:
    """The stored levels and root of the tree over a stored lot's items (see `BuiltLot`): `ids`
    ascending, `md_index` into `md_table`, as a lot file holds them. Raises ValueError when
    the ids do not ascend strictly or an index is past the table: to check a lot file against
    the root on chain, without its serials."""
    n, m = memoryview(ids).nbytes // 32, memoryview(md_table).nbytes // 32
    if n < 1 or memoryview(ids).nbytes % 32 or memoryview(md_index).nbytes != 4 * n:
        raise ValueError("a lot holds n >= 1 ids of 32 bytes and n metadata indexes of 4")
    upper = bytearray(32 * sum(stored_level_sizes(n)))
    root, where = ctypes.create_string_buffer(32), ctypes.c_size_t()
    status = _lib().lotmerkle_tree(
        _address(ids),
        n,
        _address(md_table),
        m,
        _address(md_index),
        _address(upper),
        len(upper),
        root,
        ctypes.byref(where),
    )
    if status == _DUPLICATE:
        raise ValueError(f"item ids {where.value - 1} and {where.value} are not in ascending order")
    if status == _BAD_MD_INDEX:
        raise ValueError(f"metadata index {where.value} is past the {m} metadata hashes")
    if status == _NO_MEMORY:
        raise MemoryError(f"not enough memory to check a lot of {n} items")
    if status != _OK:
        raise RuntimeError(f"lotmerkle_tree returned {status}")
    return bytes(upper), root.raw


if __name__ == "__main__":
    print(build_library())
