# The guard's judgement (guard.py): whether each recorded gate keeps every other source out,
# read from the backend's own live listing, once per backend and family for all gates. The
# same conditions as refresh's drift (firewall/gate-drift.ts, nft-drift.ts, iptables-rules.ts
# explainJump), plus ufw's, which refresh cannot see in ufw's saved rules. A gate record is
# one JSON line guard.ts writes: {"backend", "port", "protocol", "families": ["ip", "ip6"],
# "sources": [CIDR, ...]}. judge() returns {rule tag: None when it holds, else why, in words}.
import ipaddress, json, shlex

NFT_TABLE = ["inet", "pulumi_shared_tunnel"]
# The ufw backend's shield (firewall/nft-rules.ts UFW_SHIELD_TABLE): the same gate beside ufw's
# rule, untouched by ufw's reload and disable and by `iptables -F`.
SHIELD_TABLE = ["inet", "pulumi_shared_tunnel_ufw"]
GATE_CHAIN = "PST-GATE"
BINARY = {"ip": "iptables", "ip6": "ip6tables"}


def ours(comment):
    return isinstance(comment, str) and comment.startswith("pst.")


def nft_verdicts(records, run, table=NFT_TABLE):
    name = " ".join(table)
    text = run(["nft", "-a", "-j", "list", "table"] + table)
    if text is None:
        return {t: "the nftables table %s is gone" % name for t in records}
    items = json.loads(text).get("nftables", [])
    chain = next((i["chain"] for i in items if "chain" in i and i["chain"].get("name") == "input"), None)
    if not chain or chain.get("hook") != "input" or chain.get("type") != "filter":
        return {t: "the chain %s input is not on the input hook" % name for t in records}
    rules = [i["rule"] for i in items if "rule" in i and i["rule"].get("chain") == "input"]
    foreign = next((n for n, r in enumerate(rules) if not ours(r.get("comment"))), len(rules))
    out = {}
    for tag in records:
        drops = [n for n, r in enumerate(rules) if r.get("comment") == tag and any("drop" in e for e in r.get("expr", []))]
        if not drops:
            out[tag] = "its drop rule is gone from %s input" % name
        elif max(drops) > foreign:
            out[tag] = "a rule that is not ours (handle %s) comes before its drop" % rules[foreign].get("handle")
        else:
            out[tag] = None
    return out


def listing(family, run):
    """`iptables -S` (filter table) of the family as argv word lists, or None."""
    text = run([BINARY[family], "-w", "-S"])
    return None if text is None else [shlex.split(line) for line in text.splitlines() if line.strip()]


def iptables_verdict(record, tag, lists):
    for family in record["families"]:
        rules = lists.get(family)
        if rules is None:
            return "%s -S failed" % BINARY[family]
        inputs = [r for r in rules if r[:2] == ["-A", "INPUT"]]
        if not inputs or inputs[0] != ["-A", "INPUT", "-j", GATE_CHAIN]:
            return "INPUT does not jump to %s first (%s)" % (GATE_CHAIN, BINARY[family])
        chain = [r for r in rules if r[:2] == ["-A", GATE_CHAIN]]
        comment = lambda r: r[r.index("--comment") + 1] if "--comment" in r[:-1] else None
        drops = [n for n, r in enumerate(chain) if comment(r) == tag and r[-2:] == ["-j", "DROP"]]
        foreign = next((n for n, r in enumerate(chain) if not ours(comment(r))), len(chain))
        if not drops:
            return "its drop rule is gone from %s (%s)" % (GATE_CHAIN, BINARY[family])
        if max(drops) > foreign:
            return "a rule that is not ours comes before its drop in %s (%s)" % (GATE_CHAIN, BINARY[family])
    return None


def covers_port(rule, port, protocol):
    """Whether an iptables ACCEPT rule (argv words) may admit `port`/`protocol` from a source."""
    if "-i" in rule and rule[rule.index("-i") + 1] == "lo":
        return False
    if "-p" in rule and rule[rule.index("-p") + 1] not in (protocol, "all"):
        return False
    if "--dport" in rule:
        spec = rule[rule.index("--dport") + 1]
        low, _, high = spec.partition(":")
        return int(low) <= port <= int(high or low)
    if "--dports" in rule:
        return any(covers_port(["--dport", p], port, protocol) for p in rule[rule.index("--dports") + 1].split(","))
    return True


def ufw_verdict(record, lists, trusted):
    """ufw: closed unless ufw filters INPUT with a deny default, and no accept but ours admits the port."""
    port, protocol = record["port"], record["protocol"]
    for family in record["families"]:
        # ufw names its ip6tables chains ufw6-*.
        ufw = "ufw" if family == "ip" else "ufw6"
        rules = lists.get(family)
        if rules is None:
            return "%s -S failed" % BINARY[family]
        if ["-A", "INPUT", "-j", ufw + "-before-input"] not in rules:
            return "ufw is not active (INPUT does not jump to ufw's chains, %s)" % BINARY[family]
        if ["-P", "INPUT", "ACCEPT"] in rules:
            return "INPUT accepts by default (ufw's default incoming policy is allow, %s)" % BINARY[family]
        for r in rules:
            if r[:2] == ["-A", "INPUT"] and r[2:4] == ["-j", ufw + "-before-logging-input"]:
                break
            if r[:2] == ["-A", "INPUT"] and r[-2:] == ["-j", "ACCEPT"] and covers_port(r, port, protocol):
                return "a rule that is not ours accepts port %d before ufw's chains: %s" % (port, " ".join(r))
        for r in rules:
            if r[:2] == ["-A", ufw + "-user-input"] and r[-2:] == ["-j", "ACCEPT"] and covers_port(r, port, protocol):
                source = ipaddress.ip_network(r[r.index("-s") + 1], strict=False) if "-s" in r else None
                if source is None or not any(source.version == t.version and source.subnet_of(t) for t in trusted):
                    return "a ufw rule that is not ours accepts port %d: %s" % (port, " ".join(r))
    return None


def ufw_shields(records, run):
    """{rule tag: None when its shield holds, else why} for every ufw gate (one nft listing)."""
    ufw = {t: r for t, r in records.items() if r.get("backend") == "ufw"}
    return nft_verdicts(ufw, run, SHIELD_TABLE) if ufw else {}


def judge(records, run):
    out = {}
    nft = {t: r for t, r in records.items() if r.get("backend") == "nftables"}
    if nft:
        out.update(nft_verdicts(nft, run))
    # A ufw gate whose shield holds keeps everyone else out whatever ufw's chains say: only those
    # without one are judged by ufw's listing.
    shields = ufw_shields(records, run)
    unshielded = {t for t, why in shields.items() if why is not None}
    rest = {t: r for t, r in records.items() if r.get("backend") == "iptables" or t in unshielded}
    out.update({t: None for t, why in shields.items() if why is None})
    families = {f for r in rest.values() for f in r.get("families", [])}
    lists = {f: listing(f, run) for f in families}
    for tag, record in rest.items():
        if record["backend"] == "iptables":
            out[tag] = iptables_verdict(record, tag, lists)
        else:
            # Every ufw gate's sources on this port are ours to accept; anyone else's accept is not.
            same = [r for r in records.values() if r.get("backend") == "ufw" and r["port"] == record["port"]]
            trusted = [ipaddress.ip_network(s, strict=False) for r in same for s in r["sources"]]
            why = ufw_verdict(record, lists, trusted)
            out[tag] = why and "%s, and its nftables shield is not there to keep others out (%s)" % (why, shields[tag])
    for tag, record in records.items():
        out.setdefault(tag, "unknown backend %r" % record.get("backend"))
    return out
