"""A capture node's identity survives restarts and is held by one process at a time."""

from __future__ import annotations

import stat
from pathlib import Path

from allin.live.capture import NodeIdentity


def test_the_identity_is_kept_and_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    first = NodeIdentity.claim(tmp_path / "data")
    second = NodeIdentity.claim(tmp_path / "data")  # while the first is held
    assert first.node_id != second.node_id
    first.release()
    again = NodeIdentity.claim(tmp_path / "data")
    assert again.node_id == first.node_id  # the restarted process is the same node
    second.release()
    again.release()
    mode = stat.S_IMODE((tmp_path / "data" / "live-node-0").stat().st_mode)
    assert mode == 0o600


def test_an_unusable_directory_gives_a_fresh_identity(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    one, two = NodeIdentity.claim(blocker), NodeIdentity.claim(blocker)
    assert len(one.node_id) == 32 and one.node_id != two.node_id
