"""The "vad har ni om mig?" file: everything stored about a person, as JSON, made at send time."""

from __future__ import annotations

import json

from bot.catalogue import Catalogue, RenderedFile
from flows.replies import Params
from storage.erasure import export
from storage.unit_of_work import UnitOfWork


class PersonalDataFile:
    """Makes the export file of one person (the person asking; the flow passes their own id)."""

    kind = "personal_data"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """All rows about the person, decrypted, table by table."""
        person_id = params.get("person_id")
        if not isinstance(person_id, int):
            raise ValueError("personal data file needs a person id")
        data = export(uow.session, person_id)
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        return RenderedFile("mina-data.json", "application/json", body.encode())
