import { retry } from "../../provider/retry";

/** A policy that records the waits it is asked for and waits none of them. */
function recording() {
  const waits: number[] = [];
  return { waits, delayMs: (n: number) => (waits.push(n), 0) };
}

test("a result not worth retrying is returned at once", async () => {
  const { waits, delayMs } = recording();
  const tries: number[] = [];
  const result = await retry(async (n) => (tries.push(n), "done"), { attempts: 5, delayMs, retryResult: (r) => r !== "done" });
  expect(result).toBe("done");
  expect(tries).toEqual([1]);
  expect(waits).toEqual([]);
});

test("a result worth retrying is tried again until one is not", async () => {
  const { waits, delayMs } = recording();
  const answers = ["changed", "changed", "done"];
  const result = await retry(async (n) => answers[n - 1], { attempts: 8, delayMs, retryResult: (r) => r === "changed" });
  expect(result).toBe("done");
  expect(waits).toEqual([1, 2]);
});

test("when the tries run out, the last result is returned, without judging it or waiting after it", async () => {
  const { waits, delayMs } = recording();
  const judged: number[] = [];
  const result = await retry(async (n) => n, {
    attempts: 3,
    delayMs,
    retryResult: async (n) => (judged.push(n), true),
  });
  expect(result).toBe(3);
  expect(judged).toEqual([1, 2]);
  expect(waits).toEqual([1, 2]);
});

test("an error worth retrying is tried again; the next success is returned", async () => {
  const { waits, delayMs } = recording();
  const result = await retry(
    async (n) => {
      if (n < 3) throw new Error("Channel open failure");
      return "ran";
    },
    { attempts: 6, delayMs, retryError: (e) => /Channel open failure/.test((e as Error).message) },
  );
  expect(result).toBe("ran");
  expect(waits).toEqual([1, 2]);
});

test("an error not worth retrying is thrown at once", async () => {
  const { waits, delayMs } = recording();
  const tries: number[] = [];
  const failing = retry(
    async (n) => {
      tries.push(n);
      throw new Error("host key mismatch");
    },
    { attempts: 5, delayMs, retryError: () => false },
  );
  await expect(failing).rejects.toThrow("host key mismatch");
  expect(tries).toEqual([1]);
  expect(waits).toEqual([]);
});

test("without retryError every error is final, even with a retryResult", async () => {
  const tries: number[] = [];
  const failing = retry(
    async (n) => {
      tries.push(n);
      throw new Error("boom");
    },
    { attempts: 5, delayMs: () => 0, retryResult: () => true },
  );
  await expect(failing).rejects.toThrow("boom");
  expect(tries).toEqual([1]);
});

test("when the tries run out on errors, the last error is thrown", async () => {
  const { waits, delayMs } = recording();
  const failing = retry(
    async (n) => {
      throw new Error(`drop ${n}`);
    },
    { attempts: 4, delayMs, retryError: () => true },
  );
  await expect(failing).rejects.toThrow("drop 4");
  expect(waits).toEqual([1, 2, 3]);
});

test("the waits are the policy's own, in milliseconds", async () => {
  const started = Date.now();
  await retry(async (n) => n, { attempts: 2, delayMs: () => 50, retryResult: () => true });
  expect(Date.now() - started).toBeGreaterThanOrEqual(45);
});
