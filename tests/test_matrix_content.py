"""Matrix event content: numbered choices, safe HTML, files, and what a person wrote."""

from __future__ import annotations

from types import SimpleNamespace

from bot.catalogue import Catalogue, RenderedChoice, RenderedFile, RenderedMessage, TextFormat
from bot.matrix.content import file_content, formatted_is_safe, incoming_text, message_content
from bot.matrix.rooms import (
    InviteSummary,
    conversation_ref,
    kind_of_invite,
    read_invite,
    still_direct,
)
from flows.replies import Choice, Reply
from storage.matrix_repository import RoomKind, StoredRoom

BOT = "@samverkan:example.org"
ALEX = "@alex:example.org"


def test_choices_are_numbered_in_body_and_an_ordered_list_in_formatted_body(
    catalogue: Catalogue,
) -> None:
    reply = Reply(
        "common.stale_choice", {}, (Choice("a", "common.back"), Choice("b", "common.cancel"))
    )
    content = message_content(catalogue.render_reply(reply, "sv", TextFormat.HTML))
    assert content["msgtype"] == "m.text"
    assert content["body"] == (
        "Den knappen är gammal. Här är där du är nu:\n1) Tillbaka\n2) Avbryt"
    )
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"].endswith("<ol><li>Tillbaka</li><li>Avbryt</li></ol>")


def test_user_text_stays_text_in_both_forms() -> None:
    message = RenderedMessage(
        "<b>Din fråga</b>\n&lt;i&gt;hej&lt;/i&gt; &amp; mer",
        (RenderedChoice("x", "<script>"),),
    )
    content = message_content(message)
    assert content["body"] == "Din fråga\n<i>hej</i> & mer\n1) <script>"
    assert content["formatted_body"] == (
        "<b>Din fråga</b><br>&lt;i&gt;hej&lt;/i&gt; &amp; mer<ol><li>&lt;script&gt;</li></ol>"
    )


def test_unexpected_tags_mean_plain_text_only() -> None:
    assert not formatted_is_safe('<a href="https://evil.example">x</a>')
    assert not formatted_is_safe("<img src=x onerror=alert(1)>")
    assert formatted_is_safe("<b>a</b><br><ol><li>x</li></ol><code>c</code><i>i</i>")
    content = message_content(RenderedMessage('<a href="x">länk</a>', ()))
    assert "formatted_body" not in content and "format" not in content
    assert content["body"]


def test_files_in_encrypted_rooms_carry_their_key_in_the_event() -> None:
    ics = RenderedFile("möte.ics", "text/calendar", b"BEGIN:VCALENDAR")
    keys = {"key": {"k": "secret"}, "iv": "iv", "hashes": {"sha256": "h"}, "v": "v2"}
    encrypted = file_content(ics, "mxc://hs/abc", keys)
    assert encrypted["msgtype"] == "m.file"
    assert "url" not in encrypted
    assert encrypted["file"] == {**keys, "url": "mxc://hs/abc"}
    assert encrypted["info"] == {"mimetype": "text/calendar", "size": 15}
    png = file_content(RenderedFile("bild.png", "image/png", b"png"), "mxc://hs/p", None)
    assert png["msgtype"] == "m.image"
    assert png["url"] == "mxc://hs/p"


def test_replies_lose_their_quote_and_edits_are_not_new_input() -> None:
    reply = {
        "body": "> <@kim:example.org> Vad sa du?\n> rad två\n\nMin fråga",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}},
    }
    assert incoming_text(reply) == "Min fråga"
    assert incoming_text({"body": "> citat utan svar\n\ntext"}) == "> citat utan svar\n\ntext"
    edit = {"body": "* ny text", "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}}
    assert incoming_text(edit) is None
    assert incoming_text({"msgtype": "m.text"}) is None


def invite_event(membership: str, is_direct: bool | None, sender: str = ALEX) -> SimpleNamespace:
    """A stripped m.room.member event of the bot's invite, as nio parses it."""
    content = {"membership": membership} | ({} if is_direct is None else {"is_direct": is_direct})
    return SimpleNamespace(state_key=BOT, membership=membership, sender=sender, content=content)


def test_an_invite_marked_direct_makes_a_direct_room() -> None:
    direct = read_invite([invite_event("invite", True)], BOT)
    assert direct == InviteSummary(ALEX, True)
    assert kind_of_invite(direct) is RoomKind.DIRECT
    assert kind_of_invite(read_invite([invite_event("invite", None)], BOT)) is RoomKind.GROUP
    assert kind_of_invite(read_invite([], BOT)) is RoomKind.GROUP


def test_a_direct_room_is_the_persons_private_chat_a_group_room_is_not() -> None:
    dm = conversation_ref("!dm:example.org", ALEX, direct=True)
    assert (dm.chat_id, dm.user_id, dm.is_group) == (ALEX, ALEX, False)
    family = conversation_ref("!family:example.org", ALEX, direct=False)
    assert (family.chat_id, family.is_group) == ("!family:example.org", True)


def test_a_direct_room_stops_being_direct_when_someone_else_is_in_it() -> None:
    room = StoredRoom("!dm:example.org", RoomKind.DIRECT, ALEX, True)
    assert still_direct(room, ALEX, member_count=2)
    assert not still_direct(room, ALEX, member_count=3)
    assert not still_direct(room, "@kim:example.org", member_count=2)
