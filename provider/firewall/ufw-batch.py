# The ufw batch (ufw-batch.ts): ufw's own command line code (/usr/sbin/ufw: parse_command,
# UFWFrontend.do_action, ufw's lock file) looped over the changes, run by ufw-batch.sh in the
# interpreter ufw itself names, isolated (-I), so each change is exactly what `ufw <args>` does.
# argv: ufw's program file, then each change as one JSON word: ufw's arguments (an array), or
# {"args": [...], "check": [...]} where check is a command (argv, no shell) whose exit status says
# whether the change is live in the running chains. Prints one "PST-UFW-RESULT <json>" line a
# change; exits 3 when ufw's code cannot be loaded (the caller then runs each change as its own ufw
# command). Both values are UNAVAILABLE and RESULT there. After every change, still holding ufw's
# lock (and the caller's firewall lock), it runs each check ("PST-UFW-LIVE <json>" a check) and
# prints ufw's saved rules ("PST-UFW-SAVED <json>"): the caller verifies its change from them
# instead of reading both again in commands of its own. Either missing: the caller reads them itself.
import json, os, subprocess, sys
# As if run as ufw itself: ufw checks the ownership and mode of its own program file (argv[0]).
changes = sys.argv[2:]
sys.argv = sys.argv[1:2]
try:
    import gettext
    import ufw.common, ufw.frontend
    from ufw.common import UFWError
    from ufw.util import create_lock, release_lock
except Exception as e:
    sys.stderr.write("cannot load ufw's code: %s\n" % e)
    sys.exit(3)
gettext.install(ufw.common.programName)
lockfile = "/run/ufw.lock"
if os.getuid() != 0 or "TESTSTATE" in os.environ:
    lockfile = os.path.join(ufw.common.state_dir, "ufw.lock")
lock = create_lock(lockfile=lockfile, dryrun=False)
ui = None
# ufw reloads all its user rules (flush, then iptables-restore of the whole file) after every
# delete, for overlapping rules (LP: #1933117): with N rules a delete costs O(N), 50 of them 8 s.
# Its backend can skip that reload (set_rule's allow_reload, which still deletes the rule from the
# running chains with -D); the batch skips it for its deletes and reloads once at the end, so the
# chains end exactly as after the same deletes one by one. Meanwhile a deleted rule is gone from
# the running chains already, and nothing else changes: no source gets in that was not in before.
deferred = []


def defer_reloads(backend):
    set_rule = backend.set_rule
    if getattr(set_rule, "pst_deferred", False) or not hasattr(backend, "_reload_user_rules"):
        return

    def without_reload(rule, allow_reload=True):
        if rule.remove and allow_reload:
            deferred.append(backend)
            return set_rule(rule, allow_reload=False)
        return set_rule(rule, allow_reload)

    without_reload.pst_deferred = True
    backend.set_rule = without_reload


checks = []

try:
    for i, change in enumerate(changes):
        try:
            args = json.loads(change)
            if isinstance(args, dict):
                checks.append((i, args.get("check")))
                args = args["args"]
            pr = ufw.frontend.parse_command(["ufw"] + args)
            if ui is None:
                ui = ufw.frontend.UFWFrontend(pr.dryrun)
                defer_reloads(ui.backend)
            res = ui.do_action(pr.action, pr.data.get("rule", ""), pr.data.get("iptype", ""), pr.force)
            out = {"ok": True, "message": res}
        except UFWError as e:
            out = {"ok": False, "message": e.value}
        except (Exception, SystemExit) as e:
            out = {"ok": False, "message": "%s: %s" % (type(e).__name__, e)}
            ui = None
        sys.stdout.write("PST-UFW-RESULT " + json.dumps(out) + "\n")
        sys.stdout.flush()
    # Once for all the batch's deletes, before ufw's lock is let go; a failure fails the batch, and
    # every change is verified by its caller (saved and running) in any case.
    if deferred:
        deferred[-1]._reload_user_rules()
    for i, check in checks:
        if not check:
            continue
        try:
            rc = subprocess.run(check, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30).returncode
        except (OSError, subprocess.SubprocessError):
            continue
        sys.stdout.write("PST-UFW-LIVE " + json.dumps({"change": i, "exit": rc}) + "\n")
    if checks:
        try:
            saved = []
            for name in ("user.rules", "user6.rules"):
                with open(os.path.join(ufw.common.config_dir, "ufw", name), encoding="utf-8", errors="replace") as f:
                    saved.append(f.read())
            sys.stdout.write("PST-UFW-SAVED " + json.dumps("".join(saved)) + "\n")
        except OSError:
            pass
    sys.stdout.flush()
finally:
    release_lock(lock)
