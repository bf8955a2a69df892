# pulumi-shared-tunnel guard: one per tunnel host, run as root from its state directory as
# `/usr/bin/python3 -I <dir>/pst-guard.<netns>.py`, one per network namespace (guard.ts starts it with the
# first gate there and stops it with the last). It watches the gates recorded in <dir>/<rule tag>.gate and fails closed: when one no
# longer keeps other sources out, every forward paired with it (<dir>/<forward tag>.gatedby)
# is paused (<dir>/<forward tag>.paused, then SIGUSR2 to its keeper, which stops its ssh and
# waits); when the gate holds again, the pause file goes and the keeper starts ssh at once.
# It never writes a rule: `pulumi up` repairs gates. Its judgement of a listing is gate-verdicts.py,
# beside it as <base>.verdicts.py; pausing and resuming, gate-pauses.py as <base>.pauses.py.
# Settings: <base>.json ("poll": true forces polling).
# Wakes: `nft monitor` lines (iptables-nft and ufw are nftables underneath), else a poll.
import fcntl, json, os, re, select, signal, subprocess, sys, time

# A wake (SIGHUP) before main() installs its handler must not end the guard (guard.ts starts it
# with SIGHUP ignored already; this covers a start by hand).
signal.signal(signal.SIGHUP, signal.SIG_IGN)

# Root's own tools only: never a directory someone else could put a program in.
os.environ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
DIR = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.abspath(__file__)[: -len(".py")]
NETNS = str(os.stat("/proc/self/ns/net").st_ino)
TAG = r"pst\.[A-Za-z0-9_.-]+"
STATUS = BASE + ".status"
LOCK = BASE + ".lock"
# The files this guard started from, by inode: at exit it removes those, not the ones a starter
# has meanwhile written for the next guard (guard.ts writes by rename: a new file, a new inode).
STARTED_FROM = {BASE + ".py": os.stat(BASE + ".py").st_ino}
with open(BASE + ".json") as f:
    STARTED_FROM[f.name] = os.fstat(f.fileno()).st_ino
    SETTINGS = json.load(f)


def load(path, given):
    """A part of the guard in a file of its own: exec'd by path, never imported (-I: no search path of ours)."""
    with open(path) as src:
        STARTED_FROM[path] = os.fstat(src.fileno()).st_ino
        exec(compile(src.read(), path, "exec"), given)
    return given


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


verdicts = load(BASE + ".verdicts.py", {})
pauses = load(BASE + ".pauses.py", {})
pauses.update(DIR=DIR, TAG=TAG, read_lines=read_lines, write_atomic=write_atomic)
checks = 0


def check(mode):
    global checks
    checks += 1
    recorded = gates()
    verdict_of = verdicts["judge"](recorded, run)
    paused = pauses["apply"](verdict_of)
    lines = ["pid=%d" % os.getpid(), "mode=%s" % mode, "checks=%d" % checks, "checked=%d" % int(time.time()), "paused=%d" % paused]
    lines += ["gate %s %s" % (tag, why or "holds") for tag, why in sorted(verdict_of.items())]
    write_atomic(STATUS, "\n".join(lines) + "\n")
    return len(recorded)


# ufw reload and disable open INPUT to everyone right after they flush it: `iptables -F` (one
# "delete rule" per rule, ufw's own chains included), then `-P INPUT ACCEPT`. A ufw gate's shield
# (nftables, untouched by all of that) keeps it closed to others; for one without a shield (made
# by a version before it, or removed by hand), pausing its forwards at that flush, before the
# listing that the judgement reads, narrows the race; under load the listing alone lost it once
# (guard-ufw.test.ts: a breach during a reload), and the pause can still lose it. Only
# ufw's whole-ruleset changes touch ufw-before-input (a rule added or deleted changes
# ufw-user-input), so no other change pauses anything here; the check that follows resumes
# whatever still holds.
OPENING = re.compile(
    rb"^delete rule ip6? filter ufw6?-before-input |^flush chain ip6? filter (INPUT|ufw6?-before-input)\b"
    rb"|^(flush|delete) table ip6? filter\b|^add chain ip6? filter INPUT .*policy accept",
    re.M,
)


def pause_first(events):
    """Pauses the forwards behind every ufw gate without a shield when `events` flush or open INPUT; False at EOF."""
    if OPENING.search(events):
        why = "ufw's rules are being flushed or INPUT opened (ufw reload or disable, iptables -F, a policy change)"
        # A gate whose shield holds stays closed to others through all of that: its forward runs on.
        shields = verdicts["ufw_shields"](gates(), run)
        pauses["apply"]({tag: why for tag, shield in shields.items() if shield is not None})
    return len(events) > 0


def monitor():
    """A running `nft monitor`, or None where events cannot be trusted (no nft, legacy iptables, forced polling)."""
    if SETTINGS.get("poll") or "legacy" in (run(["iptables", "-V"]) or ""):
        return None
    try:
        return subprocess.Popen(["nft", "monitor"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def hold_lock(wait_s=2.0):
    """The namespace's guard lock, held for life, or None when another guard holds it.

    Why: creates run in parallel, and each that finds no guard starts one; every guard after the
    first would judge, write the same status file and outlive its gates. A guard that finds the
    lock held waits a moment (the holder may be ending: it found no gate left just as a new one
    was recorded), then leaves. The holder unlinks the lock file before it lets go, so a waiter
    that locked the old file checks it is still the one at the path."""
    deadline = time.monotonic() + wait_s
    while True:
        fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(LOCK, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                return fd
        except OSError:  # held by another guard, or unlinked by the one that just ended
            pass
        os.close(fd)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def remove_own_files():
    """Still holding the lock: the status (only the holder writes it), the files this guard started
    from, and the lock file last."""
    doomed = [STATUS] + [p for p, ino in STARTED_FROM.items() if inode(p) == ino] + [LOCK]
    for path in doomed:
        try:
            os.unlink(path)
        except OSError:
            pass


def inode(path):
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return None


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # SIGHUP (a gate recorded, a forward paired): the wakeup fd makes select return at once.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGHUP, lambda *_: None)
    if hold_lock() is None:
        return  # another guard watches this namespace; its files are not ours to remove
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
                if fd == wake_r:
                    os.read(wake_r, 65536)
                elif not pause_first(os.read(events.stdout.fileno(), 65536)):
                    events.kill()
                    events, mode, idle_s = None, "poll (nft monitor ended)", poll_s
    finally:
        # No gate left, or stopped (SIGTERM): the guard's own files go with it (guard.ts starts a
        # new one with the next gate).
        if events:
            events.kill()
        remove_own_files()


main()
