"""The adults' preparation: a caregiver and a network member write privately or on the
family list, change only their own items, and share them with the meeting."""

from __future__ import annotations

from flows.family_domain import FamilyItemKind
from flows.replies import Audience
from tests.flows.family import family


def test_a_caregiver_writes_privately_and_the_others_do_not_see_it_until_she_shows_them() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    eva = f.joined("NETWORK", "eva")
    assert robin.ids() == ["join.joined", "caregiver.menu"]
    assert robin.click("add") == ["caregiver.add_kind"]
    assert robin.click("not_with_child") == ["caregiver.ask.not_with_child"]
    assert robin.type("Pappa är sjuk just nu") == ["caregiver.saved", "caregiver.list"]
    families = f.bot.ports.families
    (mine,) = families.family_items(f.case.id, robin.person_id)
    assert (mine.kind, mine.in_family_list, mine.shared) == (
        FamilyItemKind.NOT_WITH_CHILD,
        False,
        False,
    )
    assert families.family_items(f.case.id, eva.person_id) == ()

    robin.click("mine")
    robin.click(f"i:{mine.id}")
    assert robin.click("family") == ["caregiver.item.updated", "caregiver.item"]
    assert [i.text for i in families.family_items(f.case.id, eva.person_id)] == [
        "Pappa är sjuk just nu"
    ]
    # The network member cannot change it: it is not one of her own items.
    assert families.family_item(mine.id, eva.person_id) is None


def test_what_an_adult_writes_in_the_family_group_chat_is_on_the_family_list() -> None:
    f = family()
    f.joined("CAREGIVER", "robin")
    group = f.bot.client("robin", chat="-family")
    group.send("/meny")
    assert group.last.audience is Audience.FAMILY
    group.click("add")
    assert "not_with_child" not in group.offered  # never asked in a group chat
    group.click("question")
    group.type("När kommer skolan?")
    (item,) = f.bot.ports.families.family_items(f.case.id, group.person_id)
    assert item.in_family_list


def test_a_caregiver_edits_and_deletes_her_own_item() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    robin.click("add")
    robin.click("wish")
    robin.type("Korta möten")
    (item,) = f.bot.ports.families.family_items(f.case.id, robin.person_id)
    robin.click("mine")
    robin.click(f"i:{item.id}")
    assert robin.click("edit") == ["caregiver.edit_ask"]
    assert robin.type("Korta möten, gärna på eftermiddagen") == [
        "caregiver.changed",
        "caregiver.list",
    ]
    robin.click("mine")
    robin.click(f"i:{item.id}")
    robin.click("delete")
    assert robin.click("yes")[0] == "caregiver.deleted"
    assert f.bot.ports.families.family_items(f.case.id, robin.person_id) == ()


def test_a_caregiver_shares_with_the_meeting_and_chooses_who_reads_it() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    robin.click("add")
    robin.click("our_view")
    robin.type("Hon sover dåligt")
    (item,) = f.bot.ports.families.family_items(f.case.id, robin.person_id)
    robin.send("/meny")
    assert robin.click("share") == ["caregiver.share.list"]
    assert robin.click(f"s:{item.id}") == ["sharing.readers"]
    assert robin.click("coordinator") == ["sharing.saved", "sharing.readers"]
    sharing, now = f.bot.ports.sharing, f.bot.clock.now
    (note,) = sharing.agenda(f.case.id, now, f.coordinator.id).contributions[0].notes
    assert note.text == "Hon sover dåligt"
    # The coordinator only: the professional reads nothing of it.
    assert sharing.agenda(f.case.id, now, f.professional.id).contributions == ()
    assert robin.click("meeting") == ["sharing.saved", "sharing.readers"]
    # Everyone in the meeting: the professional from BUP reads it now.
    (shown,) = sharing.agenda(f.case.id, now, f.professional.id).contributions[0].notes
    assert shown.text == "Hon sover dåligt"


def test_the_network_member_prepares_as_the_caregivers_do() -> None:
    f = family()
    eva = f.joined("NETWORK", "eva")
    assert eva.ids() == ["join.joined", "caregiver.menu"]
    eva.click("about")
    assert eva.said("caregiver.about")
