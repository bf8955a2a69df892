import { parseTag } from "../../../provider/tag";
import { parseTaggedForwards } from "../../../provider/tunnel/reap-orphans";

test("parseTaggedForwards: only ssh with -E <state dir>/<tag>.log", () => {
  const listed = [
    {
      pid: 100,
      argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.p.s.r.1795617874.log", "-F", "none", "-L", "1.2.3.4:80:x:80", "--", "gw"],
    },
    { pid: 101, argv: ["ssh", "-f", "-N", "-L", "127.0.0.1:8199:x:80", "user@gw"] },
    { pid: 102, argv: ["ssh", "-E", "/home/me/pst.p.s.r.1795617874.log", "gw"] },
    { pid: 103, argv: ["ssh", "-o", "ProxyCommand=pst.p.s.r.1795617874", "gw"] },
    { pid: 104, argv: ["ssh", "-E", "/tmp/pulumi-shared-tunnel/pst.p.s.r.1795617874.log x"] },
    { pid: 105, argv: ["ssh", "-f", "-N", "-E", "/run/pulumi-shared-tunnel/pst.p.s.r.1795617875.log", "--", "gw"] },
  ];
  expect(parseTaggedForwards(listed, ["/run/pulumi-shared-tunnel", "/tmp/pulumi-shared-tunnel"])).toEqual([
    { pid: 100, dir: "/tmp/pulumi-shared-tunnel", tag: "pst.p.s.r.1795617874" },
    { pid: 105, dir: "/run/pulumi-shared-tunnel", tag: "pst.p.s.r.1795617875" },
  ]);
});

test("parseTaggedForwards: tags with and without an identity, both found by reap", () => {
  const listed = [
    { pid: 100, argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.p.s.r.0123456789ab.1795617874.log", "-F", "none", "--", "gw"] },
    { pid: 101, argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.p.s.r.1795617874.log", "-F", "none", "--", "gw"] },
  ];
  const found = parseTaggedForwards(listed, ["/tmp/pulumi-shared-tunnel"]);
  expect(found.map((f) => f.pid)).toEqual([100, 101]);
  expect(found.map((f) => parseTag(f.tag)?.identity)).toEqual(["0123456789ab", undefined]);
});
