#!/usr/bin/env python3
"""promcheck.py - a strict checker of the Prometheus text exposition
format (0.0.4), for `secretd stats --prometheus` (t_57_stats.sh).

  promcheck.py FILE      exit 0 if every line parses, else 1 with the
                         line and the reason on stderr

Checks each line against the grammar (HELP/TYPE comments, metric and
label names, label value escapes \\\\ \\" \\n only, float values), and
the rules a scraper relies on: one TYPE per family, before its samples,
the samples of a family together, no series twice, counters named
*_total, histograms with le buckets that never decrease, a +Inf bucket
equal to _count, and a _sum; the file ends with a newline.
"""
import math, re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?,?\})? (\S+)(?: (-?\d+))?$"
                    % (NAME, LNAME, LVAL, LNAME, LVAL))
LABEL = re.compile(r"(%s)=(%s)" % (LNAME, LVAL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)$")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v[1:-1])


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    errors = []
    if not text.endswith("\n"):
        errors.append("the file does not end with a newline")
    types, helps, done, seen = {}, set(), set(), set()
    current = None
    hist = {}  # (family, labels without le) -> {"le": [(le, v)], "sum": x, "count": n}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        def bad(why):
            errors.append("line %d: %s: %r" % (n, why, line))
        if line.startswith("#"):
            m = HELP.match(line)
            if m:
                if m.group(1) in helps:
                    bad("HELP twice")
                helps.add(m.group(1))
                continue
            m = TYPE.match(line)
            if m:
                fam = m.group(1)
                if fam in types:
                    bad("TYPE twice")
                if fam in done or fam == current:
                    bad("TYPE after samples")
                types[fam] = m.group(2)
                if current is not None:
                    done.add(current)
                current = fam
                continue
            if line.startswith("# HELP") or line.startswith("# TYPE"):
                bad("malformed HELP/TYPE")
            continue
        m = SAMPLE.match(line)
        if not m:
            bad("not a sample")
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if not FLOAT.match(value):
            bad("bad value")
            continue
        lab = [(k, unescape(v)) for k, v in LABEL.findall(labels)]
        if len(set(k for k, _ in lab)) != len(lab):
            bad("label twice")
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
                fam = name[:-len(suf)]
        if fam not in types:
            bad("sample of a family without TYPE")
            continue
        if fam != current:
            bad("samples of family %s not together" % fam)
        key = (name, tuple(sorted(lab)))
        if key in seen:
            bad("series twice")
        seen.add(key)
        v = float(value.replace("Inf", "inf"))
        t = types[fam]
        if t == "counter":
            if not name.endswith("_total"):
                bad("counter not named *_total")
            if v < 0 or math.isnan(v):
                bad("counter below 0")
        if t == "histogram":
            rest = tuple(sorted((k, x) for k, x in lab if k != "le"))
            h = hist.setdefault((fam, rest), {"le": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                le = dict(lab).get("le")
                if le is None or not FLOAT.match(le):
                    bad("bucket without a valid le")
                    continue
                h["le"].append((float(le.replace("Inf", "inf")), v))
            elif name == fam + "_sum":
                h["sum"] = v
            elif name == fam + "_count":
                h["count"] = v
            else:
                bad("histogram sample that is not _bucket, _sum or _count")
    for (fam, rest), h in hist.items():
        les = h["le"]
        where = "%s%s" % (fam, dict(rest))
        if [x for x, _ in les] != sorted(x for x, _ in les):
            errors.append("%s: le not in order" % where)
        if any(b[1] < a[1] for a, b in zip(les, les[1:])):
            errors.append("%s: buckets decrease" % where)
        if not les or les[-1][0] != math.inf:
            errors.append("%s: no +Inf bucket" % where)
        elif h["count"] != les[-1][1]:
            errors.append("%s: +Inf bucket %s != _count %s" % (where, les[-1][1], h["count"]))
        if h["sum"] is None:
            errors.append("%s: no _sum" % where)
    for e in errors:
        print("promcheck: " + e, file=sys.stderr)
    sys.exit(1 if errors else 0)


main()
