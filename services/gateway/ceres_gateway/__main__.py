"""`python -m ceres_gateway --port 8000`: the gateway on a threaded development server (embedded mode)."""
import argparse

from werkzeug.serving import make_server

from .app import create_app

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
args = parser.parse_args()
make_server(args.host, args.port, create_app(), threaded=True).serve_forever()
