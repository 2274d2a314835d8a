"""Who sees which candidate (I4), decided in one place:

- a centre user sees the candidates created under one of their SIRETs, or enrolled (and not withdrawn) in a
  session of one of their centres (sessions events give the centre id; centre events map it to its SIRET);
- an agent (UD, DREETS/DEETS) sees the candidates living in their territory (address commune's département or
  région) or enrolled in a session held on a site of their territory; DGEFP and administrators see everyone;
- the other services (role `service`) read everything; the Afpa reads nothing here (printing sends it what it needs).
"""
from __future__ import annotations

from sqlalchemy import false, or_, select, true

from ceres_shared.auth import Principal

from ..models import Candidate, CentreRef, Enrolment, SiteRef


CENTRE_ROLES = frozenset({"centre", "gestionnaire"})


def visible(principal: Principal):
    """A SQL condition on Candidate: the records this principal may see."""
    if principal.role == "service" or (principal.is_agent and principal.national):
        return true()
    if principal.role in CENTRE_ROLES:
        sirets = sorted(principal.sirets)
        if not sirets:
            return false()
        enrolled = (  # I4: only the people now enrolled in one of its sessions (not those withdrawn)
            select(Enrolment.candidate_id)
            .join(CentreRef, CentreRef.centre_id == Enrolment.centre_id)
            .where(CentreRef.siret.in_(sirets), Enrolment.enrolled.is_(True))
        )
        return or_(Candidate.created_by_siret.in_(sirets), Candidate.id.in_(enrolled))
    if principal.is_agent:
        deps, regs = sorted(principal.departements), sorted(principal.regions)
        held_here = (
            select(Enrolment.candidate_id)
            .join(SiteRef, SiteRef.site_id == Enrolment.site_id)
            .where(or_(SiteRef.departement.in_(deps), SiteRef.region.in_(regs)))
        )
        return or_(
            Candidate.address_departement.in_(deps),
            Candidate.address_region.in_(regs),
            Candidate.id.in_(held_here),
        )
    return false()
