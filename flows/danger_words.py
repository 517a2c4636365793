"""Words that may mean acute danger: a short list of Swedish and English phrases, and the match.

When a young person writes one of these, the bot answers at once, privately, with where to turn
(flows/help_now.py). It is only a pointer to help: nothing is flagged, stored or shared because of
it, so a false alarm costs one calm message and a miss costs what it costs today. The list is
kept short and specific for that reason: a phrase that also turns up in ordinary talk about
school or the meeting ("jag orkar inte med matte", "dö av skratt", "skär äpplet") is left out.

Review: not yet reviewed by a clinician. Review before launch (the phrases and the near-misses
in tests/test_help_now.py).
"""

from __future__ import annotations

import re
import unicodedata

# Each phrase matches whole words in the normalised text (see `normalised`), anywhere in it.
# Swedish compounds are separate phrases ("självmord", "självmordstankar"): word boundaries
# keep "vill dö" from matching "vill döda".
DANGER_PHRASES: tuple[str, ...] = (
    # Suicide, Swedish.
    "orkar inte mer",
    "orkar inte leva",
    "vill inte leva",
    "vill dö",
    "vill bara dö",
    "ta livet av mig",
    "ta mitt liv",
    "döda mig själv",
    "självmord",
    "självmordstankar",
    # Self-harm, Swedish.
    "skada mig själv",
    "skadar mig själv",
    "skär mig",
    "skära mig",
    # Abuse, Swedish: who hits, not "det slår mig att …" (it strikes me that).
    "han slår mig",
    "hon slår mig",
    "de slår mig",
    "pappa slår mig",
    "mamma slår mig",
    "blir slagen",
    "misshandlar mig",
    "våldtog mig",
    "blev våldtagen",
    # Suicide, English.
    "want to die",
    "wanna die",
    "kill myself",
    "end my life",
    "don't want to live",
    "suicide",
    "suicidal",
    # Self-harm, English.
    "hurt myself",
    "hurting myself",
    "cut myself",
    "cutting myself",
    "self harm",
    # Abuse, English.
    "he hits me",
    "she hits me",
    "they hit me",
    "dad hits me",
    "mum hits me",
    "mom hits me",
    "abuses me",
    "raped me",
)

# Anything that is not a letter or a digit separates words: punctuation, emoji, dashes, and the
# apostrophe of "don't" ("don t" on both sides, so phrase and text agree).
_NOT_A_WORD = re.compile(r"[^\w]+|_+")


def normalised(text: str) -> str:
    """The text as the list is matched: case folded, å/ä/ö kept, words separated by one space."""
    # NFC keeps å, ä and ö as letters of their own (never "a" plus a ring) whatever the keyboard
    # sent; casefold() leaves them as they are.
    folded = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_NOT_A_WORD.sub(" ", folded).split())


_PATTERNS = tuple(f" {normalised(p)} " for p in DANGER_PHRASES)


def may_mean_danger(text: str) -> bool:
    """True when the text holds one of the phrases, as whole words."""
    padded = f" {normalised(text)} "
    return any(pattern in padded for pattern in _PATTERNS)
