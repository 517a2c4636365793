"""File makers: turn an attachment reference into a file at send time (.ics, reports, PNG)."""

from __future__ import annotations

from typing import Protocol

from bot.catalogue import Catalogue, RenderedFile
from flows.replies import Params
from storage.unit_of_work import UnitOfWork


class FileMaker(Protocol):
    """Makes one kind of file from stored data."""

    kind: str

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The file for these parameters, in this language."""
        ...


class UnknownFileKind(LookupError):
    """An attachment names a file maker that is not registered."""
