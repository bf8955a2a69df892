import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter } from "node:events";
import type { ClientChannel } from "ssh2";
import { ShellSession } from "../../../provider/host/shell-session";

/**
 * A real local `sh` behind a stand-in for an ssh2 channel that hands the session its output one
 * byte per chunk unless `split` is false (so every multi-byte character arrives split), after a banner such as an rc file
 * prints when a session starts.
 */
function shellChannel(banner: string, split = true): { channel: ClientChannel; sh: ChildProcessWithoutNullStreams; stop: () => void } {
  const sh = spawn("sh", [], { stdio: ["pipe", "pipe", "pipe"] });
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (line: string) => sh.stdin.write(line),
    close: () => sh.kill("SIGKILL"),
    end: (line: string) => sh.stdin.end(line),
  });
  const byteByByte = (to: EventEmitter) => (d: Buffer) => {
    if (!split) return void to.emit("data", d);
    for (const b of d) to.emit("data", Buffer.from([b]));
  };
  sh.stdout.on("data", byteByByte(channel));
  sh.stderr.on("data", byteByByte(channel.stderr));
  sh.on("close", () => channel.emit("close"));
  // What sshd's rc handling does: the banner reaches both streams before the shell reads a command.
  setImmediate(() => {
    byteByByte(channel)(Buffer.from(banner));
    byteByByte(channel.stderr)(Buffer.from(banner));
  });
  return { channel: channel as unknown as ClientChannel, sh, stop: () => sh.kill("SIGKILL") };
}

const comment = "pst gate — café ☕ 𝄞";

test("a multi-byte character split across chunks comes back whole, and the bytes are exact", async () => {
  const { channel, stop } = shellChannel("");
  try {
    const session = new ShellSession(channel, "test@shell:22");
    const r = await session.run(["printf", "%s", comment]);
    expect(r.stdout).toBe(comment);
    expect(r.stdoutBytes).toEqual(Buffer.from(comment));
    // Not UTF-8 at all (a latin1 comment another tool wrote): the bytes still come back as they were.
    const raw = await session.run(["printf", "caf\\351"]);
    expect(raw.stdoutBytes).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  } finally {
    stop();
  }
});

test("what the session prints before a command begins is never the command's output", async () => {
  const { channel, stop } = shellChannel("welcome from ~/.ssh/rc\n");
  try {
    const session = new ShellSession(channel, "test@shell:22");
    await new Promise((r) => setTimeout(r, 20));
    expect(await session.run(["sh", "-c", "echo out; echo err >&2"])).toMatchObject({ exitCode: 0, stdout: "out\n", stderr: "err\n" });
    expect((await session.run(["echo", "next"])).stdout).toBe("next\n");
  } finally {
    stop();
  }
});

test("a banner still arriving when the first command is written is not its output either", async () => {
  const { channel, stop } = shellChannel("late banner\n");
  try {
    expect(await new ShellSession(channel, "test@shell:22").run(["printf", "%s", "only this"])).toMatchObject({
      exitCode: 0,
      stdout: "only this",
      stderr: "",
    });
  } finally {
    stop();
  }
});

/** A stand-in channel that takes commands and never answers, as a host that stopped answering would. */
function silentChannel(): { channel: ClientChannel; closed: () => boolean } {
  let closed = false;
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: () => true,
    close: () => {
      closed = true;
    },
    end: () => {
      closed = true;
    },
  });
  return { channel: channel as unknown as ClientChannel, closed: () => closed };
}

describe("a command whose end never comes", () => {
  const saved = process.env.PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT;
  beforeAll(() => {
    process.env.PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT = "0.3";
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT;
    else process.env.PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT = saved;
  });

  test("fails within the command limit, naming the command and the host, and the session is not used again", async () => {
    const { channel, closed } = silentChannel();
    const session = new ShellSession(channel, "test@silent:22");
    const started = Date.now();
    await expect(session.run(["ls", "-l", "/run"])).rejects.toThrow(
      /ls -l \/run[\s\S]*did not answer within 0.3 s|did not answer within 0.3 s[\s\S]*ls/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(session.dead).toBe(true);
    expect(closed()).toBe(true);
  });
});

describe("a command that leaves the session's stdout non-blocking (as `ssh -W` can)", () => {
  // python3 -I: no module from the test's working directory.
  const setNonBlocking = ["python3", "-I", "-c", "import fcntl, os; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)"];
  // 4 MB from the shell's own echo, which goes on after a failed write and exits 0 (as a listing loop does).
  const bigListing = ["sh", "-c", 'i=0; while [ "$i" -lt 100000 ]; do echo "entry-$i-padding-padding-padding"; i=$((i+1)); done'];
  const expected = Array.from({ length: 100000 }, (_, i) => `entry-${i}-padding-padding-padding\n`).join("");

  test("a later command's large output arrives whole while the reader is slow, or the run fails: never cut off", async () => {
    const { channel, sh, stop } = shellChannel("", false);
    try {
      const session = new ShellSession(channel, "test@shell:22");
      expect((await session.run(setNonBlocking)).exitCode).toBe(0);
      // The reader (sshd, here this process) stalls for a moment, as a busy sshd does.
      sh.stdout.pause();
      const running = session.run(bigListing);
      await new Promise((r) => setTimeout(r, 300));
      sh.stdout.resume();
      const outcome = await Promise.race([
        running.then(
          (r) => ({ ok: r }),
          (e: Error) => ({ failed: e }),
        ),
        new Promise<{ hung: true }>((r) => setTimeout(() => r({ hung: true }), 20_000)),
      ]);
      expect(outcome).not.toHaveProperty("hung");
      if ("ok" in outcome) {
        expect(outcome.ok.exitCode).toBe(0);
        expect(outcome.ok.stdout.length).toBe(expected.length);
        expect(outcome.ok.stdout).toBe(expected);
      }
      // Either way the session must still work, or have been discarded.
      if (!session.dead) expect((await session.run(["echo", "after"])).stdout).toBe("after\n");
    } finally {
      stop();
    }
  }, 30_000);
});

/**
 * A stand-in channel that answers each command line with `answer(nonce)`: [stdout, stderr] as the
 * session's shell would print them, so the reader's checks can be given what a real shell cannot.
 */
function scriptedChannel(answer: (nonce: string) => [string, string]): { channel: ClientChannel; closed: () => boolean } {
  let closed = false;
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (line: string) => {
      const nonce = /^'pst_run(?:_input)?' '(PST-[0-9a-f]+)'/.exec(line)?.[1];
      if (!nonce) return true;
      const [out, err] = answer(nonce);
      setImmediate(() => {
        channel.emit("data", Buffer.from(out));
        channel.stderr.emit("data", Buffer.from(err));
      });
      return true;
    },
    close: () => {
      closed = true;
    },
    end: () => {
      closed = true;
    },
  });
  return { channel: channel as unknown as ClientChannel, closed: () => closed };
}

test("output shorter than the host says it wrote is an error naming the command, never a result", async () => {
  // A listing cut off mid-way: 5 bytes arrived, the host wrote 9.
  const { channel, closed } = scriptedChannel((n) => [`${n}:begin\n1 sh\n2 s\n${n}:end 0 9 0 ok\n`, `${n}:begin\n\n${n}:end 0\n`]);
  const session = new ShellSession(channel, "test@short:22");
  await expect(session.run(["ps", "-e"])).rejects.toThrow(/run ps on test@short:22 failed: its output did not arrive whole \(stdout 8 of 9 bytes/);
  expect(session.dead && closed()).toBe(true);
});

test("output the host could not copy out (its copy failed) is an error, even when the counts agree", async () => {
  const { channel } = scriptedChannel((n) => [`${n}:begin\nabc\n${n}:end 0 3 1 ok\n`, `${n}:begin\n\n${n}:end 0\n`]);
  await expect(new ShellSession(channel, "test@cat:22").run(["ls"])).rejects.toThrow(/copying them out exited 1/);
});

test("a whole output from a shell whose own stdout became non-blocking is returned, and the session is dropped", async () => {
  const { channel, closed } = scriptedChannel((n) => [`${n}:begin\nabc\n${n}:end 0 3 0 nonblocking\n`, `${n}:begin\n\n${n}:end 0\n`]);
  const session = new ShellSession(channel, "test@nb:22");
  expect(await session.run(["ls"])).toMatchObject({ exitCode: 0, stdout: "abc" });
  expect(session.dead && closed()).toBe(true);
});

test("a session removes what sessions of its user killed outright left in /tmp, and nothing of a live one", async () => {
  const { mkdirSync, existsSync, rmSync } = await import("node:fs");
  // A pid no process has (above the kernel's pid_max default), and this test's own (alive).
  const dead = `/tmp/pst-session.4194999.unit${process.pid}`;
  const alive = `/tmp/pst-session.${process.pid}.unit${process.pid}`;
  mkdirSync(`${dead}/inner`, { recursive: true, mode: 0o700 });
  mkdirSync(alive, { mode: 0o700 });
  const { channel, stop } = shellChannel("", false);
  try {
    expect((await new ShellSession(channel, "test@shell:22").run(["true"])).exitCode).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(alive)).toBe(true);
  } finally {
    stop();
    rmSync(dead, { recursive: true, force: true });
    rmSync(alive, { recursive: true, force: true });
  }
});
