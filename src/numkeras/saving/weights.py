"""Keras 3's weights layout in HDF5 (``model.weights.h5`` and ``.weights.h5`` files).

Every object with state gets a group ``<path>/vars`` whose datasets ``"0"``, ``"1"`` ... are its
variables in its own order. Paths do not use ``layer.name``: inside a list each element is
addressed by its snake_case class name made unique within the list (``layers/dense``,
``layers/dense_1``, ``layers/flatten``), the optimizer is ``optimizer`` and the model itself is
the root (``/vars``). This module walks a model the way Keras does, writes that tree, and reads
it back with checks on every group and dataset before anything is assigned.

>>> import numkeras as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
...                           keras.layers.Dense(1)])
>>> [path for path, _ in saveables(model)]
['', 'layers/dense', 'layers/dense_1']
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import warnings

import numpy as np

from numkeras.layers.layer import Layer
from numkeras.models.functional import Functional
from numkeras.models.sequential import Sequential
from numkeras.optimizers import Optimizer
from numkeras.saving import hdf5_chunks, hdf5_heaps
from numkeras.saving.errors import SavingError, UnsafeFileError
from numkeras.utils import naming

# Attributes never walked for state: the layer bookkeeping that Keras skips too (the input layer
# of a Sequential, the list of tracked sublayers), and training internals.
_SKIPPED_ATTRIBUTES = frozenset({"_layers", "_input_layer", "_buffer", "history",
                                 "_functional"})  # a Sequential's graph: its layers are listed
# Where numkeras keeps a layer's random generator state (Dropout masks): an attribute of the
# layer's `vars` group, as a uint8 array holding JSON. Keras ignores it.
RNG_STATE_ATTRIBUTE = "numkeras_rng_state"
_MAX_RNG_STATE_BYTES = 1 << 16
# Bounds on what a weights file may hold before numkeras refuses to walk it.
_MAX_DEPTH = 64
_MAX_OBJECTS = 200_000
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def h5py_module():
    """h5py, imported on first use so that ``import numkeras`` does not pay for it."""
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - h5py is a required dependency
        raise ImportError("numkeras.saving needs h5py for HDF5 files: pip install h5py") \
            from error
    return h5py


# ----- the walk: which objects have state, under which path -----
def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name  # private attributes last, as Keras


def _contains_layers(value, depth: int = 0) -> bool:
    """Whether a (nested) list, tuple or dict holds a layer or an optimizer."""
    if isinstance(value, (Layer, Optimizer)):
        return True
    if depth > 8 or not isinstance(value, (list, tuple, dict)):
        return False
    items = value.values() if isinstance(value, dict) else value
    return any(_contains_layers(item, depth + 1) for item in items)


def _children(obj):
    """(attribute, child) pairs of ``obj`` in Keras's order: a Sequential's ``layers`` first,
    then attributes holding layers, lists of layers or the optimizer, sorted by name."""
    if isinstance(obj, Optimizer):
        return
    if isinstance(obj, (Sequential, Functional)):  # a Functional's layers include its Inputs
        yield "layers", list(obj.layers)
    for attribute in sorted(vars(obj), key=_name_key):
        if attribute in _SKIPPED_ATTRIBUTES:
            continue
        value = vars(obj)[attribute]
        is_container = isinstance(value, (list, tuple, dict)) and _contains_layers(value)
        if isinstance(value, (Layer, Optimizer)) or is_container:
            yield attribute, value


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def saveables(model) -> list[tuple[str, object]]:
    """Every layer, model and optimizer under ``model`` with its Keras weights path, in the order
    Keras saves them; an object reachable twice is listed once (at its first path)."""
    found: list[tuple[str, object]] = []
    _walk(model, "", found, set())
    return found


def _walk(obj, path: str, found: list, visited: set) -> None:
    if id(obj) in visited:
        return
    visited.add(id(obj))
    found.append((path, obj))
    for attribute, child in _children(obj):
        child_path = _join(path, attribute)
        if isinstance(child, (Layer, Optimizer)):
            _walk(child, child_path, found, visited)
        else:
            _walk_container(child, child_path, found, visited)


def _walk_container(container, path: str, found: list, visited: set) -> None:
    items = list(container.values()) if isinstance(container, dict) else list(container)
    used: dict[str, int] = {}
    for item in items:
        if isinstance(item, (Layer, Optimizer)):
            base = naming.to_snake_case(type(item).__name__)
        elif isinstance(item, (list, tuple, dict)):
            base = "container"
        else:
            continue
        count = used.get(base)
        used[base] = 0 if count is None else count + 1
        name = base if count is None else f"{base}_{count + 1}"
        if isinstance(item, (Layer, Optimizer)):
            _walk(item, _join(path, name), found, visited)
        else:
            _walk_container(item, _join(path, name), found, visited)


def own_variables(obj) -> list:
    """The state ``obj`` saves itself, in Keras's order: a layer's own trainable then
    non-trainable variables (not its sublayers'), an optimizer's ``variables``."""
    if isinstance(obj, Optimizer):
        return list(obj.variables)
    return list(obj._trainable_weights) + list(obj._non_trainable_weights)


def named_variables(obj) -> dict:
    """State ``obj`` saves under names instead of indices, as Keras's ``save_own_variables``
    does for some layers (a ``tf_idf`` lookup's ``vars/idf_weights``): ``{name: array}`` from
    the object's ``save_named_variables()``, or ``{}``."""
    save = getattr(obj, "save_named_variables", None)
    return dict(save()) if save is not None else {}


def _describe(variable) -> str:
    name = getattr(variable, "name", None)
    shape = tuple(np.shape(variable.data if hasattr(variable, "data") else variable))
    return f"{name} {shape}" if name else str(shape)


# ----- random generator state (Dropout masks) -----
def _generator(layer):
    rng = vars(layer).get("_rng") if isinstance(layer, Layer) else None
    return rng if isinstance(rng, np.random.Generator) else None


def get_random_state(model) -> dict:
    """The state of every layer's random generator, by weights path (JSON-compatible).

    Together with the weights and the optimizer state this is all a training run needs to
    continue exactly (``fit`` derives its shuffling from the seed and the epoch).

    >>> import numkeras as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5)])
    >>> list(get_random_state(model))
    ['layers/dropout']
    """
    return {path: _generator(obj).bit_generator.state
            for path, obj in saveables(model) if _generator(obj) is not None}


def set_random_state(model, states: dict) -> None:
    """Restore states returned by :func:`get_random_state` (paths the model lacks are an
    error; layers missing from ``states`` keep their current state)."""
    generators = {path: _generator(obj) for path, obj in saveables(model)}
    for path, state in states.items():
        generator = generators.get(path)
        if generator is None:
            raise SavingError(f"Random state given for '{path}', but the model has no layer "
                              f"with a random generator there.")
        _set_generator_state(generator, state, f"random state of '{path}'")


def _set_generator_state(generator, state, where: str) -> None:
    expected = type(generator.bit_generator).__name__
    if not isinstance(state, dict) or state.get("bit_generator") != expected:
        raise SavingError(f"{where}: expected the state of a {expected} generator, got "
                          f"{str(state)[:200]}.")
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise SavingError(f"{where}: invalid generator state ({error}).") from error


# ----- writing -----
def write_weights(model, target) -> None:
    """Write ``model``'s weights, optimizer state and generator states to ``target`` (a path or
    a binary file object) in Keras 3's layout."""
    h5py = h5py_module()
    with h5py.File(target, "w") as store:
        for path, obj in saveables(model):
            # Keras makes the group of every named object, even one without variables (3.6+).
            group = store.create_group(_join(path, "vars")) if path else store.create_group("vars")
            group.attrs["name"] = str(obj.name)
            for i, variable in enumerate(own_variables(obj)):
                group[str(i)] = np.asarray(getattr(variable, "data", variable))
            for name, value in named_variables(obj).items():
                group[name] = np.asarray(value)
            generator = _generator(obj)
            if generator is not None:
                state = json.dumps(generator.bit_generator.state).encode("ascii")
                group.attrs[RNG_STATE_ATTRIBUTE] = np.frombuffer(state, dtype=np.uint8)


def weights_bytes(model) -> bytes:
    """The weights file of ``model`` as bytes (what a ``.keras`` archive stores)."""
    buffer = io.BytesIO()
    write_weights(model, buffer)
    return buffer.getvalue()


# ----- reading -----
class WeightsFile:
    """A Keras 3 weights file opened for checked reading.

    Only hard links are followed (soft and external links are refused), datasets are read
    after their shape and dtype match what the model expects, and raw storage that points
    outside the file, to external files or to other files (virtual datasets) is refused.
    Chunked datasets are read with every allocation bounded by the dataset's size
    (:mod:`numkeras.saving.hdf5_chunks`: no decompression bombs).
    Attributes other than numkeras's own uint8 generator state are never read.

    Args:
        source: a path, or the file's bytes.
        description: how errors name the file, e.g. ``"'m.keras', member 'model.weights.h5'"``.
    """

    def __init__(self, source, description: str):
        h5py = self.h5py = h5py_module()
        self.description = description
        self._source, self._heap_objects = source, None
        if isinstance(source, (bytes, bytearray, memoryview)):
            head, self.size = bytes(source[:8]), len(source)
            opener = io.BytesIO(bytes(source))
        else:
            self.size = os.path.getsize(source)
            with open(source, "rb") as handle:
                head = handle.read(8)
            opener = os.fspath(source)
        if head != HDF5_SIGNATURE:
            raise SavingError(f"{description} is not an HDF5 file (it does not start with the "
                              f"HDF5 signature). The file is corrupt or of another format.")
        try:
            self.file = h5py.File(opener, "r")
        except Exception as error:  # HDF5 reports corruption as OSError, sometimes others
            raise SavingError(f"{description} could not be opened as HDF5 ({error}); the file "
                              f"is truncated or corrupt.") from error

    def close(self) -> None:
        self.file.close()

    def check_text_attribute(self, node, name: str) -> None:
        """Check, before libhdf5 reads it, the storage of text attribute ``name`` of ``node``:
        the file's global heaps (once; libhdf5 can loop forever on a corrupt one) and the
        lengths the attribute declares (libhdf5 allocates them before reading)."""
        if self._heap_objects is None:
            self._heap_objects = hdf5_heaps.check_global_heaps(self._source, self.description)
        try:
            address = self.h5py.h5o.get_info(node.id).addr
        except Exception as error:
            raise SavingError(f"{self.description}: cannot locate '{node.name}' ({error}); "
                              f"the file is corrupt.") from error
        hdf5_heaps.check_attribute(self._source, address, name, self._heap_objects,
                                   f"{self.description}, '{node.name}'")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----- navigation (hard links only) -----
    def node(self, path: str):
        """The group or dataset at ``path`` ('' is the root), or None if absent."""
        node = self.file
        for part in [p for p in path.split("/") if p]:
            node = self._child(node, part, path)
            if node is None:
                return None
        return node

    def _child(self, group, name: str, path: str):
        h5py = self.h5py
        if not isinstance(group, h5py.Group):
            return None
        try:
            link = group.get(name, getlink=True)
            if link is None:
                return None
            if not isinstance(link, h5py.HardLink):
                raise UnsafeFileError(
                    f"{self.description}: '{path}' is a {type(link).__name__}; numkeras follows "
                    f"only ordinary (hard) links, so that a file cannot make it read others.")
            return group[name]
        except SavingError:
            raise
        except Exception as error:
            raise SavingError(f"{self.description}: cannot read '{path}' ({error}); the file "
                              f"is corrupt.") from error

    def group(self, path: str):
        node = self.node(path)
        if node is not None and not isinstance(node, self.h5py.Group):
            raise SavingError(f"{self.description}: '{path}' should be a group but is a "
                              f"dataset.")
        return node

    def vars_datasets(self, path: str, named=()) -> dict:
        """The datasets of ``<path>/vars`` by index (and by name for the names in ``named``);
        an absent group gives ``{}``."""
        vars_path = _join(path, "vars")
        group = self.group(vars_path)
        if group is None:
            return {}
        datasets = {}
        for name in self._keys(group, vars_path):
            node = self._child(group, name, _join(vars_path, name))
            if not isinstance(node, self.h5py.Dataset):
                raise SavingError(f"{self.description}: '{_join(vars_path, name)}' should be a "
                                  f"dataset (a variable) but is a group.")
            if name in named:
                datasets[name] = node
                continue
            if not name.isdigit() or (name != "0" and name.startswith("0")):
                raise SavingError(f"{self.description}: unexpected dataset "
                                  f"'{_join(vars_path, name)}'; variables are named 0, 1, 2 ...")
            datasets[int(name)] = node
        numbered = sorted(key for key in datasets if isinstance(key, int))
        if numbered != list(range(len(numbered))):
            raise SavingError(f"{self.description}: the variables in '{vars_path}' are numbered "
                              f"{numbered}; expected 0 to {len(numbered) - 1} without "
                              f"gaps. The file is incomplete.")
        return datasets

    def _keys(self, group, path: str) -> list[str]:
        try:
            keys = list(group.keys())
        except Exception as error:
            raise SavingError(f"{self.description}: cannot list '{path or '/'}' ({error}); the "
                              f"file is corrupt.") from error
        if len(keys) > _MAX_OBJECTS:
            raise UnsafeFileError(f"{self.description}: '{path or '/'}' holds {len(keys)} "
                                  f"entries; refusing more than {_MAX_OBJECTS}.")
        return keys

    def dataset_paths(self) -> list[str]:
        """Every dataset path in the file (a bounded walk: depth, count, no cycles)."""
        found: list[str] = []
        seen: set = set()
        self._collect(self.file, "", 0, found, seen)
        return found

    def _collect(self, group, path: str, depth: int, found: list, seen: set) -> None:
        if depth > _MAX_DEPTH:
            raise UnsafeFileError(f"{self.description}: groups nested deeper than "
                                  f"{_MAX_DEPTH} levels at '{path}'.")
        for name in self._keys(group, path):
            child_path = _join(path, name)
            node = self._child(group, name, child_path)
            if node is None:
                continue
            try:
                address = self.h5py.h5o.get_info(node.id).addr
            except (KeyError, OSError, OverflowError, RuntimeError, ValueError):
                address = child_path
            if isinstance(node, self.h5py.Dataset):
                found.append(child_path)
            elif address not in seen:
                seen.add(address)
                self._collect(node, child_path, depth + 1, found, seen)
            if len(found) + len(seen) > _MAX_OBJECTS:
                raise UnsafeFileError(f"{self.description}: more than {_MAX_OBJECTS} objects; "
                                      f"refusing to walk further.")

    # ----- reading values -----
    def read(self, dataset, shape: tuple, kind: str, what: str) -> np.ndarray:
        """The values of ``dataset`` after checking it holds ``shape`` numbers of ``kind``
        (``"float"`` or ``"int"``) stored inside this file."""
        name = dataset.name
        try:
            found_shape, dtype = tuple(dataset.shape), dataset.dtype
            plist = dataset.id.get_create_plist()
            layout, external = plist.get_layout(), plist.get_external_count()
        except Exception as error:
            raise SavingError(f"{self.description}: cannot read the header of dataset '{name}' "
                              f"({error}); the file is corrupt.") from error
        if found_shape != tuple(shape):
            raise SavingError(
                f"{self.description}: dataset '{name}' ({what}) has shape {found_shape}, but "
                f"the model expects {tuple(shape)}. The file was saved from a different model "
                f"(or a different configuration); build the same architecture, or pass "
                f"skip_mismatch=True to load_weights to skip such layers.")
        allowed = "f" if kind == "float" else "iu"
        if dtype.kind not in allowed or dtype.itemsize > 8 or dtype.fields is not None:
            raise SavingError(f"{self.description}: dataset '{name}' ({what}) has dtype {dtype};"
                              f" expected {'a float' if kind == 'float' else 'an integer'} type.")
        if external or layout == getattr(self.h5py.h5d, "VIRTUAL", -1):
            raise UnsafeFileError(f"{self.description}: dataset '{name}' keeps its data in "
                                  f"other files; numkeras reads only data inside the file.")
        if layout == self.h5py.h5d.CONTIGUOUS:
            self._check_extent(dataset, int(math.prod(shape)) * dtype.itemsize)
        try:
            if layout == self.h5py.h5d.CHUNKED:  # chunk sizes and compression bounded there
                value = hdf5_chunks.read_chunked(dataset, self.size, self.description)
            else:
                value = np.asarray(dataset[()])
        except SavingError:
            raise
        except Exception as error:
            raise SavingError(f"{self.description}: cannot read dataset '{name}' ({error}); the "
                              f"file is truncated or corrupt.") from error
        if value.shape != tuple(shape):  # pragma: no cover - HDF5 returned something else
            raise SavingError(f"{self.description}: dataset '{name}' read as {value.shape}.")
        return value

    def _check_extent(self, dataset, nbytes: int) -> None:
        offset = dataset.id.get_offset()
        if offset is None:  # never written: HDF5 would return the fill value
            return
        stored = dataset.id.get_storage_size()
        if stored < nbytes or offset + nbytes > self.size:
            raise SavingError(
                f"{self.description}: dataset '{dataset.name}' needs {nbytes} bytes at offset "
                f"{offset}, but the file has {self.size} bytes ({stored} stored). The file is "
                f"truncated or corrupt.")

    def rng_state(self, path: str):
        """numkeras's generator state stored on ``<path>/vars``, or None."""
        group = self.group(_join(path, "vars"))
        if group is None:
            return None
        try:
            if RNG_STATE_ATTRIBUTE not in group.attrs:
                return None
            attribute = group.attrs.get_id(RNG_STATE_ATTRIBUTE)
            dtype, shape = attribute.dtype, attribute.shape
        except Exception as error:
            raise SavingError(f"{self.description}: cannot read the attributes of "
                              f"'{group.name}' ({error}).") from error
        if dtype != np.uint8 or len(shape) != 1 or shape[0] > _MAX_RNG_STATE_BYTES:
            raise SavingError(f"{self.description}: attribute '{RNG_STATE_ATTRIBUTE}' of "
                              f"'{group.name}' should be a uint8 array of at most "
                              f"{_MAX_RNG_STATE_BYTES} bytes; found {dtype} {shape}.")
        try:
            raw = np.asarray(group.attrs[RNG_STATE_ATTRIBUTE]).tobytes()
            return json.loads(raw.decode("ascii"))
        except Exception as error:
            raise SavingError(f"{self.description}: attribute '{RNG_STATE_ATTRIBUTE}' of "
                              f"'{group.name}' is not valid JSON ({error}).") from error


# ----- loading into a model -----
def load_into(model, weights: WeightsFile, skip_mismatch: bool = False,
              load_optimizer: bool = True) -> None:
    """Assign the values of ``weights`` to ``model`` (and its optimizer), Keras 3 layout.

    Everything is read and checked first; values are assigned only when the whole file fits
    the model, so a failed load leaves the model unchanged. Missing or extra variables, shapes
    and dtypes that disagree with the model, and datasets the model has no place for are
    errors (``skip_mismatch=True``: warnings, and the layer keeps its values). An optimizer
    state that does not fit is skipped with a warning, as Keras does.
    """
    in_file = set(weights.dataset_paths())
    assignments: list[tuple[object, np.ndarray]] = []
    covered: set[str] = set()
    optimizer_entry, optimizer_values = None, None
    generator_states, named_loads = [], []
    for path, obj in saveables(model):
        if isinstance(obj, Optimizer):
            optimizer_entry = (path, obj)
            continue
        variables = own_variables(obj)
        named = named_variables(obj)
        covered.update(_join(_join(path, "vars"), str(i)) for i in range(len(variables)))
        covered.update(_join(_join(path, "vars"), name) for name in named)
        try:
            assignments += _layer_values(weights, path, obj, variables)
            if named:
                named_loads.append((obj, _named_values(weights, path, obj, named)))
        except UnsafeFileError:
            raise
        except SavingError as error:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading weights for '{obj.name}': {error}", stacklevel=3)
            covered.update(p for p in in_file if p.startswith(_join(path, "vars/")))
        generator = _generator(obj)
        state = weights.rng_state(path) if generator is not None else None
        if state is not None:
            where = f"{weights.description}, generator state of '{path}'"
            _check_generator_state(generator, state, where)
            generator_states.append((generator, state, where))
    if optimizer_entry is not None and load_optimizer:
        optimizer_values = _optimizer_values(weights, model, *optimizer_entry)
    if optimizer_values is None:  # no optimizer, not compiled, or skipped: ignore its group
        covered.update(p for p in in_file if p.startswith("optimizer/"))
    else:
        covered.update(f"{optimizer_entry[0]}/vars/{i}" for i in range(len(optimizer_values)))
    extra = sorted(in_file - covered)
    if extra and not skip_mismatch:
        listed = ", ".join(extra[:8]) + (" ..." if len(extra) > 8 else "")
        raise SavingError(
            f"{weights.description} holds {len(extra)} variable(s) the model has no place for: "
            f"{listed}. The file was saved from a different model; build the same "
            f"architecture, or pass skip_mismatch=True to load the rest.")
    # Everything checked: now change the model.
    for variable, value in assignments:
        variable.assign(value)
    if optimizer_values is not None:
        optimizer = optimizer_entry[1]
        if len(optimizer_values) != len(optimizer.variables) and not optimizer.built:
            # The saved optimizer had slots: create ours for the model's trainable variables,
            # in the order training uses, so that they receive the saved values.
            optimizer.build(model.trainable_weights)
        optimizer.load_own_variables(optimizer_values)
    for obj, values in named_loads:
        obj.load_named_variables(values)
    for generator, state, where in generator_states:
        _set_generator_state(generator, state, where)


def _named_values(weights: WeightsFile, path: str, obj, named: dict) -> dict:
    """The file's values for the variables ``obj`` stores by name (Keras's idf_weights)."""
    datasets = weights.vars_datasets(path, named)
    missing = [name for name in named if name not in datasets]
    if missing:
        raise SavingError(f"{weights.description}: layer '{obj.name}' expects variable(s) "
                          f"{missing} at '{_join(path, 'vars')}', but the file has none. The "
                          f"file was saved from a different model (or configuration).")
    return {name: weights.read(datasets[name], np.shape(value), "float",
                               f"variable '{name}' of layer '{obj.name}'")
            for name, value in named.items()}


def _layer_values(weights: WeightsFile, path: str, obj, variables: list) -> list:
    datasets = weights.vars_datasets(path, named_variables(obj))
    datasets = {key: value for key, value in datasets.items() if isinstance(key, int)}
    location = f"'{_join(path, 'vars')}'" if path else "'/vars'"
    if len(datasets) != len(variables):
        expected = ", ".join(_describe(v) for v in variables) or "none"
        raise SavingError(
            f"{weights.description}: layer '{obj.name}' expects {len(variables)} variable(s) "
            f"({expected}) at {location}, but the file has {len(datasets)}. The file was saved "
            f"from a different model; build the same architecture, or pass "
            f"skip_mismatch=True to load_weights to skip this layer.")
    # An integer variable (Normalization's `count`) is stored as Keras stores it: an int.
    return [(variable, weights.read(datasets[i], variable.shape,
                                    "int" if np.dtype(variable.dtype).kind in "iu" else "float",
                                    f"variable '{getattr(variable, 'name', i)}' of layer "
                                    f"'{obj.name}'"))
            for i, variable in enumerate(variables)]


def _optimizer_targets(model, optimizer: Optimizer, count: int) -> list:
    """The optimizer's variables, or those it will have once built when ``count`` (the saved
    number) says the saved optimizer had slots; the optimizer itself is not changed."""
    if count > len(optimizer.variables) and not optimizer.built:
        probe = copy.deepcopy(optimizer)
        probe.build(model.trainable_weights)
        return probe.variables
    return optimizer.variables


def _optimizer_values(weights: WeightsFile, model, path: str, optimizer: Optimizer):
    """The checked optimizer state, or None (with a warning) when it does not fit."""
    datasets = weights.vars_datasets(path)
    if not datasets:
        return None
    targets = _optimizer_targets(model, optimizer, len(datasets))
    if len(datasets) != len(targets):
        warnings.warn(
            f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
            f"{len(targets)} variables whereas the saved optimizer ({weights.description}) has "
            f"{len(datasets)} variables.", stacklevel=4)
        return None
    values = []
    for i, target in enumerate(targets):
        kind = "int" if i == 0 else "float"  # 0 is the iteration counter
        try:
            values.append(weights.read(datasets[i], target.shape, kind,
                                       f"optimizer variable {i}"))
        except UnsafeFileError:
            raise
        except SavingError as error:
            warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}': "
                          f"{error}", stacklevel=4)
            return None
    return values


def _check_generator_state(generator, state, where: str) -> None:
    probe = np.random.Generator(type(generator.bit_generator)())
    _set_generator_state(probe, state, where)
