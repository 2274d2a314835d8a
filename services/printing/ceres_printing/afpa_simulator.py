"""A fake Afpa that speaks the printing service's feed over HTTP, as the real one would: polls the ready batches,
downloads each zip, checks its checksum, manifests and PDFs, acknowledges it, and reports each document's fate
(printed, posted, then delivered — or PND for the numbers it is told to lose).

    python -m ceres_printing.afpa_simulator --url http://127.0.0.1:8004 --token <afpa machine token> [--pnd N…]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

import requests
from pypdf import PdfReader


class AfpaCheckFailed(Exception):
    """The batch does not hold what its manifest says: the real Afpa would refuse it."""


@dataclass
class ReceivedBatch:
    id: str
    documents: list[dict]
    pdf_pages: dict[str, int]
    links: dict[str, list[str]] = field(default_factory=dict)  # file -> URIs found in the PDF (verification)


class AfpaSimulator:
    def __init__(self, base_url: str, token: str, *, pnd: set[str] | None = None, timeout: float = 30):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.pnd = set(pnd or ())
        self.timeout = timeout

    def ready_batches(self) -> list[dict]:
        response = self.http.get(f"{self.base}/afpa/batches", timeout=self.timeout)
        response.raise_for_status()
        return response.json()["batches"]

    def receive(self, batch: dict) -> ReceivedBatch:
        """Download, check, acknowledge."""
        response = self.http.get(f"{self.base}/afpa/batches/{batch['id']}/archive", timeout=self.timeout)
        response.raise_for_status()
        digest = hashlib.sha256(response.content).hexdigest()
        if digest != response.headers["X-Checksum-SHA256"] or digest != batch["sha256"]:
            raise AfpaCheckFailed(f"{batch['id']}: checksum mismatch")
        received = self._check(batch["id"], zipfile.ZipFile(io.BytesIO(response.content)))
        ack = self.http.post(f"{self.base}/afpa/batches/{batch['id']}/acknowledgement", json={"sha256": digest},
                             timeout=self.timeout)
        ack.raise_for_status()
        return received

    def _check(self, batch_id: str, zf: zipfile.ZipFile) -> ReceivedBatch:
        manifest = json.loads(zf.read("manifest.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8")), delimiter=";"))
        documents = manifest["documents"]
        if manifest["batch_id"] != batch_id or [r["document_number"] for r in rows] != [
                d["document_number"] for d in documents]:
            raise AfpaCheckFailed(f"{batch_id}: manifest.json and manifest.csv disagree")
        pages, links = {}, {}
        for name, digest in manifest["files"].items():
            data = zf.read(name)
            if hashlib.sha256(data).hexdigest() != digest:
                raise AfpaCheckFailed(f"{batch_id}/{name}: checksum mismatch")
            reader = PdfReader(io.BytesIO(data))
            for doc in documents:
                if doc["file"] != name:
                    continue
                first = int(doc["first_page"]) - 1
                if first < 0 or first + int(doc["pages"]) > len(reader.pages):
                    raise AfpaCheckFailed(f"{batch_id}/{name}: {doc['document_number']} outside the file")
                text = " ".join(reader.pages[i].extract_text() or "" for i in range(first, first + int(doc["pages"])))
                if doc["document_number"] not in text:
                    raise AfpaCheckFailed(f"{batch_id}/{name}: {doc['document_number']} not printed on its pages")
            pages[name] = len(reader.pages)
            links[name] = [annot.get_object()["/A"]["/URI"] for page in reader.pages
                           for annot in page.get("/Annots", []) if "/A" in annot.get_object()]
        for doc in documents:
            address = doc["address"]
            if not doc["addressee"] or not address["lines"] or not address["code_postal"]:
                raise AfpaCheckFailed(f"{batch_id}: {doc['document_number']} has no postal address")
        return ReceivedBatch(batch_id, documents, pages, links)

    def report(self, received: ReceivedBatch) -> list[dict]:
        """Printed, posted, then PND or delivered: one call per step, as the Afpa's mailroom would."""
        results = []
        for step in ("printed", "posted", "fate"):
            reports = [{"batch_id": received.id, "document_number": d["document_number"],
                        "status": step if step != "fate" else
                        ("pnd" if d["document_number"] in self.pnd else "delivered")}
                       for d in received.documents]
            response = self.http.post(f"{self.base}/afpa/statuses", json={"reports": reports}, timeout=self.timeout)
            response.raise_for_status()
            results.extend(response.json()["results"])
        return results

    def run_once(self) -> list[ReceivedBatch]:
        received = []
        for batch in self.ready_batches():
            got = self.receive(batch)
            self.report(got)
            received.append(got)
        return received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--pnd", nargs="*", default=[])
    args = parser.parse_args()
    for batch in AfpaSimulator(args.url, args.token, pnd=set(args.pnd)).run_once():
        print(f"{batch.id}: {len(batch.documents)} documents, {len({d['pli'] for d in batch.documents})} plis, "
              f"{len(batch.pdf_pages)} files")


if __name__ == "__main__":
    main()
