"""The French texts of the mails (seed 003 for the activation and the invitation)."""
from __future__ import annotations

SIGNATURE = ("Cordialement,\nL'équipe CERES — ministère du Travail\n\n"
             "Ce message est envoyé par un automate, merci de ne pas y répondre : votre réponse ne pourra pas être "
             "traitée. Si vous n'êtes pas à l'origine de cette action, veuillez ignorer ce message.")


def activation(prenom: str, nom: str, link: str) -> tuple[str, str]:
    return ("Demande de création de votre compte CERES", f"""Bonjour {prenom} {nom},

Vous avez fait une demande de création de compte.

{link}

Si vous rencontrez des difficultés pour activer ce lien, copiez-le et collez-le directement dans la barre \
d'adresse de votre navigateur.

Vous pourrez ensuite vous connecter avec votre identifiant (votre adresse électronique) et le mot de passe que \
vous avez choisi.

À noter : le lien d'activation est valable pour une seule activation. Vous avez un délai de 24 heures pour \
effectuer cette action, passé ce délai, il vous faudra recommencer le processus d'inscription.

{SIGNATURE}""")


def already_registered(prenom: str, login_link: str, reset_link: str) -> tuple[str, str]:
    # Sent instead of an activation when the address has an account: the sign-up page answers the same either
    # way, so only the mailbox's owner learns that the account exists.
    return ("Demande de création de compte CERES", f"""Bonjour {prenom},

Une demande de création de compte a été faite avec votre adresse électronique, qui a déjà un compte CERES.

Pour vous connecter : {login_link}
Si vous avez oublié votre mot de passe : {reset_link}

{SIGNATURE}""")


def password_reset(prenom: str, link: str) -> tuple[str, str]:
    return ("Réinitialisation de votre mot de passe CERES", f"""Bonjour {prenom},

Vous avez demandé à réinitialiser votre mot de passe. Pour en choisir un nouveau, suivez ce lien :

{link}

Ce lien est valable une heure et pour une seule utilisation.

{SIGNATURE}""")


def agent_setup(prenom: str, profile: str, link: str) -> tuple[str, str]:
    return ("Votre compte agent CERES", f"""Bonjour {prenom},

Un administrateur vous a créé un compte CERES (profil : {profile}). Pour choisir votre mot de passe et activer \
le compte, suivez ce lien :

{link}

Ce lien est valable 72 heures et pour une seule utilisation.

{SIGNATURE}""")


def invitation(inviter: str, role_label: str, raison_sociale: str, link: str) -> tuple[str, str]:
    return ("Invitation à rejoindre la démarche CERES", f"""Bonjour,

{inviter} vous invite à accéder au service CERES avec le rôle {role_label} pour l'entreprise {raison_sociale}.

Pour valider cette invitation, veuillez vous connecter sur le portail CERES en suivant le lien ci-dessous.

{link}

Si vous n'avez pas encore de compte, créez-le d'abord avec cette adresse électronique. L'invitation est \
valable 7 jours.

{SIGNATURE}""")
