import { parseGatePairings } from "../../../provider/state/gate-pairing";

const DIR = "/run/pulumi-shared-tunnel";
const FWD = "pst.demo.ci-1.svc-forward.3f9a1c0e7b42.1795617874";
const RULE = "pst.demo.ci-1.svc-allow.a81d5e30c9f6.1795617871";

test("parseGatePairings reads '<dir>/<forward tag>.gatedby <rule tag>' lines and skips anything else", () => {
  const text = [
    `${DIR}/${FWD}.gatedby ${RULE}`,
    `/elsewhere/${FWD}.gatedby ${RULE}`,
    `${DIR}/${FWD}.gatedby not-a-tag`,
    `${DIR}/${FWD}.gatedby ${RULE} extra`,
    `${DIR}/${FWD}.log ${RULE}`,
    "",
  ].join("\n");
  expect(parseGatePairings(text, [DIR])).toEqual([{ forwardTag: FWD, ruleTag: RULE }]);
});
