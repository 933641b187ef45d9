"""Which changes to pact files, folders and templates are noticed, on a real filesystem."""

from __future__ import annotations

import os
from pathlib import Path

from pactstub.sources import SourceSpec
from pactstub.sources.watch import changed, snapshot


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_an_editor_replaces_by_renaming_a_new_one_over_it_is_a_change(tmp_path: Path) -> None:
    pact = write(tmp_path / "shop.json", "{}")
    spec = SourceSpec(files=(str(pact),))
    before = snapshot(spec, None)
    os.replace(write(tmp_path / "shop.json.tmp", "{}"), pact)  # same content, same size
    assert changed(before, snapshot(spec, None)) == [str(pact)]


def test_a_folder_of_pacts_swapped_behind_a_symbolic_link_is_a_change(tmp_path: Path) -> None:
    """As a Kubernetes ConfigMap is updated: ``shop.json -> ..data/shop.json``, ``..data`` relinked."""
    mount = tmp_path / "pacts"
    write(mount / "..v1" / "shop.json", '{"v": 1}')
    write(mount / "..v2" / "shop.json", '{"v": 2}')
    (mount / "..data").symlink_to("..v1")
    (mount / "shop.json").symlink_to("..data/shop.json")
    spec = SourceSpec(dirs=(str(mount),))
    before = snapshot(spec, None)
    (mount / "..next").symlink_to("..v2")
    os.replace(mount / "..next", mount / "..data")
    assert changed(before, snapshot(spec, None)) == [str(mount / "shop.json")]


def test_a_pact_added_to_a_folder_is_a_change_and_other_files_there_are_not(tmp_path: Path) -> None:
    folder = tmp_path / "pacts"
    write(folder / "a.json", "{}")
    spec = SourceSpec(dirs=(str(folder),))
    before = snapshot(spec, None)
    write(folder / "notes.txt", "not a pact")
    write(folder / ".a.json.swp", "an editor's")
    assert changed(before, snapshot(spec, None)) == []
    write(folder / "b.json", "{}")
    assert changed(before, snapshot(spec, None)) == [str(folder / "b.json")]


def test_templates_partials_and_lifecycles_are_watched_and_hidden_files_are_not(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    template = write(root / "shop" / "make-an-item.json.j2", "{}")
    spec = SourceSpec()
    before = snapshot(spec, root)
    write(root / "shop" / ".make-an-item.json.j2.swp", "an editor's")
    assert changed(before, snapshot(spec, root)) == []
    write(template, '{"v": 2}')
    partial = write(root / "_shared.j2", "{}")
    lifecycles = write(root / "shop" / "_lifecycles.yaml", "{}")
    assert changed(before, snapshot(spec, root)) == sorted(map(str, [template, partial, lifecycles]))


def test_a_file_or_folder_that_goes_away_is_a_change(tmp_path: Path) -> None:
    pact = write(tmp_path / "shop.json", "{}")
    folder = tmp_path / "pacts"
    folder.mkdir()
    spec = SourceSpec(files=(str(pact),), dirs=(str(folder),))
    before = snapshot(spec, None)
    pact.unlink()
    folder.rmdir()
    after = snapshot(spec, None)
    assert changed(before, after) == sorted([str(pact), str(folder)])
    assert after[str(pact)] is None
