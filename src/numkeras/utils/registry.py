"""One ``get(identifier)`` per family (activations, losses, optimizers ...), as Keras has.

A family is a mapping of names to classes or functions. :func:`lookup` turns a name (any case,
any of its aliases), a serialized dict or an object into the object, and names every valid choice
when it cannot.
"""

from __future__ import annotations

import difflib


def unknown_name_error(family: str, name, choices, argument: str | None = None) -> ValueError:
    """A ValueError that says what was asked, what exists, and the closest match."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(name), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    where = f" (argument `{argument}`)" if argument else ""
    return ValueError(
        f"Unknown {family} {name!r}{where}.{hint} Valid names: {', '.join(choices)}."
    )


def lookup(family: str, table: dict, identifier, argument: str | None = None):
    """The entry of ``table`` named by ``identifier`` (a string, case-insensitive)."""
    key = str(identifier)
    if key in table:
        return table[key]
    lowered = {k.lower(): v for k, v in table.items()}
    if key.lower() in lowered:
        return lowered[key.lower()]
    raise unknown_name_error(family, identifier, table, argument)


def serialize_object(obj, module: str) -> dict:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}`` form of ``obj``."""
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def deserialize_object(family: str, config: dict, table: dict, custom_objects=None):
    """Instantiate ``config`` (Keras 2 or 3 dict form) from ``table`` or ``custom_objects``."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Cannot deserialize {family} from {config!r}: expected a dict with a 'class_name' key."
        )
    name = config["class_name"]
    if name.startswith("Custom>"):  # tf.keras 2.11+ writes optimizers as "Custom>Adam"
        name = name[len("Custom>"):]
    table = {**table, **(custom_objects or {})}
    cls = lookup(family, table, name)
    return cls.from_config(config.get("config", {}) or {})
