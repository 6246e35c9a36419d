"""save_model / load_model / save_weights / load_weights / to_json and back.

Every file is written to a temporary file beside the target and renamed into place, so a crash
during a save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import io
import json
import os

from numkeras.saving import archive, legacy_h5, serialization
from numkeras.saving import weights as weights_module
from numkeras.utils.files import write_atomic
from numkeras.saving.errors import SavingError

_ZIP_SIGNATURE = b"PK\x03\x04"
_EMPTY_ZIP_SIGNATURE = b"PK\x05\x06"


def _describe(filepath) -> str:
    if isinstance(filepath, (str, os.PathLike)):
        return f"'{os.fspath(filepath)}'"
    return f"<{type(filepath).__name__}>"


def _is_file_object(filepath) -> bool:
    return hasattr(filepath, "read") or hasattr(filepath, "write")


@contextlib.contextmanager
def _reading(description: str):
    """Every failure while reading a file becomes a :class:`SavingError` naming the file.

    The readers check what they can and raise SavingError themselves; this is the net under
    them for what a damaged file can still provoke in h5py, zipfile or a layer's constructor
    (a UnicodeEncodeError from a mangled attribute, a MemoryError, ...). Errors of the file
    system itself (no such file, no permission) stay OSErrors, as Keras raises them.
    """
    try:
        yield
    except (SavingError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except OSError as error:
        if error.errno is None:  # h5py and zipfile report a corrupt file as a bare OSError
            raise SavingError(f"{description} could not be read ({error}); the file is "
                              f"truncated or corrupt.") from error
        raise
    except MemoryError as error:
        raise SavingError(f"{description} needs more memory to load than is available."
                          ) from error
    except Exception as error:  # noqa: BLE001 - re-raised as the one error type of files
        text = str(error)[:300]
        raise SavingError(f"{description} could not be read: {type(error).__name__}: {text}. "
                          f"The file is corrupt or not a model saved by Keras or "
                          f"numkeras.") from error


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """Save ``model`` whole: architecture, weights, compile config and optimizer state.

    ``.keras`` (or a binary file object) gives the Keras 3 archive, which real Keras 3 opens;
    ``.h5``/``.hdf5`` gives the legacy tf.keras HDF5 file (``include_optimizer=`` applies).
    The write is atomic.

    >>> import os, tempfile
    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> save_model(model, path)
    >>> load_model(path).count_params()
    8
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword arguments {sorted(kwargs)}; it "
                        f"takes overwrite, zipped, include_optimizer and save_format.")
    if zipped is False:
        raise SavingError("zipped=False (an unzipped directory) is not supported; save to a "
                          "'.keras' file.")
    if _is_file_object(filepath):
        archive.write_archive(model, filepath)
        return
    path = os.fspath(filepath)
    if save_format == "h5" or path.endswith((".h5", ".hdf5")):
        write_atomic(path, lambda handle: legacy_h5.write_model(
            model, handle, include_optimizer=include_optimizer), overwrite=overwrite)
        return
    if save_format not in (None, "keras") or not path.endswith(".keras"):
        raise SavingError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for "
            "the native Keras format (recommended) or a `.h5` extension. Use "
            f"`model.export(filepath)` if you want to export a SavedModel. Received: "
            f"filepath={path}.")
    write_atomic(path, lambda handle: archive.write_archive(model, handle), overwrite=overwrite)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model saved by numkeras, Keras 3 (``.keras``) or tf.keras (``.h5``).

    Loading reads data, never code: classes come only from numkeras's own layers and the
    ``custom_objects`` you pass (a dict of name -> class or function). ``Lambda`` layers and
    objects from unknown modules are refused (:class:`UnsafeFileError`); ``safe_mode=False``
    allows a ``Lambda`` layer only if you pass its implementation in ``custom_objects``.
    Problems with the file raise :class:`SavingError` naming the file, the member and what is
    wrong. With ``compile=True`` the model is compiled as saved and its optimizer state
    restored.
    """
    description = _describe(filepath)
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict of name -> class or function, received "
                        f"{type(custom_objects).__name__}.")
    with _reading(description):
        kind = _sniff(filepath, description)
        if kind == "zip":
            return archive.load_archive(filepath, description, custom_objects, compile,
                                        safe_mode)
        return legacy_h5.load_model(filepath, description, custom_objects, compile, safe_mode)


def _sniff(filepath, description: str) -> str:
    """'zip' or 'hdf5' from the file's first bytes (the extension can lie)."""
    if _is_file_object(filepath):
        position = filepath.tell()
        head = filepath.read(8)
        filepath.seek(position)
    else:
        path = os.fspath(filepath)
        if os.path.isdir(path):
            raise SavingError(
                f"File format not supported: filepath={path} is a directory. Keras 3 and "
                f"numkeras load `.keras` archives and legacy `.h5` files, not TensorFlow "
                f"SavedModel directories.")
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {description}. Check the path.")
        with open(path, "rb") as handle:
            head = handle.read(8)
    if head.startswith((_ZIP_SIGNATURE, _EMPTY_ZIP_SIGNATURE)):
        return "zip"
    if head == weights_module.HDF5_SIGNATURE:
        return "hdf5"
    raise SavingError(
        f"File format not supported: {description} is neither a `.keras` archive (ZIP) nor a "
        f"legacy `.h5` file (HDF5): it starts with {head!r}. The file is corrupt or of another "
        f"format.")


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save the weights (and optimizer state) to a Keras 3 ``.weights.h5`` file, atomically."""
    path = os.fspath(filepath)
    if not path.endswith(".weights.h5"):
        raise SavingError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    write_atomic(path, lambda handle: weights_module.write_weights(model, handle),
                 overwrite=overwrite)


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load weights from a ``.weights.h5`` (Keras 3), a legacy ``.h5`` or a ``.keras`` file.

    All of the file is checked before the model changes: a file that does not fit the model
    raises :class:`SavingError` and leaves the model as it was (``skip_mismatch=True``: layers
    that do not fit are skipped with a warning).
    """
    description = _describe(filepath)
    with _reading(description):
        if _sniff(filepath, description) == "zip":
            archive.load_archive_weights(model, filepath, description, skip_mismatch)
            return
        if _is_file_object(filepath):
            filepath = filepath.read()
        with weights_module.WeightsFile(filepath, description) as weights:
            if legacy_h5.is_legacy(weights):
                legacy_h5.load_weights(model, weights, skip_mismatch)
            else:
                weights_module.load_into(model, weights, skip_mismatch=skip_mismatch)


def model_to_json(model, **kwargs) -> str:
    """The model's architecture as Keras 3 JSON (``kwargs`` go to ``json.dumps``).

    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> model_from_json(model_to_json(model)).count_params()
    8
    """
    return json.dumps(serialization.serialize_model(model, include_compile=False), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new (built, freshly initialised) model from :func:`model_to_json`'s JSON, Keras 3's
    or tf.keras's ``to_json()``; the same safety rules as :func:`load_model` apply."""
    if isinstance(json_string, (bytes, bytearray)):
        data = bytes(json_string)
    elif isinstance(json_string, str):
        data = json_string.encode("utf-8")
    else:
        raise TypeError(f"model_from_json expects a JSON string, received "
                        f"{type(json_string).__name__}.")
    if len(data) > archive.MAX_JSON_BYTES:
        raise SavingError(f"The JSON string has {len(data)} bytes, more than the "
                          f"{archive.MAX_JSON_BYTES} allowed for a model config.")
    config = archive.parse_json(data, "The JSON string")
    if not isinstance(config, dict):
        raise SavingError("The JSON string must hold a JSON object describing a model.")
    serialization.check_safe(config, custom_objects, True, "The JSON string")
    return serialization.build_model(config, custom_objects, where="The JSON string")


def archive_bytes(model) -> bytes:
    """The ``.keras`` archive of ``model`` as bytes (for sending it without a file)."""
    buffer = io.BytesIO()
    archive.write_archive(model, buffer)
    return buffer.getvalue()
