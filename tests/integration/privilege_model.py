#!/usr/bin/env python3
"""privilege_model.py - a model-based test of who holds what (issue 21).

  privilege_model.py SOCKET ADMIN_PUB KEYDIR [ACTIONS]

Talks to secretd's Unix socket directly (as secret-shell does: `hello`
with a public key; the daemon trusts its socket peers for that).  Makes
principals (each with its own keys), groups, global and node grants over
a small tree, then runs ACTIONS (default 2000) random administrative
actions, each by a random caller: group.*, principal.* (with key_add and
key_remove), acl.set on nodes and global, enrol.token_create and enrol
(with and without allow_rekey).  A model kept here predicts each answer
(ok or the error code) and the permissions everyone then holds.  After
every action it checks, from the daemon's own answers:

  - each key's whoami (principal, global permissions; only the bound
    keys after actions that cannot bind one) and, from acl.who
    at every node of the tree, each principal's node permissions there,
    agree with the model;
  - the monotone rule: no key and no principal name gained a permission
    (global, or at a node) that the caller held not before the action
    (for enrol, the caller is the token's creator);

and every 50 actions, with real reads: each key gets every leaf's value
exactly where the model says it may read.

The seed is printed; PRIVMODEL_SEED replays a run.  Exits 0 when all
held, 1 with the seed, the last actions and the difference otherwise.
PRIVMODEL_FOLLOW=1 takes the daemon's word for an unexpected answer and
lets the checks judge its effect (to see what a wrong answer leads to).
"""
import fnmatch
import json
import os
import random
import socket
import subprocess
import sys
import time

DISCOVER, READ, WRITE, MANAGE = 1, 2, 4, 8
NODE_NAMES = ["discover", "read", "write", "manage"]
GM, PM, ENROL, AUDIT = 1, 2, 4, 8
GLOBAL_NAMES = ["group_manage", "principal_manage", "enrol", "audit"]


def names(bits, table):
    return [table[k] for k in range(4) if bits & (1 << k)]


def bits_of(lst, table):
    b = 0
    for n in lst:
        b |= 1 << table.index(n)
    return b


class Fail(Exception):
    pass


class Conn:
    """One session: hello with a public key, then request/response."""

    def __init__(self, path, pub, addr):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        r = self.call({"action": "hello", "key": pub,
                       "client": "%s 40000 127.0.0.1 22" % addr})
        if not r.get("ok"):
            raise Fail("hello refused: %r" % r)

    def call(self, req):
        self.s.sendall(json.dumps(req).encode() + b"\n")
        line = self.f.readline()
        if not line:
            raise Fail("connection closed on %r" % req)
        return json.loads(line)

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


class Model:
    def __init__(self, rnd, tag, paths):
        self.rnd = rnd
        self.tag = tag
        self.paths = paths
        self.inc = 0
        # name -> {"inc", "global", "node": {path: bits}}
        self.groups = {"admins": {"inc": 0, "global": 15,
                                  "node": {(): 15}}}
        # name -> set of group names
        self.members = {"admin": {"admins"}}
        self.owner = {}          # key id -> principal name
        self.tokens = {}         # token id -> dict

    def new_inc(self):
        self.inc += 1
        return self.inc

    def gperm(self, p):
        b = 0
        for g in self.members.get(p, ()):
            b |= self.groups[g]["global"]
        return b

    def nperm(self, p, path):
        b = 0
        for g in self.members.get(p, ()):
            node = self.groups[g]["node"]
            for d in range(len(path) + 1):
                b |= node.get(path[:d], 0)
        return b

    def group_lacks(self, c, group_names):
        """Does principal c lack anything the groups hold?"""
        cg = self.gperm(c)
        for gn in group_names:
            g = self.groups[gn]
            if g["global"] & ~cg:
                return True
            for path, b in g["node"].items():
                if b & ~self.nperm(c, path):
                    return True
        return False

    def snapshot(self, keys):
        """Per key and per principal: global bits, node bits per path."""
        by_key = {}
        for k in keys:
            p = self.owner.get(k)
            by_key[k] = self.perms_of(p)
        by_name = {p: self.perms_of(p) for p in self.members}
        return by_key, by_name

    def perms_of(self, p):
        if p is None or p not in self.members:
            return (0, {path: 0 for path in self.paths})
        return (self.gperm(p), {path: self.nperm(p, path)
                                for path in self.paths})


class Run:
    def __init__(self, sock, admin_pub, keydir, n_actions, seed):
        self.sock = sock
        self.n_actions = n_actions
        self.seed = seed
        self.rnd = random.Random(seed)
        # names of this run: not from the seed, so that a replay on the
        # same environment does not meet the names of the first run
        self.tag = "m%04x" % random.SystemRandom().randrange(1 << 16)
        self.top = self.tag
        rel = [(), ("a",), ("b",), ("a", "x"), ("a", "y"), ("b", "z")]
        self.paths = [(self.top,) + p for p in rel]
        self.leaves = [(self.top,) + p for p in rel if len(p) == 2]
        self.m = Model(self.rnd, self.tag, self.paths)
        self.admin_pub = admin_pub
        self.pubs = {}
        self.keys = []
        for i in range(10):
            f = os.path.join(keydir, "%s-k%d" % (self.tag, i))
            if not os.path.exists(f + ".pub"):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                                "-C", "k%d" % i, "-f", f], check=True,
                               stdin=subprocess.DEVNULL)
            pub = open(f + ".pub").read().split()
            self.pubs[i] = pub[0] + " " + pub[1]
            self.keys.append(i)
        self.conns = {}
        self.admin = Conn(sock, admin_pub, "192.0.2.1")
        self.addr_no = 0
        self.log = []
        self.n_requests = 0
        self.outcomes = {}
        # PRIVMODEL_FOLLOW=1: an unexpected answer is not fatal at once;
        # the model takes the daemon's word for it, so that the
        # agreement and monotone checks show what it led to
        self.follow = os.environ.get("PRIVMODEL_FOLLOW") == "1"
        self.mismatches = 0
        self.pnames = ["%sp%d" % (self.tag, i) for i in range(7)]
        self.gnames = ["%sg%d" % (self.tag, i) for i in range(6)]

    # ------------------------------------------------------------ plumbing
    def fresh_addr(self):
        self.addr_no += 1
        n = self.addr_no
        return "10.%d.%d.%d" % (200 + (n >> 16) % 50, (n >> 8) & 255, n & 255)

    def conn(self, k):
        if k == "admin":
            return self.admin
        c = self.conns.get(k)
        if c is None:
            c = self.conns[k] = Conn(self.sock, self.pubs[k], "192.0.2.2")
        return c

    def drop_conns(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}

    def call(self, k, req):
        self.n_requests += 1
        return self.conn(k).call(req)

    def admin_call(self, req):
        r = self.call("admin", req)
        if not r.get("ok"):
            raise Fail("admin request %r failed: %r" % (req, r))
        return r

    # ------------------------------------------------------------- setup
    def setup(self):
        rnd, m = self.rnd, self.m
        for leaf in self.leaves:
            self.admin_call({"action": "secret.put", "path": list(leaf),
                             "value": "v-" + "/".join(leaf)})
        for g in self.gnames[:4]:
            self.admin_call({"action": "group.create", "group": g})
            m.groups[g] = {"inc": m.new_inc(), "global": 0, "node": {}}
            gb = rnd.choice([0, GM, PM, ENROL, GM | PM, GM | ENROL,
                             PM | ENROL, AUDIT | ENROL, GM | PM | ENROL])
            if gb:
                self.admin_call({"action": "acl.set", "global": True,
                                 "group": g,
                                 "permissions": names(gb, GLOBAL_NAMES)})
                m.groups[g]["global"] = gb
            for _ in range(rnd.randrange(1, 4)):
                path = rnd.choice(self.paths)
                nb = rnd.randrange(1, 16)
                self.admin_call({"action": "acl.set", "path": list(path),
                                 "group": g,
                                 "permissions": names(nb, NODE_NAMES)})
                m.groups[g]["node"][path] = nb
        for i, p in enumerate(self.pnames[:5]):
            k = self.keys[i]
            gs = rnd.sample(self.gnames[:4], rnd.randrange(1, 3))
            self.admin_call({"action": "principal.create", "principal": p,
                             "key": self.pubs[k], "groups": gs})
            m.members[p] = set(gs)
            m.owner[k] = p

    # ----------------------------------------------------------- checks
    def observe(self, all_keys=True):
        """What the daemon says: per key (global, node) and per name.
        Without all_keys, only the keys the model says are bound are
        asked: only principal.* and enrol bind a key."""
        # acl.who at a leaf names the grant (its path) behind each
        # permission, on the leaf and every node above it: what a
        # principal holds at a node is what the grants at or above it give
        who = {}
        for leaf in self.leaves:
            r = self.admin_call({"action": "acl.who", "path": list(leaf)})
            for w in r["who"]:
                p, at = w["principal"], tuple(w["path"])
                bit = 1 << NODE_NAMES.index(w["permission"])
                for path in self.paths:
                    if path[:len(at)] == at and leaf[:len(path)] == path:
                        who.setdefault(p, {}).setdefault(path, 0)
                        who[p][path] |= bit
        by_key = {}
        glob = {}
        for k in self.keys:
            if not all_keys and k not in self.m.owner:
                by_key[k] = (0, {path: 0 for path in self.paths})
                continue
            r = self.call(k, {"action": "whoami"})
            if not r.get("ok"):
                raise Fail("whoami of key %d: %r" % (k, r))
            p = r["principal"]
            g = bits_of(r["global"], GLOBAL_NAMES)
            expect = self.m.owner.get(k)
            if p != expect:
                raise Fail("key %d is %r, the model says %r" % (k, p, expect))
            if p is not None:
                glob[p] = g
            by_key[k] = (g, {path: who.get(p, {}).get(path, 0)
                             for path in self.paths})
        return by_key, who, glob

    def check(self, all_keys=True):
        m = self.m
        by_key, who, glob = self.observe(all_keys)
        exp_key, exp_name = m.snapshot(self.keys)
        for k in self.keys:
            if by_key[k] != exp_key[k]:
                raise Fail("key %d (%s): daemon %s, model %s" % (
                    k, m.owner.get(k), self.fmt(by_key[k]),
                    self.fmt(exp_key[k])))
        ours = set(self.pnames) | {"admin"}
        for p in ours:
            got = {path: who.get(p, {}).get(path, 0) for path in self.paths}
            want = exp_name.get(p, (0, {path: 0 for path in self.paths}))[1]
            if got != want:
                raise Fail("principal %s node permissions: daemon %s, "
                           "model %s" % (p, got, want))
            if p in glob and glob[p] != m.gperm(p):
                raise Fail("principal %s global: daemon %d, model %d" % (
                    p, glob[p], m.gperm(p)))
        return by_key

    def fmt(self, perms):
        g, n = perms
        return "global=%s %s" % (names(g, GLOBAL_NAMES), {
            "/".join(p): names(b, NODE_NAMES) for p, b in n.items() if b})

    def probe_reads(self):
        for k in self.keys:
            p = self.m.owner.get(k)
            if p is None:
                continue
            for leaf in self.leaves:
                r = self.call(k, {"action": "secret.get", "path": list(leaf)})
                may = bool(self.m.nperm(p, leaf) & READ)
                got = r.get("ok") is True
                if got != may or (not got and r["error"]["code"] !=
                                  "permission_denied"):
                    raise Fail("key %d (%s) get %s: %r, model says %s" % (
                        k, p, "/".join(leaf), r, "read" if may else
                        "permission_denied"))
                if got and r["value"] != "v-" + "/".join(leaf):
                    raise Fail("wrong value %r" % r)

    def monotone(self, before_key, before_name, after_key, caller):
        """No key or principal name gained what the caller lacked."""
        cg, cn = caller
        for k in self.keys:
            (g0, n0), (g1, n1) = before_key[k], after_key[k]
            if (g1 & ~g0) & ~cg:
                raise Fail("monotone: key %d gained global %s the caller "
                           "lacked" % (k, names(g1 & ~g0 & ~cg,
                                                GLOBAL_NAMES)))
            for path in self.paths:
                gained = n1[path] & ~n0[path] & ~cn[path]
                if gained:
                    raise Fail("monotone: key %d gained %s at %s the "
                               "caller lacked" % (k, names(gained, NODE_NAMES),
                                                  "/".join(path)))
        _, after_name = self.m.snapshot([])
        for p, (g1, n1) in after_name.items():
            g0, n0 = before_name.get(p, (0, {q: 0 for q in self.paths}))
            if (g1 & ~g0) & ~cg:
                raise Fail("monotone: %s gained global the caller lacked" % p)
            for path in self.paths:
                if n1[path] & ~n0[path] & ~cn[path]:
                    raise Fail("monotone: %s gained at %s what the caller "
                               "lacked" % (p, "/".join(path)))

    # ---------------------------------------------------------- actions
    def pick_caller(self):
        bound = [k for k in self.keys if k in self.m.owner]
        if not bound or self.rnd.random() < 0.1:
            return "admin", "admin"
        k = self.rnd.choice(bound)
        return k, self.m.owner[k]

    def any_group(self):
        return self.rnd.choice(self.gnames + ["admins"])

    def any_principal(self):
        return self.rnd.choice(self.pnames + ["admin"])

    def act(self, i):
        rnd, m = self.rnd, self.m
        kind = rnd.choice([
            "group.create", "group.delete", "group.member_add",
            "group.member_add", "group.member_remove", "principal.create",
            "principal.create", "principal.delete", "principal.key_add",
            "principal.key_add", "principal.key_remove", "acl.set",
            "acl.set", "acl.set", "acl.set_global", "acl.set_global",
            "enrol.token_create", "enrol.token_create", "enrol", "enrol",
            "enrol", "enrol.token_revoke"])
        if kind == "enrol":
            return self.do_enrol()
        ck, c = self.pick_caller()
        cg = m.gperm(c)
        caller = (cg, {p: m.nperm(c, p) for p in self.paths})
        req, expect, apply = getattr(self, "a_" + kind.replace(".", "_"))(c, cg)
        if req is None:
            return None
        return ck, c, caller, req, expect, apply

    def need(self, cg, bit):
        return None if cg & bit else "permission_denied"

    def a_group_create(self, c, cg):
        g = self.rnd.choice(self.gnames)
        m = self.m

        def apply():
            m.groups[g] = {"inc": m.new_inc(), "global": 0, "node": {}}
        e = self.need(cg, GM) or ("exists" if g in m.groups else None)
        return {"action": "group.create", "group": g}, e, apply

    def a_group_delete(self, c, cg):
        g = self.rnd.choice(self.gnames)
        m = self.m

        def apply():
            del m.groups[g]
            for s in m.members.values():
                s.discard(g)
        e = self.need(cg, GM) or (None if g in m.groups else "not_found")
        return {"action": "group.delete", "group": g}, e, apply

    def a_group_member_add(self, c, cg):
        g, p = self.any_group(), self.any_principal()
        m = self.m
        e = (self.need(cg, GM) or
             ("not_found" if g not in m.groups else None) or
             ("permission_denied" if m.group_lacks(c, [g]) else None) or
             ("not_found" if p not in m.members else None) or
             ("exists" if g in m.members[p] else None))

        def apply():
            m.members[p].add(g)
        return ({"action": "group.member_add", "group": g, "member": p}, e,
                apply)

    def a_group_member_remove(self, c, cg):
        g, p = self.rnd.choice(self.gnames), self.rnd.choice(self.pnames)
        m = self.m
        e = (self.need(cg, GM) or
             ("not_found" if g not in m.groups or p not in m.members or
              g not in m.members[p] else None))

        def apply():
            m.members[p].discard(g)
        return ({"action": "group.member_remove", "group": g, "member": p},
                e, apply)

    def a_principal_create(self, c, cg):
        rnd, m = self.rnd, self.m
        p = rnd.choice(self.pnames)
        k = rnd.choice(self.keys)
        gs = rnd.sample(self.gnames + ["admins"], rnd.randrange(0, 3))
        e = self.need(cg, PM)
        if e is None and gs:
            have = [g for g in gs if g in m.groups]
            e = (self.need(cg, GM) or
                 ("permission_denied" if m.group_lacks(c, have) else None) or
                 ("not_found" if len(have) < len(gs) else None))
        if e is None:
            e = "exists" if p in m.members or k in m.owner else None

        def apply():
            m.members[p] = set(gs)
            m.owner[k] = p
        req = {"action": "principal.create", "principal": p,
               "key": self.pubs[k]}
        if gs or rnd.random() < 0.3:
            req["groups"] = gs
        return req, e, apply

    def a_principal_delete(self, c, cg):
        p = self.rnd.choice(self.pnames)
        m = self.m

        def apply():
            del m.members[p]
            for k in [k for k, o in m.owner.items() if o == p]:
                del m.owner[k]
        e = self.need(cg, PM) or (None if p in m.members else "not_found")
        return {"action": "principal.delete", "principal": p}, e, apply

    def a_principal_key_add(self, c, cg):
        p, k = self.any_principal(), self.rnd.choice(self.keys)
        m = self.m
        e = (self.need(cg, PM) or
             ("not_found" if p not in m.members else None) or
             ("permission_denied" if m.group_lacks(c, m.members[p])
              else None) or
             ("exists" if k in m.owner else None))

        def apply():
            m.owner[k] = p
        return ({"action": "principal.key_add", "principal": p,
                 "key": self.pubs[k]}, e, apply)

    def a_principal_key_remove(self, c, cg):
        p, k = self.rnd.choice(self.pnames), self.rnd.choice(self.keys)
        m = self.m
        e = (self.need(cg, PM) or
             ("not_found" if p not in m.members or m.owner.get(k) != p
              else None))

        def apply():
            del m.owner[k]
        return ({"action": "principal.key_remove", "principal": p,
                 "key": self.pubs[k]}, e, apply)

    def a_acl_set(self, c, cg):
        rnd, m = self.rnd, self.m
        g = rnd.choice(self.gnames)
        path = rnd.choice(self.paths)
        want = rnd.choice([0, rnd.randrange(1, 16), rnd.randrange(1, 16)])
        held = m.nperm(c, path)
        old = m.groups[g]["node"].get(path, 0) if g in m.groups else 0
        e = (("permission_denied" if not held & MANAGE else None) or
             ("permission_denied" if (want & ~old) & ~held else None) or
             ("not_found" if g not in m.groups else None))

        def apply():
            if want:
                m.groups[g]["node"][path] = want
            else:
                m.groups[g]["node"].pop(path, None)
        return ({"action": "acl.set", "path": list(path), "group": g,
                 "permissions": names(want, NODE_NAMES)}, e, apply)

    def a_acl_set_global(self, c, cg):
        rnd, m = self.rnd, self.m
        g = rnd.choice(self.gnames)
        want = rnd.choice([0, rnd.randrange(1, 16), cg])
        old = m.groups[g]["global"] if g in m.groups else 0
        e = (("permission_denied" if cg == 0 else None) or
             ("permission_denied" if (old ^ want) & ~cg else None) or
             ("not_found" if g not in m.groups else None))

        def apply():
            m.groups[g]["global"] = want
        return ({"action": "acl.set", "global": True, "group": g,
                 "permissions": names(want, GLOBAL_NAMES)}, e, apply)

    def a_enrol_token_create(self, c, cg):
        rnd, m = self.rnd, self.m
        gs = rnd.sample(self.gnames + ["admins"], rnd.randrange(0, 3))
        rekey = rnd.random() < 0.5
        pattern = rnd.choice(["*", self.tag + "p*", "adm*",
                              rnd.choice(self.pnames)])
        uses = rnd.randrange(1, 4)
        have = [g for g in gs if g in m.groups]
        e = (self.need(cg, ENROL) or
             ("bad_request" if rekey and pattern == "*" else None) or
             ("permission_denied" if m.group_lacks(c, have) else None) or
             ("not_found" if len(have) < len(gs) else None))
        tok = {"creator": c, "incs": {m.groups[g]["inc"] for g in have},
               "pattern": pattern, "rekey": rekey, "uses": uses,
               "revoked": False}

        def apply(resp):
            tok["token"] = resp["token"]
            m.tokens[resp["token_id"]] = tok
        req = {"action": "enrol.token_create", "ttl": 3600, "groups": gs,
               "uses": uses, "allow_rekey": rekey}
        if pattern != "*" or rnd.random() < 0.5:
            req["name_pattern"] = pattern
        return req, e, apply

    def a_enrol_token_revoke(self, c, cg):
        m = self.m
        if not m.tokens:
            return None, None, None
        tid = self.rnd.choice(sorted(m.tokens))

        def apply():
            m.tokens[tid]["revoked"] = True
        return ({"action": "enrol.token_revoke", "token_id": tid},
                self.need(cg, ENROL), apply)

    def do_enrol(self):
        """enrol: an unbound key spends a token; caller = its creator."""
        rnd, m = self.rnd, self.m
        free = [k for k in self.keys if k not in m.owner]
        live = [t for t in sorted(m.tokens) if "token" in m.tokens[t]]
        if not free or not live:
            return None
        k = rnd.choice(free)
        tid = rnd.choice(live)
        tok = m.tokens[tid]
        name = rnd.choice(self.pnames + ["admin"])
        c = tok["creator"]
        caller = (m.gperm(c), {p: m.nperm(c, p) for p in self.paths})
        groups = [g for g, v in m.groups.items() if v["inc"] in tok["incs"]]
        e = None
        if tok["revoked"] or tok["uses"] == 0 or \
                not fnmatch.fnmatchcase(name, tok["pattern"]):
            e = "permission_denied"
        elif c not in m.members or m.group_lacks(c, groups):
            e = "permission_denied"
        elif name in m.members:
            if not tok["rekey"]:
                e = "exists"
            elif m.gperm(name) or not m.members[name] <= set(groups):
                e = "permission_denied"

        def apply():
            tok["uses"] -= 1
            if name in m.members:
                for kk in [kk for kk, o in m.owner.items() if o == name]:
                    del m.owner[kk]
                m.members[name] |= set(groups)
            else:
                m.members[name] = set(groups)
            m.owner[k] = name
        req = {"action": "enrol", "token": tok["token"], "principal": name}
        # a connection of its own, from an address of its own: failed
        # attempts are rate limited per address
        conn = Conn(self.sock, self.pubs[k], self.fresh_addr())
        return ("enrol", conn, k), c, caller, req, e, apply

    # -------------------------------------------------------------- run
    def run(self):
        t0 = time.time()
        self.setup()
        self.check()
        done = 0
        i = 0
        while done < self.n_actions:
            i += 1
            step = self.act(i)
            if step is None:
                continue
            ck, c, caller, req, expect, apply = step
            before_key, before_name = self.m.snapshot(self.keys)
            if isinstance(ck, tuple):
                conn = ck[1]
                self.n_requests += 1
                resp = conn.call(req)
                conn.close()
                who = "key %d (enrol-only; token of %s)" % (ck[2], c)
            else:
                resp = self.call(ck, req)
                who = c
            shown = dict(req)
            if "token" in shown:
                shown["token"] = "se1_..."
            if "key" in shown:
                shown["key"] = "key %d" % next(
                    k for k in self.keys if self.pubs[k] == req["key"])
            self.log.append("%d. %s: %s -> %s" % (
                done + 1, who, json.dumps(shown),
                "ok" if resp.get("ok") else resp["error"]["code"] + ": " +
                resp["error"]["message"]))
            got = None if resp.get("ok") else resp["error"]["code"]
            self.outcomes[(req["action"], got or "ok")] = \
                self.outcomes.get((req["action"], got or "ok"), 0) + 1
            if got != expect:
                msg = "answer %s, the model expected %s" % (
                    got or "ok", expect or "ok")
                if not self.follow:
                    raise Fail(msg)
                # follow the daemon: let the checks below judge it
                self.mismatches += 1
                self.log[-1] += "   [" + msg + "]"
            if got is None:
                if req["action"] == "enrol.token_create":
                    apply(resp)
                else:
                    apply()
            binds = req["action"].startswith("principal.") or \
                req["action"] == "enrol"
            if binds:
                self.drop_conns()
            after_key = self.check(binds)
            self.monotone(before_key, before_name, after_key, caller)
            done += 1
            if done % 50 == 0:
                self.probe_reads()
        self.probe_reads()
        if self.mismatches:
            raise Fail("%d answers differ from the model's" %
                       self.mismatches)
        dt = time.time() - t0
        print("%d actions, %d requests in %.1f s; outcomes:" % (
            done, self.n_requests, dt))
        for (a, o), n in sorted(self.outcomes.items()):
            print("  %-22s %-18s %d" % (a, o, n))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: privilege_model.py SOCKET ADMIN_PUB KEYDIR [N]")
    sock, admin_pub_file, keydir = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    seed = int(os.environ.get("PRIVMODEL_SEED") or
               random.SystemRandom().randrange(1 << 32))
    print("seed %d (replay: PRIVMODEL_SEED=%d)" % (seed, seed), flush=True)
    pub = open(admin_pub_file).read().split()
    run = Run(sock, pub[0] + " " + pub[1], keydir, n, seed)
    try:
        run.run()
    except Fail as e:
        print("FAILED (seed %d): %s" % (seed, e))
        print("last actions:")
        for line in run.log[-15:]:
            print("  " + line)
        sys.exit(1)
    print("all held (seed %d)" % seed)


main()
