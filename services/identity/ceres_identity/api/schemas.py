"""Marshmallow schemas of the identity API (French messages at the edge)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ceres_shared.openapi import UtcDateTime
from ceres_shared.validation import count, length, line

from ..service_layer.agents import PROFILES

SIRET = validate.Regexp(r"^\d{14}$", error="Le SIRET comporte 14 chiffres.")
NAME = line(100, 1)  # C5: no invisible or control character in a person's name
PASSWORD = length(1024)  # hashed, not stored as typed: a bound on the work of hashing it
PHONE = [validate.Regexp(r"^\+?[0-9 .-]{10,20}$", error="Numéro de téléphone invalide."),
         length(20)]  # the column's width: « + » and 20 more passed the pattern alone (L5)
EMAIL_ERROR = "Adresse électronique invalide."


class Detail(Schema):
    detail = fields.Str()


class Challenge(Schema):
    ticket = fields.Str()
    pow_bits = fields.Int()
    min_seconds = fields.Float()


class SignUp(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254), error_messages={"invalid": EMAIL_ERROR})
    password = fields.Str(required=True, load_only=True, validate=PASSWORD)
    password_confirmation = fields.Str(required=True, load_only=True, validate=PASSWORD)
    civilite = fields.Str(required=True, validate=validate.OneOf(("M", "Mme"), error="« M » ou « Mme »."))
    nom = fields.Str(required=True, validate=NAME)
    prenom = fields.Str(required=True, validate=NAME)
    telephone = fields.Str(required=True, validate=PHONE)
    ticket = fields.Str(required=True, validate=validate.Length(max=200))
    pow_nonce = fields.Str(required=True, validate=validate.Length(max=40))
    website = fields.Str(load_default="", validate=length(200),
                         metadata={"description": "Piège à robots : laisser vide (champ caché)."})


class TokenOnly(Schema):
    token = fields.Str(required=True, validate=validate.Length(min=10, max=200))


class Login(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=1, max=254))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(max=1024))


class RefreshIn(Schema):
    refresh_token = fields.Str(required=True, validate=validate.Length(min=10, max=200))


class LogoutIn(Schema):
    refresh_token = fields.Str(validate=validate.Length(min=10, max=200))
    access_token = fields.Str(validate=validate.Length(min=10, max=4096),
                              metadata={"description": "révoqué lui aussi, avec les jetons d'accès antérieurs du compte"})


class TokenPair(Schema):
    access_token = fields.Str()
    refresh_token = fields.Str()
    token_type = fields.Str()
    expires_in = fields.Int()
    role = fields.Str()


class ClientCredentials(Schema):
    grant_type = fields.Str(required=True, validate=validate.OneOf(("client_credentials",)))
    client_id = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    client_secret = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class ResetRequest(Schema):
    email = fields.Str(required=True, validate=validate.Length(min=1, max=254))


class ResetConfirm(Schema):
    token = fields.Str(required=True, validate=validate.Length(min=10, max=200))
    password = fields.Str(required=True, load_only=True, validate=PASSWORD)
    password_confirmation = fields.Str(required=True, load_only=True, validate=PASSWORD)


class Attach(Schema):
    siret = fields.Str(required=True, validate=SIRET)
    code = fields.Str(required=True, validate=validate.Length(min=1, max=40))


class Attached(Schema):
    siret = fields.Str()
    raison_sociale = fields.Str()
    role = fields.Str()


class MembershipOut(Schema):
    siret = fields.Str()
    role = fields.Str()
    raison_sociale = fields.Str(allow_none=True)


class PersonOut(Schema):
    id = fields.Str()
    email = fields.Str()
    civilite = fields.Str()
    nom = fields.Str()
    prenom = fields.Str()
    telephone = fields.Str(allow_none=True)


class Me(PersonOut):
    kind = fields.Str()
    role = fields.Str()
    scope = fields.Dict()
    memberships = fields.List(fields.Nested(MembershipOut))


class CodeOut(Schema):
    siret = fields.Str()
    raison_sociale = fields.Str()
    code = fields.Str()
    created_at = UtcDateTime()
    used = fields.Bool()


class SearchArgs(Schema):
    q = fields.Str(required=True, validate=validate.Length(max=100))


class AccountHit(Schema):
    id = fields.Str()
    nom = fields.Str()
    prenom = fields.Str()
    email = fields.Str(metadata={"description": "Masquée : de quoi reconnaître un collègue, sans plus."})


class InvitationIn(Schema):
    siret = fields.Str(required=True, validate=SIRET)
    role = fields.Str(required=True, validate=validate.OneOf(
        ("centre", "gestionnaire"), error="Rôle « centre » (Centre agréé) ou « gestionnaire » (Gestionnaire "
                                          "CENTRES)."))
    account_id = fields.Str(load_default=None, validate=validate.Length(max=36))
    email = fields.Email(load_default=None, validate=length(254), error_messages={"invalid": EMAIL_ERROR})


class InvitationOut(Schema):
    id = fields.Str()
    siret = fields.Str()
    role = fields.Str()
    email = fields.Str()
    status = fields.Str()
    created_at = UtcDateTime()
    expires_at = UtcDateTime()
    raison_sociale = fields.Str(allow_none=True)


class MemberOut(Schema):
    account_id = fields.Str()
    nom = fields.Str()
    prenom = fields.Str()
    email = fields.Str()
    role = fields.Str()
    since = UtcDateTime()


PROFILE = validate.OneOf(sorted(PROFILES), error="Profil : " + ", ".join(sorted(PROFILES)) + ".")
MAX_TERRITORIES = 120  # more than France's 101 départements: stored as JSON, bounded here (L5)
TERRITORIES = count(MAX_TERRITORIES, "territoires")


class AgentIn(Schema):
    email = fields.Email(required=True, validate=length(254), error_messages={"invalid": EMAIL_ERROR})
    civilite = fields.Str(required=True, validate=validate.OneOf(("M", "Mme"), error="« M » ou « Mme »."))
    nom = fields.Str(required=True, validate=NAME)
    prenom = fields.Str(required=True, validate=NAME)
    telephone = fields.Str(load_default=None, validate=PHONE)
    profile = fields.Str(required=True, validate=PROFILE)
    departements = fields.List(fields.Str(validate=validate.Length(min=2, max=3)), load_default=list,
                               validate=TERRITORIES)
    regions = fields.List(fields.Str(validate=validate.Length(min=2, max=2)), load_default=list,
                          validate=TERRITORIES)


class AgentPatch(Schema):
    profile = fields.Str(validate=PROFILE)
    departements = fields.List(fields.Str(validate=validate.Length(min=2, max=3)),
                               validate=TERRITORIES)
    regions = fields.List(fields.Str(validate=validate.Length(min=2, max=2)),
                          validate=TERRITORIES)
    status = fields.Str(validate=validate.OneOf(("active", "disabled"), error="« active » ou « disabled »."))


class AgentOut(PersonOut):
    profile = fields.Str()
    departements = fields.List(fields.Str())
    regions = fields.List(fields.Str())
    status = fields.Str()


class ClientIn(Schema):
    name = fields.Str(required=True, validate=line(120, 1))
    role = fields.Str(required=True, validate=validate.OneOf(("afpa", "service"), error="« afpa » ou « service »."))


class ClientOut(Schema):
    client_id = fields.Str()
    name = fields.Str()
    role = fields.Str()
    created_at = UtcDateTime()
    revoked = fields.Bool()
    client_secret = fields.Str(metadata={"description": "Montré une seule fois, à la création."})


class KidOut(Schema):
    kid = fields.Str()
