#!/usr/bin/env python3
"""Compare a probe run (--json) with the reference transcript.json, ignoring token strings and
the exp/iat/jti claims. Usage: compare.py transcript.json part1.json part2.json"""
import json, re, sys

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
HEADERS = ("Content-Type", "WWW-Authenticate", "Allow", "Vary", "Location")

def norm_payload(p):
    d = json.loads(p)
    for k in ("exp", "iat", "jti"):
        if k in d:
            d[k] = "<%s>" % k
    return d

def norm(resp):
    h = {k: v for k, v in resp.get("headers", {}).items() if k in HEADERS}
    dec = {k: {"header": v["header"], "payload": norm_payload(v["payload"])}
           for k, v in (resp.get("decoded_tokens") or {}).items()}
    return {"status": resp["status"], "headers": h, "body": JWT.sub("<jwt>", resp["body"]), "decoded": dec}

ref = json.load(open(sys.argv[1]))
parts = [("T", ref["part1_default_settings"], json.load(open(sys.argv[2]))),
         ("R", ref["part2_rotate_and_blacklist_after_rotation"], json.load(open(sys.argv[3])))]
def superset_only(nw, ng):
    """Equal except for the documented header supersets: Allow lists DELETE, and
    WWW-Authenticate adds RFC 6750 error attributes after simplejwt's value."""
    if any(nw[k] != ng[k] for k in ("status", "body", "decoded")):
        return False
    for hk in set(nw["headers"]) | set(ng["headers"]):
        w, g = nw["headers"].get(hk), ng["headers"].get(hk)
        if w == g:
            continue
        if hk == "Allow" and w == "GET, POST, HEAD, OPTIONS" and g == "GET, POST, DELETE, HEAD, OPTIONS":
            continue
        if hk == "WWW-Authenticate" and w and g and g.startswith(w + ", error="):
            continue
        return False
    return True

total = same = superset = 0
for tag, want_list, got_list in parts:
    for w, g in zip(want_list, got_list):
        total += 1
        nw, ng = norm(w["response"]), norm(g["response"])
        if nw == ng:
            same += 1
            continue
        if superset_only(nw, ng):
            superset += 1
        diffs = [k for k in nw if nw[k] != ng[k]]
        print(f"{tag}#{w['n']:02d} {w['title']}: differs in {', '.join(diffs)}")
        for k in diffs:
            if k == "headers":
                for hk in sorted(set(nw[k]) | set(ng[k])):
                    if nw[k].get(hk) != ng[k].get(hk):
                        print(f"    {hk}: django={nw[k].get(hk)!r} ours={ng[k].get(hk)!r}")
            else:
                print(f"    django={nw[k]!r}\n    ours  ={ng[k]!r}")
    if len(want_list) != len(got_list):
        print(f"{tag}: {len(want_list)} reference exchanges, {len(got_list)} probed")
print(f"\n{same} of {total} exchanges identical after ignoring token strings, exp, iat and jti")
print(f"{same + superset} of {total} identical but for the documented header supersets "
      f"(Allow lists DELETE; RFC 6750 error attributes in WWW-Authenticate)")
