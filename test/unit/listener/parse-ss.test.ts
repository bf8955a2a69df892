import { parseSsListeners } from "../../../provider/listener/parse-ss";

const output = [
  'LISTEN 0      128      198.51.100.40:8080      0.0.0.0:*    users:(("ssh",pid=4242,fd=5))',
  'LISTEN 0      128   [2001:db8:100::40]:8080         [::]:*    users:(("ssh",pid=4243,fd=6),("ssh",pid=4244,fd=6))',
  'LISTEN 0      4096     127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=1,fd=12))',
  'LISTEN 0      511            *:80                 *:*    users:(("nginx",pid=812,fd=6))',
  "LISTEN 0      128      0.0.0.0:22        0.0.0.0:*",
  "garbage line",
].join("\n");

test("reads address, port and owning processes", () => {
  expect(parseSsListeners(output)).toEqual([
    { address: "198.51.100.40", port: 8080, processes: [{ name: "ssh", pid: 4242, fd: 5 }] },
    {
      address: "2001:db8:100::40",
      port: 8080,
      processes: [
        { name: "ssh", pid: 4243, fd: 6 },
        { name: "ssh", pid: 4244, fd: 6 },
      ],
    },
    { address: "127.0.0.53", port: 53, processes: [{ name: "systemd-resolve", pid: 1, fd: 12 }] },
    { address: "*", port: 80, processes: [{ name: "nginx", pid: 812, fd: 6 }] },
    { address: "0.0.0.0", port: 22, processes: [] },
  ]);
});

test("a process name with quotes and commas is not split", () => {
  const [l] = parseSsListeners('LISTEN 0 1 10.0.0.1:9 0.0.0.0:* users:(("we\\"ird,(x)",pid=7,fd=3))');
  expect(l.processes).toEqual([{ name: 'we\\"ird,(x)', pid: 7, fd: 3 }]);
});
