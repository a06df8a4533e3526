import { getCountries, getExampleNumber } from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { describe, expect, it } from "vitest";
import { CreateAccountInput, normalizeAddress, Region } from "../src/index.ts";

const E164 = "+14155550100";

/** Whether normalizeAddress can still read an E.164 number with `region` as the default region. */
function readsE164(region: string): boolean {
  try {
    return normalizeAddress(E164, { defaultRegion: region }).value === E164;
  } catch {
    return false;
  }
}

describe("Region", () => {
  // The invariant the account's region must keep: every phone number that reads without a region
  // still reads with it. All 676 two-letter codes, so none is missed.
  const letters = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"];
  const pairs = letters.flatMap((a) => letters.map((b) => `${a}${b}`));

  it("accepts exactly the two-letter codes with which normalizeAddress still reads E.164", () => {
    const accepted = pairs.filter((code) => Region.safeParse(code).success);
    expect(accepted).toEqual(pairs.filter(readsE164));
    expect(accepted).toEqual([...getCountries()].sort());
  });

  it.each(getCountries().map((region) => ({ region })))(
    "$region reads its own national numbers",
    ({ region }) => {
      const example = getExampleNumber(region, examples)!;
      expect(normalizeAddress(example.nationalNumber, { defaultRegion: Region.parse(region) }).value).toBe(
        example.number,
      );
    },
  );

  it.each([
    { name: "an unassigned code", value: "ZZ" },
    { name: "a reserved code", value: "EU" },
    { name: "the UK's informal code", value: "UK" },
    { name: "lower case", value: "us" },
    { name: "alpha-3", value: "USA" },
    { name: "libphonenumber's non-geographic 001", value: "001" },
    { name: "the empty string", value: "" },
    { name: "a number", value: 1 },
  ])("rejects $name with a message that says what a region is", ({ value }) => {
    const result = Region.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toMatch(/ISO 3166-1 alpha-2/);
    // Never the whole list of ~245 codes.
    expect(result.error?.issues[0]?.message.length).toBeLessThan(200);
  });
});

describe("CreateAccountInput.defaultRegion", () => {
  it("accepts a supported region and no region", () => {
    expect(CreateAccountInput.parse({ name: "Acme", defaultRegion: "GB" })).toEqual({
      name: "Acme",
      defaultRegion: "GB",
    });
    expect(CreateAccountInput.parse({ name: "Acme" })).toEqual({ name: "Acme" });
  });

  it("names the field when the region is not one libphonenumber-js knows", () => {
    const result = CreateAccountInput.safeParse({ name: "Acme", defaultRegion: "ZZ" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([["defaultRegion"]]);
  });
});
