"""Models of sharing per reader: the family's consent to information exchange per organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.core import Base
from storage.types import UTCDateTime


class OrganisationConsent(Base):
    """A samtycke till informationsutbyte with one organisation of a case; the newest counts."""

    __tablename__ = "organisation_consent"
    __table_args__ = (Index("ix_organisation_consent_case_person", "case_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
