"""Files and folders the bot makes are its own user's only (0600 and 0700), whatever the umask.

What they hold (the database, its key, reports) is about children and families: nobody else on
the machine should read it, also where the system's umask (often 022) would let them. Modes
given to mkdir and open pass through the umask, which only ever takes bits away, so asking
for 0700 and 0600 is enough. Files and folders that already exist keep the mode the operator
gave them.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> None:
    """Makes a folder and its missing parents, each 0700; existing ones are left as they are."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        # Path.mkdir(parents=True) gives only the last folder the mode: each one is made here.
        each.mkdir(mode=FOLDER_MODE, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Makes an empty 0600 file (and its folder) unless it exists."""
    make_private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def write_private_file(path: Path, data: bytes) -> None:
    """Writes a file the bot makes (an export, a report): a new one is 0600."""
    make_private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
