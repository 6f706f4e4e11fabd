#!/usr/bin/python3
# openapi_validate.py OPENAPI.json SAMPLES.jsonl -- validates recorded
# responses against docs/openapi.json with JSON Schema 2020-12 (Debian's
# python3-jsonschema).  Each sample line: {"method", "path" (the documented
# template, /users/{id}), "status", "body"}.  Prints one JSON line per
# sample: {"i", "ok", "why"}; the Perl test judges them.
import json, sys

import jsonschema
from jsonschema import Draft202012Validator

doc = json.load(open(sys.argv[1]))
resolver = jsonschema.RefResolver.from_schema(doc)
for i, line in enumerate(open(sys.argv[2])):
    s = json.loads(line)
    why = None
    op = doc.get('paths', {}).get(s['path'], {}).get(s['method'].lower())
    if op is None:
        why = 'no such operation in the document'
    else:
        resp = op.get('responses', {}).get(str(s['status']))
        if resp is None:
            why = 'status %s is not documented for this operation' % s['status']
        else:
            schema = resp.get('content', {}).get('application/json', {}).get('schema')
            if schema is None:
                why = 'no JSON schema for this response'
            else:
                errs = sorted(Draft202012Validator(schema, resolver=resolver,
                              format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(s['body']),
                              key=lambda e: list(e.path))
                if errs:
                    why = '; '.join('%s: %s' % ('/'.join(map(str, e.path)) or '(body)', e.message) for e in errs[:3])
    print(json.dumps({'i': i, 'ok': why is None, 'why': why}))
