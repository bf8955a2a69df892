# The ufw batch (ufw-batch.ts): ufw's own command line code (/usr/sbin/ufw: parse_command,
# UFWFrontend.do_action, ufw's lock file) looped over the changes, run by ufw-batch.sh in the
# interpreter ufw itself names, isolated (-I), so each change is exactly what `ufw <args>` does.
# argv: ufw's program file, then each change as one JSON array of ufw's arguments. Prints one
# "PST-UFW-RESULT <json>" line a change; exits 3 when ufw's code cannot be loaded (the caller
# then runs each change as its own ufw command). Both values are UNAVAILABLE and RESULT there.
import json, os, sys
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
try:
    for change in changes:
        try:
            pr = ufw.frontend.parse_command(["ufw"] + json.loads(change))
            if ui is None:
                ui = ufw.frontend.UFWFrontend(pr.dryrun)
            res = ui.do_action(pr.action, pr.data.get("rule", ""), pr.data.get("iptype", ""), pr.force)
            out = {"ok": True, "message": res}
        except UFWError as e:
            out = {"ok": False, "message": e.value}
        except (Exception, SystemExit) as e:
            out = {"ok": False, "message": "%s: %s" % (type(e).__name__, e)}
            ui = None
        sys.stdout.write("PST-UFW-RESULT " + json.dumps(out) + "\n")
        sys.stdout.flush()
finally:
    release_lock(lock)
