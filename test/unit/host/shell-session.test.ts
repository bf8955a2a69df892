import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import type { ClientChannel } from "ssh2";
import { ShellSession } from "../../../provider/host/shell-session";

/**
 * A real local `sh` behind a stand-in for an ssh2 channel that hands the session its output one
 * byte per chunk (so every multi-byte character arrives split), after a banner such as an rc file
 * prints when a session starts.
 */
function shellChannel(banner: string): { channel: ClientChannel; stop: () => void } {
  const sh = spawn("sh", [], { stdio: ["pipe", "pipe", "pipe"] });
  const channel = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (line: string) => sh.stdin.write(line),
    close: () => sh.kill("SIGKILL"),
    end: (line: string) => sh.stdin.end(line),
  });
  const byteByByte = (to: EventEmitter) => (d: Buffer) => {
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
  return { channel: channel as unknown as ClientChannel, stop: () => sh.kill("SIGKILL") };
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
