"""The pages the mailed links open (seed 003, step 10: « Activer mon compte »). Opening a link changes nothing —
mail scanners follow links — the button posts the token to the JSON API."""
from __future__ import annotations

from flask import Response
from markupsafe import escape

_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title} — CERES</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><h1>{title}</h1><p>{intro}</p>
<form id="f">{fields}<button type="submit">{button}</button></form><p id="out" role="status"></p></main>
<script>
document.getElementById("f").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const body = Object.fromEntries(new FormData(e.target).entries());
  const headers = {{"Content-Type": "application/json"}};
  const token = sessionStorage.getItem("ceres_access_token");
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch("{action}", {{method: "POST", headers, body: JSON.stringify(body)}});
  const j = await r.json();
  document.getElementById("out").textContent = j.detail || (r.ok ? "C'est fait." : "Erreur.");
}});
</script></body></html>"""


# How the endpoints serving a page document it (L9).
HTML_PAGE = {"schema": {"type": "string"}, "content_type": "text/html", "success": True,
             "description": "La page (formulaire qui envoie le jeton à l'API JSON)"}


def page(title: str, intro: str, action: str, token: str, button: str, extra_fields: str = "") -> Response:
    fields = f'<input type="hidden" name="token" value="{escape(token)}">{extra_fields}'
    html = _PAGE.format(title=escape(title), intro=escape(intro), fields=fields, button=escape(button),
                        action=escape(action))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


PASSWORD_FIELDS = ('<label>Nouveau mot de passe <input type="password" name="password" autocomplete="new-password" '
                   'required></label><label>Confirmez le mot de passe <input type="password" '
                   'name="password_confirmation" autocomplete="new-password" required></label>')
