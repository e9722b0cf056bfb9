"""The local runner's records: a journal per run, merged by the next; a line a kill cut short
is ignored; a record of other work, or of an output gone since, does not count."""

from __future__ import annotations

import json

from s1tiling_cloud.plan.model import Node
from s1tiling_cloud.runners.records import RunRecords
from s1tiling_cloud.store import Store


def test_journal_survives_a_cut_line_and_is_merged(tmp_path):
    outputs = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in outputs:
        path.write_text("{}")
    nodes = [Node(id=f"n{i}", stage="publish", args={}, outputs=[str(p)]) for i, p in enumerate(outputs)]
    digests = {"n0": "sha256:0", "n1": "sha256:1"}
    folder = tmp_path / "done"
    first = RunRecords(str(folder), Store(), digests)
    for node in nodes:
        first.save(node, node.outputs)
    first.close()
    # a second run killed while writing its first line
    (folder / "journal-99999999999999999999-1.jsonl").write_text('{"id": "n0", "digest": "sha2')

    again = RunRecords(str(folder), Store(), digests)
    assert again.state(nodes[0]) == [str(outputs[0])]
    assert again.state(nodes[1]) == [str(outputs[1])]
    journals = sorted(folder.glob("journal-*.jsonl"))
    assert len(journals) == 1  # merged into one
    lines = [json.loads(line) for line in journals[0].read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == ["n0", "n1"]

    outputs[1].unlink()  # an output gone since: the record no longer says done
    changed = RunRecords(str(folder), Store(), {"n0": "sha256:other", "n1": "sha256:1"})
    assert changed.state(nodes[0]) is False  # made from other inputs or settings
    assert changed.state(nodes[1]) is False
    assert RunRecords(str(tmp_path / "none"), Store(), digests).state(nodes[0]) is None
