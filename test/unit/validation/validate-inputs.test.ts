import { validateFirewallInputs, validateTunnelInputs } from "../../../provider/validation/validate-inputs";
import { UNKNOWN } from "../../../provider/validation/fields";
import type { TunnelInputs } from "../../../provider/types";
import { ownerPrefix } from "../../../provider/tag";

// A real ed25519 public key blob (type name + 32 bytes), so the type/blob consistency check is exercised.
const KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")}`;

const good: TunnelInputs = {
  gateway: { host: "198.18.1.2", user: "pstgw", privateKeyPath: "/keys/gw", hostKey: KEY },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/n",
};

const props = (inputs: Partial<TunnelInputs>) => validateTunnelInputs(inputs).map((f) => f.property);

describe("validateTunnelInputs", () => {
  test("good inputs pass", () => expect(validateTunnelInputs(good)).toEqual([]));

  test.each(["sometimes", "", 1])("restart %j is refused, naming the two values", (restart) => {
    expect(validateTunnelInputs({ ...good, restart: restart as "always" })).toEqual([
      { property: "restart", reason: `must be "always" or "never", got ${JSON.stringify(restart)}` },
    ]);
  });

  test("every failure is reported at once, each naming its property", () => {
    expect(props({ ...good, bindPort: 0, targetPort: 70000, gateway: { ...good.gateway, user: "-oProxyCommand=x", host: "a;b" } })).toEqual(
      expect.arrayContaining(["bindPort", "targetPort", "gateway.user", "gateway.host"]),
    );
  });

  test.each(["0.0.0.0", "::", "0:0::0", "::ffff:0.0.0.0", "*", ""])("binding %j needs allowAllInterfaces", (bindAddress) => {
    expect(props({ ...good, bindAddress })).toEqual(["bindAddress"]);
  });

  test("allowAllInterfaces admits 0.0.0.0", () => {
    expect(props({ ...good, bindAddress: "0.0.0.0", allowAllInterfaces: true })).toEqual([]);
  });

  test.each([
    "host.example.net; touch /tmp/x",
    "$(id)",
    "`id`",
    "-oProxyCommand=sh",
    "a\nb",
    "a\0b",
    "exa mple",
    "ｅxample.net",
    "x".repeat(300),
    "fe80::1%eth0",
  ])("gateway host %j is refused", (host) => {
    expect(props({ ...good, gateway: { ...good.gateway, host } })).toEqual(["gateway.host"]);
  });

  test.each(["ssh-ed25519", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "ssh-ed25519 not*base64", `ssh-rsa ${KEY.split(" ")[1]}`, `${KEY}\nssh-ed25519 AAAA`])(
    "hostKey %j is refused",
    (hostKey) => {
      expect(props({ ...good, gateway: { ...good.gateway, hostKey } })).toEqual(["gateway.hostKey"]);
    },
  );

  const UNSPECIFIED = ["0.0.0.0", "::", "::ffff:0.0.0.0", "0:0:0:0:0:0:0:0"];
  test.each(UNSPECIFIED)(
    "the unspecified address %j is no host: refused as targetHost, gateway.host and connection.host, with the address to use",
    (host) => {
      const connection = { host, user: "root", privateKeyPath: "/k", hostKey: KEY };
      const failures = validateTunnelInputs({ ...good, targetHost: host, gateway: { ...good.gateway, host }, connection });
      expect(failures.map((f) => f.property)).toEqual(["connection.host", "gateway.host", "targetHost"]);
      for (const f of failures) expect(f.reason).toMatch(/unspecified address.*use 127\.0\.0\.1/);
      expect(failures.find((f) => f.property === "targetHost")!.reason).toContain("the gateway itself");
    },
  );

  test("a bind on every interface stays allowed with allowAllInterfaces, in every spelling", () => {
    for (const bindAddress of UNSPECIFIED) expect(props({ ...good, bindAddress, allowAllInterfaces: true })).toEqual([]);
  });

  test("a host key with a trailing comment is fine", () => {
    expect(props({ ...good, gateway: { ...good.gateway, hostKey: `${KEY} root@gw` } })).toEqual([]);
  });

  test("unknown values during preview pass through", () => {
    expect(
      props({ ...good, bindAddress: UNKNOWN, bindPort: UNKNOWN as unknown as number, gateway: UNKNOWN as unknown as TunnelInputs["gateway"] }),
    ).toEqual([]);
  });

  test("a private key value that is not a key is refused without echoing it", () => {
    const failures = validateTunnelInputs({ ...good, gateway: { ...good.gateway, privateKeyPath: undefined, privateKey: "hunter2" } });
    expect(failures.map((f) => f.property)).toEqual(["gateway.privateKey"]);
    expect(JSON.stringify(failures)).not.toContain("hunter2");
  });
});

describe("validateFirewallInputs", () => {
  const fw = { port: 8080, sources: ["198.51.100.0/24"], destination: "198.51.100.40", owner: "p/s/n" };
  const fprops = (i: object) => validateFirewallInputs({ ...fw, ...i }).map((f) => f.property);

  test("good inputs pass", () => expect(fprops({})).toEqual([]));
  test("host bits set names the network meant", () => {
    const [f] = validateFirewallInputs({ ...fw, sources: ["198.51.100.7/24"] });
    expect(f).toEqual({ property: "sources[0]", reason: expect.stringContaining("did you mean 198.51.100.0/24?") });
  });
  test.each([["0.0.0.0/0"], ["::/0"], ["::ffff:0.0.0.0/96"]])("source %s needs allowAnySource", (s) => {
    expect(fprops({ sources: ["198.51.100.0/24", s] })).toEqual(["sources[1]"]);
    expect(fprops({ sources: [s], allowAnySource: true })).toEqual([]);
  });
  test.each(["0.0.0.0", "::", "::ffff:0.0.0.0", "0:0:0:0:0:0:0:0", "0.0.0.0/32"])(
    "a bare unspecified source %j (one address nothing comes from) is refused, allowAnySource or not",
    (s) => {
      for (const allowAnySource of [false, true]) {
        const [f, ...rest] = validateFirewallInputs({ ...fw, sources: [s], allowAnySource });
        expect(rest).toEqual([]);
        expect(f).toEqual({
          property: "sources[0]",
          reason: expect.stringMatching(/unspecified address.*admits nobody.*0\.0\.0\.0\/0 with allowAnySource/),
        });
      }
    },
  );
  test.each(["0.0.0.0", "::", "::ffff:0.0.0.0", "0:0:0:0:0:0:0:0", "0.0.0.0/0", "::/0"])(
    "destination %j (any destination of its family) is allowed",
    (destination) => {
      expect(
        fprops({ destination, sources: [destination.includes(":") && !destination.includes("ffff") ? "2001:db8::/64" : "198.51.100.0/24"] }),
      ).toEqual([]);
    },
  );
  test.each(["198.51.100.0/24", "2001:db8::/64"])("a destination range other than /0 (%j) is refused", (destination) => {
    expect(fprops({ destination })).toEqual(["destination"]);
  });
  test.each([
    [["0.0.0.0/1", "128.0.0.0/1"]],
    [["::/1", "8000::/1"]],
    [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/8"]],
    [["::ffff:0.0.0.0/97", "128.0.0.0/1"]],
    [["0.0.0.0/1", "0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2", "2001:db8::/32"]],
  ])("sources %j together admit a whole family: they need allowAnySource too", (sources) => {
    const failures = validateFirewallInputs({ ...fw, sources });
    expect(failures).toEqual([
      { property: "sources", reason: expect.stringMatching(/together admit every IPv[46] source; narrow them, or set allowAnySource: true/) },
    ]);
    expect(fprops({ sources, allowAnySource: true })).toEqual([]);
  });
  test.each([[["0.0.0.0/1", "192.0.0.0/2"]], [["0.0.0.0/1", "::/1", "128.0.0.0/2", "8000::/2"]], [["128.0.0.0/1", "2001:db8::/32", "0.0.0.0/2"]]])(
    "sources %j leave some addresses out: no allowAnySource needed",
    (sources) => {
      expect(fprops({ sources })).toEqual([]);
    },
  );
  test("both families covered: both are named", () => {
    const failures = validateFirewallInputs({ ...fw, sources: ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"] });
    expect(failures.map((f) => f.reason)).toEqual([
      expect.stringContaining("0.0.0.0/1, 128.0.0.0/1 together admit every IPv4"),
      expect.stringContaining("::/1, 8000::/1 together admit every IPv6"),
    ]);
  });

  describe("gatesForwardsOf (set by GatedTunnel) names one resource of this stack", () => {
    test("the prefix of a resource of the same stack passes", () => {
      expect(fprops({ gatesForwardsOf: ownerPrefix({ owner: "p/s/n-forward", identity: "0123456789ab" }) })).toEqual([]);
    });
    test.each([
      "pst",
      "pst.",
      "pst.p.",
      "pst.p.s.",
      "pst.p.s.n",
      "pst.p.s.n.1795617874",
      "pst.p.s.n.0123456789ab.1795617874",
      "pst.other.s.n-forward.",
      "pst.p.other.n-forward.",
      "",
      "pst.p.s.a b.",
      7,
    ])("%j is refused", (gatesForwardsOf) => {
      expect(fprops({ gatesForwardsOf })).toEqual(["gatesForwardsOf"]);
    });
  });

  test("empty sources, bad protocol, bad backend", () => {
    expect(fprops({ sources: [], protocol: "icmp", backend: "pf" })).toEqual(["protocol", "backend", "sources"]);
  });
  test("a bad backend's message names every backend the registry has, and auto", () => {
    expect(validateFirewallInputs({ backend: "pf" } as never).find((f) => f.property === "backend")?.reason).toBe(
      'must be "auto", "ufw", "nftables" or "iptables", got "pf"',
    );
  });
  test.each(["198.51.100.0/24 port 22", "any", "198.51.100.0/24\nallow"])("ufw syntax in a source (%j) is refused", (s) => {
    expect(fprops({ sources: [s] })).toEqual(["sources[0]"]);
  });
});
