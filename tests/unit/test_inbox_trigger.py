"""The inbox watcher claims complete files only, each exactly once."""

import asyncio

from outcome_monitor.stack.inbox_trigger import InboxTrigger, claim_complete_files


def test_a_file_is_claimed_once_it_stopped_changing(tmp_path):
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    processing.mkdir()
    (inbox / "a.xml").write_bytes(b"<a/>")
    seen: dict = {}
    assert claim_complete_files(inbox, processing, seen) == []  # first sighting: wait one poll
    claimed = claim_complete_files(inbox, processing, seen)
    assert [c["original_name"] for c in claimed] == ["a.xml"]
    assert not (inbox / "a.xml").exists()
    assert (processing / claimed[0]["path"].split("/")[-1]).read_bytes() == b"<a/>"
    assert claim_complete_files(inbox, processing, seen) == []


def test_growing_part_and_hidden_files_are_left_alone(tmp_path):
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    processing.mkdir()
    (inbox / "upload.xml.part").write_bytes(b"<a")
    (inbox / ".verborgen.xml").write_bytes(b"<a/>")
    growing = inbox / "groeit.xml"
    growing.write_bytes(b"<a")
    seen: dict = {}
    claim_complete_files(inbox, processing, seen)
    growing.write_bytes(b"<a></a>")
    assert claim_complete_files(inbox, processing, seen) == []
    assert [c["original_name"] for c in claim_complete_files(inbox, processing, seen)] == ["groeit.xml"]
    assert sorted(p.name for p in inbox.iterdir()) == [".verborgen.xml", "upload.xml.part"]


def test_trigger_yields_one_event_per_file_and_serialises(tmp_path):
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    trigger = InboxTrigger(str(inbox), str(processing), poll_interval=0.01)
    classpath, kwargs = trigger.serialize()
    assert classpath == "outcome_monitor.stack.inbox_trigger.InboxTrigger"
    assert InboxTrigger(**kwargs).serialize() == (classpath, kwargs)

    async def first_two_events():
        inbox.mkdir(parents=True)
        for name in ("een.xml", "twee.xml"):
            (inbox / name).write_bytes(name.encode())
        events = []
        async for event in trigger.run():
            events.append(event.payload)
            if len(events) == 2:
                return events

    events = asyncio.run(asyncio.wait_for(first_two_events(), timeout=10))
    assert sorted(e["original_name"] for e in events) == ["een.xml", "twee.xml"]
    assert sorted(p.read_bytes() for p in processing.iterdir()) == [b"een.xml", b"twee.xml"]


def test_announced_file_nobody_took_is_announced_again_later(tmp_path):
    from outcome_monitor.stack.inbox_trigger import stranded_files

    processing = tmp_path / "processing"
    processing.mkdir()
    waiting = processing / "123-a.xml"
    waiting.write_bytes(b"<a/>")
    (processing / ".ingesting-456-b.xml").write_bytes(b"<b/>")
    now = waiting.stat().st_mtime
    assert stranded_files(processing, 120, set(), now=now + 60) == []
    assert stranded_files(processing, 120, {str(waiting)}, now=now + 200) == []
    (again,) = stranded_files(processing, 120, set(), now=now + 200)
    assert again["original_name"] == "a.xml" and again["renotified"]
    assert stranded_files(processing, 120, set(), now=now + 250) == []  # its clock restarted


def test_a_file_announced_twice_is_taken_by_one_run_only(tmp_path):
    from outcome_monitor.stack.tasks import take_claimed_file

    claimed = tmp_path / "123-a.xml"
    claimed.write_bytes(b"<a/>")
    first = take_claimed_file(claimed)
    assert first is not None and first.name == ".ingesting-123-a.xml"
    first.unlink()  # the first run finished
    assert take_claimed_file(claimed) is None
