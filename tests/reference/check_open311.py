#!/usr/bin/env python3
"""Checks a running gridwatch's Open311 GeoReport v2 answers against the published JSON Schemas.

Usage: check_open311.py BASE_URL API_KEY LAT LONG [--schemas DIR]

API_KEY is a reporter token; LAT LONG a point inside a grid (degrees). The checker files one request
(with personal fields that must never come back), then fetches every Open311 answer kind and validates:
  * services.json, services/{code}.json, requests.json (several filters), requests/{id}.json against
    service(s).schema.json, service-definition.schema.json and request(s).schema.json from
    ../shared/open311/ (`$ref: request.json` resolved through a referencing.Registry), made strict:
    no field beyond the schema's `properties`, and every one of them present on services and requests;
  * date-time fields as RFC 3339 with an offset, uri fields as absolute URLs;
  * the POST answer `[{service_request_id, service_notice, account_id}]` and discovery's shape;
  * every error (400, 403, 404) as the Open311 error array `[{code, description}]`, `code` equal to
    the HTTP status, and a JSON content type;
  * that no personal field value appears in any answer.
Exits non-zero with one line per failure.
"""
import argparse
import copy
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

FAILURES = []
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PERSONAL = {
    "email": "resident.check@example.org",
    "first_name": "Checkfirstname",
    "last_name": "Checklastname",
    "phone": "+86-139-0000-4242",
    "device_id": "device-check-4242",
    "account_id": "account-check-4242",
}
ERROR_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}},
    },
}
POST_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "service_notice": {"type": ["string", "null"]},
            "account_id": {"type": ["string", "null"]},
            "token": {"type": ["string", "null"]},
        },
    },
}
SEEN_BODIES = []


def fail(message):
    FAILURES.append(message)
    print("FAIL:", message, file=sys.stderr)


def fetch(base, path, form=None):
    """(status, content type, parsed JSON or None) for a GET, or a form POST when `form` is given."""
    data = None if form is None else urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(base + path, data=data, method="POST" if form is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, ctype, raw = resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as e:
        status, ctype, raw = e.code, e.headers.get("Content-Type", ""), e.read()
    text = raw.decode("utf-8", "replace")
    SEEN_BODIES.append((path, text))
    try:
        return status, ctype, json.loads(text)
    except ValueError:
        fail(f"{path}: answer is not JSON: {text[:200]!r}")
        return status, ctype, None


def strict(schema):
    """The schema with `additionalProperties: false` wherever it lists `properties`."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def format_checker():
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError(f"{value!r} is not RFC 3339 with an offset")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri", raises=ValueError)
    def is_uri(value):
        if not isinstance(value, str):
            return True
        parts = urllib.parse.urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"{value!r} is not an absolute URI")
        return True

    return checker


class Schemas:
    def __init__(self, directory):
        raw = {}
        for name in ["request", "requests", "service", "services", "service-definition"]:
            raw[name] = strict(json.loads((directory / f"{name}.schema.json").read_text()))
        self.raw = raw
        # The list schemas name their items `request.json` / `service.json`: map those to the local files.
        resources = [
            (f"{name}.json", Resource.from_contents(raw[name], default_specification=DRAFT202012))
            for name in raw
        ]
        self.registry = Registry().with_resources(resources)
        self.checker = format_checker()

    def check(self, name, instance, where):
        schema = self.raw[name] if isinstance(name, str) else name
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry, format_checker=self.checker)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        for error in errors[:10]:
            path = "/".join(str(p) for p in error.absolute_path)
            fail(f"{where}: schema {name if isinstance(name, str) else 'inline'} at /{path}: {error.message}")
        return not errors

    def every_field(self, name, items, where):
        """Every property the schema lists is present (we promise the whole set, null where unknown)."""
        fields = set(self.raw[name]["properties"])
        for i, item in enumerate(items if isinstance(items, list) else []):
            missing = fields - set(item) if isinstance(item, dict) else fields
            if missing:
                fail(f"{where}[{i}]: missing fields {sorted(missing)}")


def check_error(base, path, status, form=None):
    got, ctype, body = fetch(base, path, form)
    where = f"{'POST' if form is not None else 'GET'} {path}"
    if got != status:
        fail(f"{where}: status {got}, expected {status}; body {body}")
    if "json" not in ctype:
        fail(f"{where}: content type {ctype!r} is not JSON")
    if "problem" in ctype:
        fail(f"{where}: answered problem+json, not the Open311 error format")
    if jsonschema.Draft202012Validator(ERROR_SCHEMA).is_valid(body):
        if any(e["code"] != got for e in body):
            fail(f"{where}: error code {[e['code'] for e in body]} differs from HTTP status {got}")
    else:
        fail(f"{where}: not an Open311 error array: {body}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("api_key")
    parser.add_argument("lat", type=float)
    parser.add_argument("long", type=float)
    default_schemas = Path(__file__).resolve().parents[2].parent / "shared" / "open311"
    parser.add_argument("--schemas", type=Path, default=default_schemas)
    args = parser.parse_args()
    if not args.schemas.is_dir():
        print(f"FAIL: no schema directory {args.schemas}", file=sys.stderr)
        return 2
    schemas = Schemas(args.schemas)
    base = args.base.rstrip("/") + "/open311/v2"
    kinds = 0

    # Discovery (no published schema): its documented shape.
    status, _, discovery = fetch(base, "/discovery.json")
    endpoints = discovery.get("endpoints") if isinstance(discovery, dict) else None
    if status != 200 or not isinstance(endpoints, list) or not endpoints:
        fail(f"discovery.json: status {status}, body {discovery}")
    else:
        for e in endpoints:
            for key in ["specification", "url", "changeset", "type", "formats"]:
                if key not in e:
                    fail(f"discovery.json: endpoint lacks {key}: {e}")
            if "application/json" not in e.get("formats", []):
                fail(f"discovery.json: formats {e.get('formats')} lack application/json")
    kinds += 1

    status, _, services = fetch(base, "/services.json")
    if status != 200 or not services:
        fail(f"services.json: status {status}, body {services}")
        services = []
    schemas.check("services", services, "services.json")
    schemas.every_field("service", services, "services.json")
    kinds += 1
    codes = [s["service_code"] for s in services if isinstance(s, dict) and "service_code" in s]
    for code in codes:
        status, _, definition = fetch(base, f"/services/{code}.json")
        if status != 200:
            fail(f"services/{code}.json: status {status}")
        schemas.check("service-definition", definition, f"services/{code}.json")
        if isinstance(definition, dict) and definition.get("service_code") != code:
            fail(f"services/{code}.json: service_code {definition.get('service_code')!r}")
    kinds += 1
    if not codes:
        fail("no services to file a request against")
        return report(kinds)

    # A request, with the personal fields a client may send.
    form = {"api_key": args.api_key, "service_code": codes[0], "lat": args.lat, "long": args.long,
            "description": "checker: 井盖缺失 manhole cover missing", **PERSONAL}
    status, _, posted = fetch(base, "/requests.json", form)
    if status not in (200, 201):
        fail(f"POST requests.json: status {status}, body {posted}")
    request_id = posted[0]["service_request_id"] if schemas.check(POST_SCHEMA, posted, "POST requests.json") else None
    kinds += 1

    queries = ["", f"?service_code={codes[0]}", "?status=open", "?status=open,closed", "?status=closed",
               "?start_date=2000-01-01T00:00:00Z&end_date=2000-03-01T00:00:00Z"]
    if request_id:
        queries.append(f"?service_request_id={request_id}")
    for query in queries:
        status, _, listed = fetch(base, f"/requests.json{query}")
        if status != 200:
            fail(f"requests.json{query}: status {status}, body {listed}")
        schemas.check("requests", listed, f"requests.json{query}")
        schemas.every_field("request", listed, f"requests.json{query}")
        if query == "" and request_id and not any(r.get("service_request_id") == request_id for r in listed or []):
            fail(f"requests.json: the new request {request_id} is not listed")
    kinds += 1
    if request_id:
        status, _, one = fetch(base, f"/requests/{request_id}.json")
        if status != 200 or not isinstance(one, list) or len(one) != 1:
            fail(f"requests/{request_id}.json: status {status}, body {one}")
        schemas.check("requests", one, f"requests/{request_id}.json")
        schemas.every_field("request", one, f"requests/{request_id}.json")
        kinds += 1

    good = {k: v for k, v in form.items() if k not in PERSONAL}
    check_error(base, "/services/no_such_service.json", 404)
    check_error(base, "/requests/999999999.json", 404)
    check_error(base, "/requests/abc.json", 400)
    check_error(base, "/services.xml", 400)
    check_error(base, "/requests.json?status=pending", 400)
    check_error(base, "/requests.json?start_date=yesterday", 400)
    check_error(base, "/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-12-31T00:00:00Z", 400)
    check_error(base, "/requests.json", 403, {k: v for k, v in good.items() if k != "api_key"})
    check_error(base, "/requests.json", 403, {**good, "api_key": "gw_not_a_key"})
    check_error(base, "/requests.json", 400, {**good, "service_code": "no_such_service"})
    check_error(base, "/requests.json", 400, {**good, "lat": "NaN"})
    check_error(base, "/requests.json", 400, {**good, "long": "200"})
    check_error(base, "/requests.json", 400, {k: v for k, v in good.items() if k != "lat"})
    kinds += 1

    for path, text in SEEN_BODIES:
        for field, value in PERSONAL.items():
            if value in text:
                fail(f"{path}: the personal field {field} came back in an answer")
    return report(kinds)


def report(kinds):
    if FAILURES:
        print(f"{len(FAILURES)} Open311 check(s) failed", file=sys.stderr)
        return 1
    print(f"Open311: {len(SEEN_BODIES)} answers of {kinds} kinds valid against the schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
