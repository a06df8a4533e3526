import { bench, describe } from "vitest";
import { normalizeAddress } from "../src/index.ts";

describe("normalizeAddress", () => {
  bench("E.164 phone number", () => {
    normalizeAddress("+14155550100");
  });
  bench("national phone number with the account's region", () => {
    normalizeAddress("(415) 555-0100", { defaultRegion: "US" });
  });
  bench("international phone number with spaces", () => {
    normalizeAddress("+44 20 7946 0958");
  });
  bench("email address", () => {
    normalizeAddress("  Jane.Doe@Example.COM ");
  });
});
