"""Import levels: a module never imports from a level above its own (shared/docs/style.md)."""

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "numkeras"

# Module (relative to src/numkeras, without .py) or package prefix -> level.
LEVELS = {
    "config": 0, "utils": 0, "preprocessing": 0,
    "backprop": 1,
    "backend": 2, "initializers": 2, "activations": 2, "losses": 2, "metrics": 2, "optimizers": 2,
    "regularizers": 2, "constraints": 2, "ops": 2, "random": 2,
    "data": 2,
    "layers": 3, "callbacks": 3, "tensorboard": 3,
    "distribute": 3, "distribution": 3,
    "models": 4, "datasets": 4, "saving": 4,
    "compat": 5, "cli": 5, "__main__": 5, "__init__": 5,
}
# Utilities that are the public face of higher levels (plots of histories, gradient checks of
# models) may live in utils/ yet import upward; list them here with the reason.
EXCEPTIONS: dict[str, str] = {
    "utils.image_utils": "image_dataset_from_directory's dataset offers tf.data's methods "
                         "through numkeras.data (L2), imported when one is called",
}


def level_of(dotted: str) -> int | None:
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        key = "/".join(parts[:length])
        if key in LEVELS:
            return LEVELS[key]
        if parts[length - 1] in LEVELS and length == 1:
            return LEVELS[parts[0]]
    return LEVELS.get(parts[0])


def imported_modules(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "numkeras":
                for alias in node.names:
                    yield alias.name
            elif node.module.startswith("numkeras."):
                yield node.module.removeprefix("numkeras.")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("numkeras."):
                    yield alias.name.removeprefix("numkeras.")


def test_no_module_imports_from_a_higher_level():
    violations = []
    for path in SRC.rglob("*.py"):
        module = path.relative_to(SRC).with_suffix("").as_posix().replace("/", ".")
        if module.endswith(".__init__"):
            module = module.removesuffix(".__init__")
        if module in EXCEPTIONS:
            continue
        own = level_of(module)
        for target in imported_modules(path):
            target_level = level_of(target)
            if own is not None and target_level is not None and target_level > own:
                violations.append(f"{module} (L{own}) imports {target} (L{target_level})")
    assert not violations, "\n".join(violations)


def test_only_the_top_level_imports_the_public_package():
    """``numkeras/__init__`` is the public surface (L5); only L5 modules may import it."""
    for path in SRC.rglob("*.py"):
        module = path.relative_to(SRC).with_suffix("").as_posix().replace("/", ".")
        if level_of(module.removesuffix(".__init__")) == 5:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(alias.name != "numkeras" for alias in node.names), path
