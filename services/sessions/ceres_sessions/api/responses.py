"""The bodies the sessions endpoints build themselves (dicts, not dumped through a schema), documented for the
OpenAPI document (L9): used only by `@blp.alt_response(..., success=True)`, never to dump."""
from __future__ import annotations

from marshmallow import fields

from ceres_shared.openapi import Described

Str, NStr, NDate, NInt = fields.Str, (lambda: fields.Str(allow_none=True)), (lambda: fields.Date(allow_none=True)), \
    (lambda: fields.Int(allow_none=True))


class SessionExtras(Described):
    """What a session's detail adds to SessionOut (sessions.SessionDetail joins both)."""

    alertes = fields.List(fields.Str(), metadata={"description": "Alertes d'échéance (S6)"})
    actions = fields.List(fields.Str(), metadata={"description": "Étapes que l'appelant peut faire maintenant"})
    candidats = fields.List(fields.Dict())
    jury = fields.List(fields.Dict())
    historique = fields.List(fields.Dict())
    controles = fields.List(fields.Dict(), metadata={"description": "Agents seulement (S10)"})


class SessionPage(Described):
    total = fields.Int()
    page = fields.Int()
    sort = fields.Str()
    sessions = fields.List(fields.Nested("SessionOut"))


class Offer(Described):
    site_id = fields.Str()
    site = fields.Str()
    titre_code = fields.Str()
    valid_until = NDate()


class ImportReport(Described):
    publies = fields.Int()
    mis_a_jour = fields.Int()
    inchanges = fields.Int()
    titres = fields.List(fields.Dict(), metadata={"description": "Avec `?dry_run=1` : ce que l'import ferait"})


class ConvocableJure(Described):
    id = fields.Str()
    civilite = fields.Str()
    nom = fields.Str()
    prenom = fields.Str()
    email = NStr()


class Habilitation(Described):
    titre_code = fields.Str()
    valid_from = fields.Date()
    valid_until = fields.Date()
    effective_until = fields.Date()


class JureOut(ConvocableJure):
    departement = fields.Str()
    region = fields.Str()
    competences = fields.List(fields.Dict())
    commentaires = NStr()
    habilitations = fields.List(fields.Nested(Habilitation))


class RelaxationOut(Described):
    id = NInt()
    starts_on = fields.Date()
    ends_on = fields.Date()
    reason = fields.Str()
    created_by = fields.Str()
    created_at = fields.DateTime()
    state = fields.Str()
    closed_at = fields.DateTime(allow_none=True)
    closed_by = NStr()
    closure_reason = NStr()


class MassPreview(Described):
    total = fields.Int()
    fingerprint = fields.Str()
    sessions = fields.List(fields.Nested("SessionOut"))


class MassOperationOut(Described):
    id = fields.Str()
    action = fields.Str()
    criteria = fields.Dict()
    new_end_date = NDate()
    reason = NStr()
    state = fields.Str()
    total = fields.Int()
    done = fields.Int()
    skipped = fields.Int()
    progress = fields.Float()
    created_by = fields.Str()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class Dashboard(Described):
    depuis = fields.Date()
    par_statut = fields.List(fields.Dict())
    demandes_dte = fields.Int()
    sessions_sous_assouplissement = fields.Int()
    agrements_a_suivre = fields.Dict()
    alertes = fields.List(fields.Dict())
    controles = fields.Dict(metadata={"description": "Agents seulement"})


class ControlOut(Described):
    id = fields.Int()
    kind = fields.Str()
    planned_on = fields.Date()
    status = fields.Str()
    outcome = NStr()
    observations = NStr()
    done_on = NDate()
    done_by = NStr()
    cancel_reason = NStr()
    session_id = fields.Str()
    kind_label = fields.Str()
    status_label = fields.Str()
    outcome_label = NStr()
    created_by = fields.Str()
    created_at = fields.DateTime()
    departement = fields.Str()
    en_retard = fields.Bool()


class ControlPage(Described):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    controles = fields.List(fields.Nested(ControlOut))
