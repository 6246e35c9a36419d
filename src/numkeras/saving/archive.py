"""The Keras 3 ``.keras`` archive: a ZIP of ``metadata.json``, ``config.json`` and
``model.weights.h5``, written as Keras 3.15 writes it and read with checks on every member.

Written: exactly those three members in that order, all ``ZIP_STORED``; the two JSON members
dated 1980-01-01 00:00 (the DOS epoch) and the weights dated with the save time, as Keras's
``zipfile`` calls leave them. Read: compressed (DEFLATE) or stored members, with or without
``metadata.json``; member names must be plain relative paths, sizes must agree with what the
archive declares and stay within limits, and every member is read through a bounded reader,
so a corrupt or hostile archive gives a :class:`SavingError`, never a huge allocation.

>>> import io, zipfile
>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> buffer = io.BytesIO()
>>> write_archive(model, buffer)
>>> zipfile.ZipFile(buffer).namelist()
['metadata.json', 'config.json', 'model.weights.h5']
"""

from __future__ import annotations

import datetime
import json
import re
import zipfile
import zlib

import numpy as np

from numkeras.saving import serialization
from numkeras.saving import weights as weights_module
from numkeras.saving.errors import SavingError, UnsafeFileError

METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
# The Keras version numkeras's archives declare: the format written is Keras 3.15's.
KERAS_VERSION = "3.15.1"
MAX_JSON_BYTES = 64 * 2 ** 20
MAX_MEMBERS = 10_000
# DEFLATE cannot expand data by more than about 1032:1; a member declaring more is a bomb.
_DEFLATE_MAX_RATIO = 1100
_DRIVE = re.compile(r"^[A-Za-z]:")


def write_archive(model, handle) -> None:
    """Write ``model`` as a ``.keras`` archive to the binary file object ``handle``."""
    config = json.dumps(serialization.serialize_model(model))
    metadata = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    })
    weights = weights_module.weights_bytes(model)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        # A ZipInfo made from a name alone carries the DOS epoch, 1980-01-01 00:00.
        archive.writestr(zipfile.ZipInfo(METADATA), metadata.encode("utf-8"))
        archive.writestr(zipfile.ZipInfo(CONFIG), config.encode("utf-8"))
        archive.writestr(WEIGHTS, weights)  # dated now, like Keras's weights member
        for name, data in asset_files(model):  # e.g. an adapted vocabulary, as Keras
            archive.writestr(name, data)


def asset_files(model) -> list[tuple[str, bytes]]:
    """``(member name, bytes)`` of the assets of every layer that has some (a layer's
    ``save_assets_bytes()``), under ``assets/<the layer's weights path>/`` as Keras 3 names
    them (``assets/layers/text_vectorization/vocabulary.txt``)."""
    files = []
    for path, obj in weights_module.saveables(model):
        save = getattr(obj, "save_assets_bytes", None)
        if save is not None:
            files += [(f"assets/{path}/{name}", data) for name, data in save().items()]
    return files


def load_assets(model, archive: "ArchiveReader") -> None:
    """Give each layer that reads assets (``asset_names()``, ``load_assets_bytes(files)``)
    the members of its directory that it names; members are read with the JSON size limit."""
    for path, obj in weights_module.saveables(model):
        load = getattr(obj, "load_assets_bytes", None)
        if load is None:
            continue
        files = {name: archive.read(f"assets/{path}/{name}", MAX_JSON_BYTES)
                 for name in obj.asset_names() if f"assets/{path}/{name}" in archive}
        if files:
            load(files)


def parse_json(data: bytes, where: str):
    """``data`` as JSON, or a SavingError naming ``where`` and the position of the problem."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SavingError(f"{where} is not UTF-8 text ({error}).") from error
    except RecursionError as error:
        raise UnsafeFileError(f"{where} is nested too deeply to parse.") from error
    except ValueError as error:
        raise SavingError(f"{where} is not valid JSON: {error}. The file is corrupt or was "
                          f"edited by hand.") from error


class ArchiveReader:
    """A ZIP archive opened for checked reading (member names, sizes, compression)."""

    def __init__(self, source, description: str):
        self.description = description
        try:
            self.zip = zipfile.ZipFile(source)
            infos = self.zip.infolist()
        except Exception as error:  # BadZipFile, EOFError, OSError, ValueError ...
            raise SavingError(f"{description} is not a valid .keras (ZIP) archive: {error}. "
                              f"The file is truncated or corrupt.") from error
        if len(infos) > MAX_MEMBERS:
            raise UnsafeFileError(f"{description} has {len(infos)} members; a Keras archive has "
                                  f"a handful. Refusing more than {MAX_MEMBERS}.")
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            self._check_name(name)
            if name in self.members:
                raise UnsafeFileError(f"{description} has two members named '{name}'; refusing "
                                      f"an ambiguous archive.")
            self.members[name] = info

    def _check_name(self, name: str) -> None:
        parts = name.split("/")
        if not name or name.startswith("/") or "\\" in name or "\x00" in name \
                or _DRIVE.match(name) or ".." in parts:
            raise UnsafeFileError(
                f"{self.description} has a member named {name!r}: an absolute path, a path "
                f"with '..', a drive or a backslash. Such names can write outside a target "
                f"directory; refusing the archive.")

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of member ``name`` after checking its declared size against ``limit`` and
        against its stored size; reads at most the declared size plus one byte."""
        info = self.members[name]
        where = f"{self.description}, member '{name}'"
        if info.flag_bits & 0x1:
            raise SavingError(f"{where} is encrypted; numkeras reads unencrypted archives only.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SavingError(f"{where} uses compression method {info.compress_type}; only "
                              f"stored and DEFLATE members (what Keras and zip tools write) are "
                              f"supported.")
        declared, stored = info.file_size, info.compress_size
        if declared > limit:
            raise UnsafeFileError(f"{where} declares {declared} bytes, more than the {limit} "
                                  f"bytes it can legitimately need; refusing to read it (a zip "
                                  f"bomb or a corrupt archive).")
        if info.compress_type == zipfile.ZIP_STORED and declared != stored:
            raise SavingError(f"{where} is stored uncompressed but declares {declared} bytes "
                              f"and occupies {stored}; the archive is corrupt.")
        if info.compress_type == zipfile.ZIP_DEFLATED \
                and declared > _DEFLATE_MAX_RATIO * stored + 1024:
            raise UnsafeFileError(f"{where} declares {declared} bytes from {stored} compressed "
                                  f"bytes, more than DEFLATE can produce: a zip bomb.")
        try:
            with self.zip.open(info) as handle:
                data = handle.read(declared + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as error:
            raise SavingError(f"{where} cannot be read ({error}); the archive is truncated or "
                              f"corrupt.") from error
        if len(data) != declared:
            raise SavingError(f"{where} holds {len(data)} bytes but declares {declared}; the "
                              f"archive is corrupt.")
        return data


def max_weights_file_bytes(model) -> int:
    """A generous bound on the size of a genuine weights file for ``model``: its weights and
    up to 7 optimizer slots per weight, plus HDF5 overhead per object."""
    weight_bytes = sum(int(v.data.nbytes) for v in model.weights)
    # Named state (a tf_idf lookup's idf_weights) is known once the assets are loaded.
    weight_bytes += sum(int(np.asarray(value).nbytes) for _, obj in weights_module.saveables(model)
                        for value in weights_module.named_variables(obj).values())
    objects = len(weights_module.saveables(model)) + 8 * len(model.weights) + 16
    return 8 * weight_bytes + 2 ** 20 + 2 ** 14 * objects


def load_archive(source, description: str, custom_objects=None, compile: bool = True,
                 safe_mode: bool = True):
    """The model stored in a ``.keras`` archive (see :func:`numkeras.saving.load_model`)."""
    with ArchiveReader(source, description) as archive:
        if CONFIG not in archive:
            raise SavingError(f"{description} has no 'config.json' member, so it is not a Keras "
                              f"3 model archive (members: {sorted(archive.members)[:10]}).")
        config_where = f"{description}, member 'config.json'"
        config = parse_json(archive.read(CONFIG, MAX_JSON_BYTES), config_where)
        if not isinstance(config, dict):
            raise SavingError(f"{config_where} must hold a JSON object (the model), found "
                              f"{type(config).__name__}.")
        if WEIGHTS not in archive:
            other = " It stores 'model.weights.npz', which numkeras does not read." \
                if "model.weights.npz" in archive else ""
            raise SavingError(f"{description} has no 'model.weights.h5' member.{other} Save the "
                              f"model with Keras's default weights format (h5).")
        serialization.check_safe(config, custom_objects, safe_mode, config_where)
        declared = archive.members[WEIGHTS].file_size
        model = serialization.build_model(config, custom_objects,
                                          max_weight_bytes=2 * declared + 2 ** 20,
                                          where=config_where)
        load_assets(model, archive)  # first: it sizes named state (idf_weights) for the bound
        data = archive.read(WEIGHTS, max_weights_file_bytes(model))
    if compile:
        serialization.compile_from_config(model, config.get("compile_config"), custom_objects,
                                          config_where)
    with weights_module.WeightsFile(data, f"{description}, member '{WEIGHTS}'") as weights:
        weights_module.load_into(model, weights, load_optimizer=compile)
    return model


def load_archive_weights(model, source, description: str, skip_mismatch: bool = False) -> None:
    """Load only the weights (and optimizer state) stored in a ``.keras`` archive."""
    with ArchiveReader(source, description) as archive:
        if WEIGHTS not in archive:
            raise SavingError(f"{description} has no 'model.weights.h5' member to load weights "
                              f"from.")
        data = archive.read(WEIGHTS, max_weights_file_bytes(model))
    with weights_module.WeightsFile(data, f"{description}, member '{WEIGHTS}'") as weights:
        weights_module.load_into(model, weights, skip_mismatch=skip_mismatch)
