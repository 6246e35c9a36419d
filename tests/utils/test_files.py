"""Atomic writes that behave like writing in place (issue 15, item 5): an overwritten file keeps
its permission bits and owner, a symbolic link is written through and stays a link."""

import os
import stat

import pytest

import numkeras as keras
from numkeras.utils.files import atomic_file, write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and links")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


SAVES = {
    "bytes": lambda path: write_atomic(path, lambda handle: handle.write(b"new")),
    ".keras": lambda path: _model().save(path),
    ".h5": lambda path: _model().save(path),
    ".weights.h5": lambda path: _model().save_weights(path),
}


@posix_only
@pytest.mark.parametrize("kind", sorted(SAVES))
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o444])
def test_overwriting_keeps_the_permission_bits(tmp_path, kind, mode):
    path = tmp_path / f"model{kind if kind != 'bytes' else '.bin'}"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    SAVES[kind](path)
    assert _mode(path) == mode and path.read_bytes() != b"old"


@posix_only
def test_the_bits_survive_a_strict_umask_and_are_never_wider_in_between(tmp_path):
    path = tmp_path / "private.keras"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    seen = []
    previous = os.umask(0o077)
    try:
        with atomic_file(path) as handle:
            seen.append(_mode(handle.name))  # the temporary file, before anything is written
            handle.write(b"new")
        os.chmod(path, 0o664)
        with atomic_file(path) as handle:  # umask 077 would drop the group and other bits
            handle.write(b"newer")
    finally:
        os.umask(previous)
    assert seen == [0o600] and _mode(path) == 0o664


@posix_only
def test_a_new_file_gets_the_umask_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.bin", lambda handle: handle.write(b"x"))
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "new.bin") == 0o640


@posix_only
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_overwriting_keeps_the_owner_and_group(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    os.chown(path, 12345, 23456)
    _model().save(path)
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (12345, 23456)


@posix_only
@pytest.mark.parametrize("kind", sorted(SAVES))
def test_saving_to_a_symlink_writes_through_it(tmp_path, kind):
    suffix = kind if kind != "bytes" else ".bin"
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / f"model{suffix}"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    link = tmp_path / f"link{suffix}"
    link.symlink_to(os.path.join("real", target.name))  # relative, as users make them
    SAVES[kind](link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", target.name)
    assert target.read_bytes() != b"old" and _mode(target) == 0o600
    assert sorted(os.listdir(tmp_path)) == [link.name, "real"]  # no temporary left
    assert os.listdir(tmp_path / "real") == [target.name]


@posix_only
def test_a_chain_of_links_and_a_dangling_link(tmp_path):
    final = tmp_path / "final.bin"
    (tmp_path / "middle.bin").symlink_to(final)  # dangling until the write creates it
    (tmp_path / "first.bin").symlink_to("middle.bin")
    write_atomic(tmp_path / "first.bin", lambda handle: handle.write(b"data"))
    assert final.read_bytes() == b"data" and (tmp_path / "first.bin").is_symlink()
    assert (tmp_path / "middle.bin").is_symlink()


@posix_only
def test_a_link_loop_is_an_os_error(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symbolic links"):
        write_atomic(tmp_path / "a", lambda handle: handle.write(b"x"))


def test_a_failed_write_keeps_the_old_file_and_its_mode(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)

    def fail(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(path, fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.bin"]
    if os.name == "posix":
        assert _mode(path) == 0o640


def test_overwrite_false_refuses_an_existing_file_and_a_link_to_one(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_atomic(path, lambda handle: handle.write(b"new"), overwrite=False)
    if os.name == "posix":
        (tmp_path / "link.bin").symlink_to(path)
        with pytest.raises(FileExistsError):
            write_atomic(tmp_path / "link.bin", lambda handle: None, overwrite=False)
