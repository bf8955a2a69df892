# pulumi-shared-tunnel guard, its acting part (guard.py runs it; see there): pauses the forwards
# whose gate fails and resumes those whose gate holds again, through their keepers. Run as root
# from the state directory as <base>.pauses.py: exec'd by path, never imported, with DIR, TAG,
# read_lines and write_atomic given by guard.py.
import os, re, signal

DIR = TAG = read_lines = write_atomic = None  # given by guard.py before it calls apply


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
