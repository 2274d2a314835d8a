"""`python -m ceres_gateway --port 8000`: the gateway on a threaded development server (embedded mode)."""
import argparse
import sys

from werkzeug.serving import make_server

from ceres_shared.config import ConfigError, check_embedded_bind

from .app import create_app

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
args = parser.parse_args()
try:
    check_embedded_bind(args.host)  # M7
    app = create_app(embedded=True)
except ConfigError as exc:
    sys.exit(f"gateway: {exc}")
make_server(args.host, args.port, app, threaded=True).serve_forever()
