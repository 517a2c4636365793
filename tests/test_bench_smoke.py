"""Every benchmark still runs end to end (tiny sizes); the figures themselves are not checked.

Timing is never asserted here: the benchmarks print it. These tests catch a script that rots,
and check the parts of a run that must hold whatever the machine: work really happened,
the tick's dedup holds, and the due-row query uses its index.
"""

from __future__ import annotations

import pytest

from bench import delivery, latency, memory, per_message, scale, startup


def test_per_message_runs_every_path_and_says_whether_the_floor_target_is_met(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = per_message.main(["--cases", "10", "--users", "2", "--rounds", "1"])
    assert result["updates"] == 2 * 12
    assert result["handler_commits_per_update"] == 1.0  # every one of our updates committed
    assert result["sends"] > 0
    assert result["marked_sent"] == result["sends"]  # each sent once, and marked once
    assert result["floor_sends_per_update"] == 1.0  # the floor answered every update
    assert result["statements_per_update"] > result["floor_statements_per_update"] > 0
    out = capsys.readouterr().out
    assert "bare PTB ConversationHandler (baseline)" in out
    assert "lean durable bot (floor)" in out
    verdict = "met" if result["met"] else "missed"
    assert f"the lean durable floor): {result['ours_ms']:.2f} ms" in out
    assert f"x: {verdict}" in out


def test_latency_answers_every_tap_once_and_prints_each_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    quick = ["--cases", "4", "--users", "2", "--interval", "0.05", "--rtt", "0.0"]
    result = latency.main([*quick, "--chat-interval", "0.02", "--what-if", "0"])
    ours = result["0.02"]
    assert ours["answered"] == ours["updates"] == 2 * 12  # every tap got its answer
    assert ours["unattributed"] == 0  # every message reached Telegram once, for its update
    # One message per step: no step of the preparation answers with two.
    assert set(ours["messages_per_step"].values()) == {1.0}
    # Taps on the newest message were answered in place (an edit), each counted once, and
    # the per-chat rates count new messages only.
    assert 0 < ours["edits"] < ours["answered"]
    assert ours["messages"] + ours["edits"] == ours["answered"]
    out = capsys.readouterr().out
    for target in ("full answer ≤ 500 ms p95", "≤ 2 new messages in any 1 s", "1/s sustained"):
        line = next(line for line in out.splitlines() if target in line)
        assert line.endswith(("met", "missed"))


def test_scale_ticks_once_per_nudge_and_uses_the_index(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = ["--sizes", "8,16", "--users", "1", "--rounds", "2"]
    repeats = ["--tick-repeat", "1", "--steady-repeat", "1", "--query-repeat", "3"]
    result = scale.main([*sizes, *repeats, "--no-postgres"])
    for size in result["sizes"]:
        assert size["tick_enqueued"] > 0
        assert size["tick_again_new"] == 0  # a second tick finds the same nudges: no new rows
        assert size["tick_pages"] > 0  # the pages its commit wrote, read from the WAL
        assert size["messages"] == 2 * 12  # two rounds, each a fresh young person's 12
        assert len(size["round_msg_ms"]) == len(size["round_steady_ms"]) == 2
        assert size["steady_tick_new"] == 0  # the product's sources enqueue nothing twice
        # Each round's catch-up tick had a day's due work, on its own copy of the database.
        assert len(size["round_catchup_ms"]) == 2 and size["catchup_new"] > 0
    assert len(result["ratios"]["message"]) == 2  # one ratio per round, not one per run
    assert "ix_plan_action_status_due" in " ".join(result["sizes"][-1]["plan"])
    assert "ix_meeting_starts" in " ".join(result["sizes"][-1]["meetings_plan"])
    out = capsys.readouterr().out
    assert "Round by round" in out
    assert "Target 7 (scale)" in out and "product tick with a day's due work" in out
    assert all(isinstance(met, bool) for met in result["verdicts"].values())


def test_scale_says_when_a_size_has_too_few_young_people() -> None:
    with pytest.raises(SystemExit, match="lower --users or --rounds"):
        scale.main(["--sizes", "4", "--users", "2", "--rounds", "2", "--no-postgres"])


@pytest.mark.slow
def test_memory_measures_the_real_bot_through_a_burst_and_a_picture(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = memory.main(["--cases", "6", "--messages", "24"])
    ours = result["ours"]
    assert ours["messages"] == 24  # every update of the burst reached the real bot's inbox
    assert ours["picture_sent"]  # the report picture was drawn and sent to the Bot API
    assert ours["pictures_arrived"] == 1  # … and arrived there, its file in the request
    assert not ours["matplotlib_in_bot"]  # drawn in a child: never mapped into the bot
    assert ours["peak"] >= ours["after_burst"] > 0 and ours["inboxed"] > 0
    assert result["baseline"]["messages"] == 24
    out = capsys.readouterr().out
    assert "Target 5 (memory)" in out and ("(met)" in out or "(missed)" in out)


def test_delivery_sends_every_nudge_once_through_the_product_and_says_met_or_missed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = delivery.main(["--sizes", "12", "--serial", "3"])
    ours = result["paced"][12]
    assert ours["sent"] == 12  # every pending row reached the fake Bot API …
    assert ours["chats"] == 12  # … each to its own chat: none sent twice
    assert ours["marked_sent"] == 12  # and every one is marked sent in the outbox
    for name in ("ours, one chat at a time", "bare PTB send_message loop"):
        assert result["compared"][name]["sent"] == 3
    out = capsys.readouterr().out
    for target in ("msgs/s sustained", "no one-second window over 30", "of one core"):
        (line,) = [line for line in out.splitlines() if target in line]
        assert line.endswith((": met", ": missed"))


@pytest.mark.slow
def test_startup_reaches_ready(capsys: pytest.CaptureFixture[str]) -> None:
    result = startup.main(["--cases", "5", "--repeat", "1"])
    assert set(result["seconds"]) == {
        "python -c (bare interpreter)",
        "bare PTB Application (initialize)",
        "samverkan run, terminal, empty database",
        "samverkan run, terminal, 5 cases",
        "samverkan run, Telegram, 5 cases",  # ready = its first getUpdates reached us
    }
    assert not any(result["failures"].values())  # every start got ready
    assert result["imports_s"] > 0 and result["phases"]["schema_s"] > 0  # where the time went
    assert result["cpu_to_ready_s"] > 0  # read from /proc when the bot first polled
    assert result["imports_after_poll_s"] >= 0  # the conversations are built behind the start
    assert result["phases"]["alembic_mib"] > 0  # what the schema check no longer imports
    out = capsys.readouterr().out
    assert "Target 5 (start-up)" in out and ("(met" in out or "(missed" in out)
