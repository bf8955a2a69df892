# pulumi-shared-tunnel guard: one per tunnel host, run as root from its state directory as
# `/usr/bin/python3 -I <dir>/pst-guard.<netns>.py`, one per network namespace (guard.ts starts it with the
# first gate there and stops it with the last). It watches the gates recorded in <dir>/<rule tag>.gate and fails closed: when one no
# longer keeps other sources out, every forward paired with it (<dir>/<forward tag>.gatedby)
# is paused (<dir>/<forward tag>.paused, then SIGUSR2 to its keeper, which stops its ssh and
# waits); when the gate holds again, the pause file goes and the keeper starts ssh at once.
# It never writes a rule: `pulumi up` repairs gates. Its judgement of a listing is gate-verdicts.py,
# beside it as <base>.verdicts.py. Settings: <base>.json ("poll": true forces polling).
# Wakes: `nft monitor` lines (iptables-nft and ufw are nftables underneath), else a poll.
import json, os, re, select, signal, subprocess, sys, time

# Root's own tools only: never a directory someone else could put a program in.
os.environ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
DIR = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.abspath(__file__)[: -len(".py")]
NETNS = str(os.stat("/proc/self/ns/net").st_ino)
TAG = r"pst\.[A-Za-z0-9_.-]+"
with open(BASE + ".json") as f:
    SETTINGS = json.load(f)
STATUS = BASE + ".status"
# The verdicts live in their own file: exec'd by path, never imported (-I: no search path of ours).
verdicts = {}
with open(BASE + ".verdicts.py") as src:
    exec(compile(src.read(), BASE + ".verdicts.py", "exec"), verdicts)


def run(argv):
    """stdout of argv, or None when it failed; bounded, so a stuck tool cannot stop the guard."""
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return None


def write_atomic(path, text):
    tmp = path + ".new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def gates():
    """The gates recorded for this network namespace, by rule tag (another namespace is another host)."""
    found = {}
    for name in os.listdir(DIR):
        m = re.fullmatch("(%s)\\.gate" % TAG, name)
        lines = read_lines(os.path.join(DIR, name)) if m else None
        if lines:
            try:
                record = json.loads(lines[0])
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("netns") == NETNS:
                found[m.group(1)] = record
    return found


def pairings():
    """(forward tag, rule tag) for every pairing file in the directory."""
    out = []
    for name in os.listdir(DIR):
        m = re.fullmatch("(%s)\\.gatedby" % TAG, name)
        lines = read_lines(os.path.join(DIR, name)) if m else None
        if lines and re.fullmatch(TAG, lines[0]):
            out.append((m.group(1), lines[0]))
    return out


def keeper_of(forward):
    """The pid of the forward's running keeper: argv exactly `sh <dir>/<tag>.keeper`, run by root."""
    for line in read_lines(os.path.join(DIR, forward + ".status")) or []:
        if line.startswith("keeper_pid=") and line[11:].isdigit():
            pid = int(line[11:])
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")[:-1]
                if os.stat("/proc/%d" % pid).st_uid == 0 and argv == [b"sh", os.path.join(DIR, forward + ".keeper").encode()]:
                    return pid
            except OSError:
                pass
    return None


def pausable(forward):
    """Whether the forward's keeper knows the pause file (its settings name it): versions before the guard's do not."""
    return any(line.startswith("paused_file=") for line in read_lines(os.path.join(DIR, forward + ".keeper.env")) or [])


def signal_keeper(pid):
    try:
        os.kill(pid, signal.SIGUSR2)
    except OSError:
        pass


def apply(verdict_of):
    """Pauses the forwards whose gate fails, resumes those whose gate holds again; returns how many are paused."""
    paused = 0
    for forward, rule in pairings():
        if rule not in verdict_of:
            continue  # a gate not recorded here (an older version's): not ours to judge
        why, path = verdict_of[rule], os.path.join(DIR, forward + ".paused")
        keeper = keeper_of(forward)
        if why is not None and keeper is not None and not pausable(forward):
            # A keeper an older version started has no USR2 trap (the signal would kill it and
            # leave its ssh listening): it is stopped instead, and its ssh with it. Closed for good;
            # refresh reports the forward gone, and up makes it anew.
            os.kill(keeper, signal.SIGTERM)
            paused += 1
        elif why is not None and keeper is not None:
            if read_lines(path) != [why]:
                write_atomic(path, why + "\n")
                signal_keeper(keeper)
            paused += 1
            # A keeper that ended meanwhile (its forward deleted) leaves no pause file behind.
            if keeper_of(forward) is None and os.path.exists(path):
                os.unlink(path)
        elif why is None and os.path.exists(path):
            os.unlink(path)
            if keeper is not None:
                signal_keeper(keeper)
    return paused


checks = 0


def check(mode):
    global checks
    checks += 1
    recorded = gates()
    verdict_of = verdicts["judge"](recorded, run)
    paused = apply(verdict_of)
    lines = ["pid=%d" % os.getpid(), "mode=%s" % mode, "checks=%d" % checks, "checked=%d" % int(time.time()), "paused=%d" % paused]
    lines += ["gate %s %s" % (tag, why or "holds") for tag, why in sorted(verdict_of.items())]
    write_atomic(STATUS, "\n".join(lines) + "\n")
    return len(recorded)


def monitor():
    """A running `nft monitor`, or None where events cannot be trusted (no nft, legacy iptables, forced polling)."""
    if SETTINGS.get("poll") or "legacy" in (run(["iptables", "-V"]) or ""):
        return None
    try:
        return subprocess.Popen(["nft", "monitor"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # SIGHUP (a gate recorded, a forward paired): the wakeup fd makes select return at once.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGHUP, lambda *_: None)
    events = monitor()
    mode = "events" if events else "poll"
    # 0.3 s: with the listing's own time, a gate removed is seen within the 1 s bound.
    poll_s = float(SETTINGS.get("pollSeconds", 0.3))
    # With events, what changes a verdict wakes the guard (nft monitor; SIGHUP for a gate recorded or
    # a forward paired), so an idle host costs nothing (keeper-idle.test.ts); a re-check every 10
    # minutes is the backstop should the kernel ever drop an event.
    idle_s = float(SETTINGS.get("recheckSeconds", 600)) if events else poll_s
    try:
        while check(mode) > 0:
            # Every wake is judged at once, with the listing as it is then (not each event: iptables-nft
            # rules arrive without their comments): a ufw reload or disable opens INPUT part-way
            # through a burst of transactions, and waiting for the burst to settle would leave it open.
            watched = [wake_r] + ([events.stdout] if events else [])
            for fd in select.select(watched, [], [], idle_s)[0]:
                if os.read(fd if fd == wake_r else events.stdout.fileno(), 65536) or fd == wake_r:
                    continue
                events.kill()
                events, mode, idle_s = None, "poll (nft monitor ended)", poll_s
    finally:
        if events:
            events.kill()
    # No gate left: the guard's own files go with it (guard.ts starts a new one with the next gate).
    for path in (STATUS, BASE + ".json", BASE + ".verdicts.py", BASE + ".py"):
        try:
            os.unlink(path)
        except OSError:
            pass


main()
