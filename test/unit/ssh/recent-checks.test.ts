import { checkUnlessRecent } from "../../../provider/ssh/recent-checks";

const base = { where: "root@th:22", host: "gw", port: 22, user: "u", privateKey: "KEY", target: ["127.0.0.1", 8000] };

// Passed checks are kept for the whole process: each test checks a path of its own, so none reuses another's pass.
let tests = 0;
let path = base;
beforeEach(() => void (path = { ...base, host: `gw${++tests}` }));

test("the same path checked again within 30 s reuses the passed check", async () => {
  let runs = 0;
  const check = async () => void runs++;
  await checkUnlessRecent(path, check);
  await checkUnlessRecent({ ...path }, check);
  expect(runs).toBe(1);
});

test("checks of the same path at the same moment share one run", async () => {
  let runs = 0;
  const check = () => new Promise<void>((resolve) => setTimeout(() => resolve(void runs++), 20));
  await Promise.all([checkUnlessRecent(path, check), checkUnlessRecent(path, check), checkUnlessRecent(path, check)]);
  expect(runs).toBe(1);
});

test.each([
  ["another target port", (p: typeof base) => ({ ...p, target: ["127.0.0.1", 8001] })],
  ["another key", (p: typeof base) => ({ ...p, privateKey: "OTHER" })],
  ["another tunnel host", (p: typeof base) => ({ ...p, where: "root@th2:22" })],
])("%s is checked on its own", async (_name, vary) => {
  const other = vary(path);
  let runs = 0;
  const check = async () => void runs++;
  await checkUnlessRecent(path, check);
  await checkUnlessRecent(other, check);
  expect(runs).toBe(2);
});

test("a failed check is never kept: the next one runs again and its error reaches the caller", async () => {
  let runs = 0;
  const failing = async () => {
    runs++;
    throw new Error("open failed");
  };
  await expect(checkUnlessRecent(path, failing)).rejects.toThrow("open failed");
  await expect(checkUnlessRecent(path, failing)).rejects.toThrow("open failed");
  expect(runs).toBe(2);
});

test("a pass older than 30 s is checked again", async () => {
  let runs = 0;
  let clock = 1_000_000;
  const check = async () => void runs++;
  await checkUnlessRecent(path, check, () => clock);
  clock += 29_000;
  await checkUnlessRecent(path, check, () => clock);
  clock += 2_000;
  await checkUnlessRecent(path, check, () => clock);
  expect(runs).toBe(2);
});
